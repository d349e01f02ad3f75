"""The volunteer's web form: Enketo (enketo-transformer + enketo-core, bundled under webform/) beside the
OpenRosa routes, for volunteers without Android.

The page needs nothing from the server but its own URL. It sits under the volunteer's OpenRosa server URL
(`/v1/key/{token}/projects/{project}`) and talks to it exactly as a client does: formList → downloadUrl and
manifestUrl → media, then POST /submission. So the token is checked by the OpenRosa routes, the XForm and its
media are the very bytes ODK Collect gets, and no web-form-only API can drift from the protocol.

Everything is served below `.../forms/{form_id}/` so that the service worker (`webform-sw.js`) has that folder
as its scope and controls the page; the bundle is built by `cd webform && npm ci && npm run build` into
`webform/dist/`, which is not committed.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

DIST = Path(__file__).resolve().parent.parent / "webform" / "dist"
FORM_PATH = "/v1/key/{token}/projects/{project}/forms/{form_id}"
ASSETS = frozenset({"webform.js", "webform.js.map", "webform.css"})
NOT_BUILT = "The web form has not been built: run `cd webform && npm ci && npm run build`.\n"

# Revalidate every time (a 304 when unchanged): the service worker, not the HTTP cache, keeps offline copies,
# and a stale page or worker must never outlive a new release.
REVALIDATE = {"Cache-Control": "no-cache"}


def _file(path: Path, media_type: str) -> Response:
    if not path.is_file():
        return PlainTextResponse(NOT_BUILT, status_code=503)
    return FileResponse(path, media_type=media_type, headers=REVALIDATE)


def webform_routes(dist: Path = DIST) -> list[Route]:
    """Routes of the web form, to be listed with the OpenRosa routes of the same app.

    `GET {FORM_PATH}/webform` is the page a volunteer opens (or gets as a QR code / link).
    """

    async def page(request: Request) -> Response:
        return _file(dist / "index.html", "text/html; charset=utf-8")

    async def service_worker(request: Request) -> Response:
        return _file(dist / "sw.js", "text/javascript; charset=utf-8")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse(f"No web form asset named {name!r}.\n", status_code=404)
        media_type = "text/css; charset=utf-8" if name.endswith(".css") else "text/javascript; charset=utf-8"
        if name.endswith(".map"):
            media_type = "application/json"
        return _file(dist / name, media_type)

    return [
        Route(f"{FORM_PATH}/webform", page, methods=["GET"], name="webform"),
        Route(f"{FORM_PATH}/webform-sw.js", service_worker, methods=["GET"], name="webform_service_worker"),
        Route(f"{FORM_PATH}/webform-assets/{{name}}", asset, methods=["GET"], name="webform_asset"),
    ]
