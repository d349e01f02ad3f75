"""The volunteer's web form: Enketo (enketo-transformer + enketo-core, bundled under webform/) beside the
OpenRosa routes, for volunteers without Android.

The page needs nothing from the server but its own URL. It sits under the volunteer's OpenRosa server URL
(`/v1/key/{token}/projects/{project}`) and talks to it exactly as a client does: formList → downloadUrl and
manifestUrl → media, then POST /submission. So the token is checked by the OpenRosa routes, the XForm and its
media are the very bytes ODK Collect gets, and no web-form-only API can drift from the protocol.

Everything is served below `.../forms/{form_id}/` so that the service worker (`webform-sw.js`) has that folder
as its scope and controls the page. The bundle is built by `cd webform && npm ci && npm run build` into
`webform/dist/` (not committed); its files have content-hashed names, so they are served by Starlette's
StaticFiles (ETag, 304) and the service worker keeps them without asking again. They are gzipped on the way
(2 MB of JavaScript become about 450 kB): a phone downloads them once per release, often over mobile data.
"""

from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

# The checkout's webform/dist, or the copy an installed wheel carries as sdg16/webform (setup.py).
DIST = next((d for d in (Path(__file__).resolve().parent.parent / p for p in ("webform/dist", "sdg16/webform")) if d.is_dir()),
            Path(__file__).resolve().parent.parent / "webform" / "dist")
FORM_PATH = "/v1/key/{token}/projects/{project}/forms/{form_id}"
NOT_BUILT = "The web form has not been built: run `cd webform && npm ci && npm run build`.\n"

# The page and the worker name the current bundle: always revalidate them, so that a release reaches phones.
REVALIDATE = {"Cache-Control": "no-cache"}


def webform_url(server_url: str, form_id: str) -> str:
    """The web form's link for a volunteer's server URL (`{base}/v1/key/{token}/projects/{project}`), to show or
    print beside the Collect QR code. Offline use needs HTTPS (or localhost): browsers give service workers only
    to secure contexts; over plain http on a LAN the form works online."""
    return f"{server_url.rstrip('/')}/forms/{form_id}/webform"


def _file(path: Path, media_type: str) -> Response:
    if not path.is_file():
        return PlainTextResponse(NOT_BUILT, status_code=503)
    return FileResponse(path, media_type=media_type, headers=REVALIDATE)


def webform_routes(dist: Path = DIST) -> list[BaseRoute]:
    """Routes of the web form, to be listed with (before) the OpenRosa routes of the same app.

    `GET {FORM_PATH}/webform` is the page a volunteer opens (or gets as a QR code / link).
    """

    async def page(request: Request) -> Response:
        return _file(dist / "index.html", "text/html; charset=utf-8")

    async def service_worker(request: Request) -> Response:
        return _file(dist / "sw.js", "text/javascript; charset=utf-8")

    return [
        Route(f"{FORM_PATH}/webform", page, methods=["GET"], name="webform"),
        Route(f"{FORM_PATH}/webform-sw.js", service_worker, methods=["GET"], name="webform_service_worker"),
        Mount(f"{FORM_PATH}/webform-assets", app=GZipMiddleware(StaticFiles(directory=dist / "assets", check_dir=False)), name="webform_assets"),
    ]
