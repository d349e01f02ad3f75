"""The volunteer's web form: Enketo's enketo-core in the browser, beside the OpenRosa routes, for volunteers without
Android. The XForm is turned into Enketo's HTML form and model here on the server (`collect.enketo_transform`,
enketo-transformer's stylesheets by lxml), because browsers are removing the XSLT that enketo-transformer's browser
build needs.

Everything is served below the volunteer's OpenRosa server URL, `.../v1/key/{token}/projects/{project}/forms/{id}/`,
so that the service worker (`webform-sw.js`) has that folder as its scope and controls the page:
- `webform`: the page (the link a volunteer gets), `webform-sw.js`, `webform-assets/…` (the bundle);
- `webform-form.json`: the form transformed for Enketo, behind the volunteer's token like the XForm itself; its
  media and submissions go through the OpenRosa routes, as ODK Collect's do.
The bundle ships built inside this package (`collect/webform_dist/`, built from `webform/` by `npm run build`, which
CI checks), so the web form works after `pip install` on a machine without Node. Its files have content-hashed
names: Starlette's StaticFiles serves them with ETags, gzipped (about 1 MB of JavaScript travels as about 250 kB), and
the service worker keeps them without asking again. When something is missing the volunteer gets a page saying so in
Spanish and English, and `webform_problem` tells the coordinator before a link is handed out.
"""

import functools
import hashlib
import json
from html import escape
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from collect import enketo_transform
from collect.errors import CollectError
from collect.openrosa import openrosa_response, run_in_threadpool, token_auth
from collect.store import FormVersion, Store

DIST = Path(__file__).resolve().parent / "webform_dist"
FORM_PATH = "/v1/key/{token}/projects/{project}/forms/{form_id}"
REBUILD = (
    "git checkout -- collect/webform_dist (a git checkout) or pip install -e . (a fresh copy of the project), "
    "or rebuild it with Node 20 or 22: cd webform && npm ci && npm run build"
)

# The page and the worker name the current bundle: always revalidate them, so that a release reaches phones.
REVALIDATE = {"Cache-Control": "no-cache"}

