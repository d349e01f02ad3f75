"""The collection server as an ASGI application.

- `routes(store=None)`: everything collect serves (the volunteer web form's pages, then the OpenRosa routes) for
  `st.App("dashboard/main.py", routes=routes())` in app.py, so that `streamlit run app.py` serves both;
- `app`: the same routes as a standalone Starlette app, `uvicorn collect.asgi:app`, e.g. for several replicas
  behind a load balancer on one PostgreSQL.
Both open the configured store (`collect.database`), publish the shipped forms first (idempotent) and transform
them for the web form (cached per form version).
"""

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from collect import openrosa
from collect.publish import publish_shipped_forms
from collect.store import Store
from collect.webform import warm, webform_routes


def routes(store: Store | None = None) -> list[BaseRoute]:
    """The routes over `store` (default: `Store.open()`), after publishing the shipped forms into it.

    The web form's routes come first: they live below a volunteer's server URL, which the OpenRosa mounts
    would otherwise claim.
    """
    store = store or Store.open()
    publish_shipped_forms(store)
    warm(store)
    return [*webform_routes(store), *openrosa.routes(store)]


def create_app(store: Store | None = None) -> Starlette:
    """A standalone Starlette app serving `routes(store)`."""
    return Starlette(routes=routes(store))


def __getattr__(name: str) -> Starlette:
    # `app` is built on first access, not at import, so that importing `routes` (as app.py does) opens no store.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