UNAVAILABLE_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Formulario no disponible / Form unavailable</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em;line-height:1.5}}
section+section{{border-top:1px solid #ccc;margin-top:1.5em;color:#444}} code{{background:#f3f3f3}}</style></head>
<body>
<section lang="es">
<h1>El formulario web no está disponible en este servidor</h1>
<p>No es un problema de su teléfono ni de su conexión: al servidor le falta una parte del formulario web.</p>
<p><strong>Qué hacer:</strong> avise a su coordinador/a (la persona que le dio este enlace) y muéstrele este mensaje.
Mientras tanto, si tiene un teléfono Android, use ODK Collect o KoboCollect con el código QR que le dio su
coordinador/a. Las entrevistas que ya guardó en este teléfono no se pierden: se enviarán cuando el formulario vuelva.</p>
<p>Para quien administra el servidor: {problem_es}. Solución: <code>{fix}</code> y reinicie el servidor.</p>
</section>
<section lang="en">
<h2>The web form is not available on this server</h2>
<p>This is not a problem with your phone or your connection: the server is missing part of the web form.</p>
<p><strong>What to do:</strong> tell your coordinator (the person who gave you this link) and show them this message.
Meanwhile, on an Android phone, use ODK Collect or KoboCollect with the QR code your coordinator gave you. Interviews
already saved on this phone are not lost: they are sent when the form is back.</p>
<p>For whoever runs the server: {problem_en}. Fix: <code>{fix}</code> and restart the server.</p>
</section>
</body></html>
"""


def webform_url(server_url: str, form_id: str) -> str:
    """The web form's link for a volunteer's server URL (`{base}/v1/key/{token}/projects/{project}`), to show or
    print beside the Collect QR code. Offline use needs HTTPS (or localhost): browsers give service workers only
    to secure contexts; over plain http on a LAN the form works online."""
    return f"{server_url.rstrip('/')}/forms/{form_id}/webform"


def missing_files(dist: Path = DIST) -> list[str]:
    """The files of the shipped web form that are not there (an empty list when it is whole)."""
    page = [name for name in ("index.html", "sw.js") if not (dist / name).is_file()]
    bundle = [] if list((dist / "assets").glob("webform-*.js")) else ["assets/webform-*.js"]
    transformer = [f"enketo-transformer/{name}" for name in enketo_transform.missing_files(dist / "enketo-transformer")]
    return page + bundle + transformer


def webform_problem(store: Store, form_id: str, dist: Path | None = None) -> str | None:
    """Why a volunteer's web-form link for `form_id` would not work on this server, for the coordinator (Spanish /
    English); None when it works. Checks what the page needs: the shipped files, the form published, and its
    transform for Enketo. `dist` defaults to the shipped web form."""
    dist = dist or DIST
    missing = missing_files(dist)
    if missing:
        listed = ", ".join(missing)
        return (
            f"faltan archivos del formulario web en {dist} ({listed}): ejecute {REBUILD} y reinicie la aplicación / "
            f"the web form's files are missing from {dist} ({listed}): run {REBUILD}, then restart the app"
        )
    try:
        _form_json(store, store.form_version(form_id))
    except CollectError as error:
        return f"el formulario {form_id!r} no está publicado en este servidor / the form {form_id!r} is not published on this server ({error})"
    except enketo_transform.TransformError as error:
        return f"el formulario {form_id!r} no se puede mostrar en un navegador / the form {form_id!r} cannot be shown in a browser: {error}"
    return None


def _unavailable(missing: list[str]) -> HTMLResponse:
    listed = escape(", ".join(missing))
    page = UNAVAILABLE_PAGE.format(
        problem_es=f"faltan estos archivos del formulario web: {listed}",
        problem_en=f"these web form files are missing: {listed}",
        fix=escape(REBUILD),
    )
    return HTMLResponse(page, status_code=503, headers=REVALIDATE)


@functools.lru_cache(maxsize=32)
def _transformed(form_id: str, version: str, xform_md5: str, xform: bytes, media: tuple[str, ...]) -> bytes:
    """The form transformed for Enketo, as the JSON the page loads; cached per form version (its bytes never
    change under one version: republishing a version with other content is refused)."""
    survey = enketo_transform.transform(xform, {name: f"attachments/{name}" for name in media})
    return json.dumps(
        {
            "formId": form_id,
            "version": version,
            "form": survey.form,
            "model": survey.model,
            "transformer": survey.transformer,
        }
    ).encode()


def _form_json(store: Store, form: FormVersion) -> bytes:
    return _transformed(
        form.form_id,
        form.version,
        form.xform_md5,
        store.form_xml(form.form_id, form.version),
        tuple(m.filename for m in form.media),
    )


def warm(store: Store) -> None:
    """Transform the latest version of every published form now (at start-up, after publishing), so that the first
    volunteer does not wait for it; a form that cannot be transformed is left for its page to report."""
    for form in store.latest_forms():
        try:
            _form_json(store, form)
        except enketo_transform.TransformError:
            continue


def webform_routes(store: Store, dist: Path = DIST) -> list[BaseRoute]:
    """Routes of the web form over `store`, to be listed with (before) the OpenRosa routes of the same app.

    `GET {FORM_PATH}/webform` is the page a volunteer opens (or gets as a QR code / link).
    """
    authenticate = token_auth(store)

    async def page(request: Request) -> Response:
        missing = missing_files(dist)
        if missing:
            return _unavailable(missing)
        return FileResponse(dist / "index.html", media_type="text/html; charset=utf-8", headers=REVALIDATE)

    async def service_worker(request: Request) -> Response:
        if not (dist / "sw.js").is_file():
            return _unavailable(["sw.js"])
        return FileResponse(dist / "sw.js", media_type="text/javascript; charset=utf-8", headers=REVALIDATE)

    async def form(request: Request) -> Response:
        try:
            await authenticate(request)
            version = await run_in_threadpool(store.form_version, request.path_params["form_id"])
            body = await run_in_threadpool(_form_json, store, version)
        except HTTPException as error:
            return openrosa_response(error.detail, error.status_code)
        except CollectError as error:
            return openrosa_response(
                f"este formulario no está publicado en el servidor / this form is not published on the server ({error})",
                error.status_code,
            )
        except enketo_transform.TransformError as error:
            return openrosa_response(
                f"el formulario no se puede mostrar en el navegador / the form cannot be shown in a browser: {error}",
                503,
            )
        etag = f'"{hashlib.md5(body).hexdigest()}"'
        headers = {**REVALIDATE, "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    return [
        Route(f"{FORM_PATH}/webform", page, methods=["GET"], name="webform"),
        Route(f"{FORM_PATH}/webform-sw.js", service_worker, methods=["GET"], name="webform_service_worker"),
        Route(
            f"{FORM_PATH}/webform-form.json",
            form,
            methods=["GET"],
            name="webform_form",
            middleware=[Middleware(GZipMiddleware)],
        ),
        Mount(
            f"{FORM_PATH}/webform-assets",
            app=GZipMiddleware(StaticFiles(directory=dist / "assets", check_dir=False)),
            name="webform_assets",
        ),
    ]
