"""The OpenRosa server as ODK Collect, KoboCollect and Enketo speak it: form list, form and media download,
manifest, HEAD + POST /submission.

The same endpoints are served twice, differing only in how the volunteer is identified:
- `/v1/key/{token}/projects/{project}/…` — the token in the URL (as ODK Central's app users); the URL is the
  whole configuration of a phone;
- `/projects/{project}/…` — RFC 7616 Digest (MD5, qop=auth) with the volunteer's ASCII Digest name and token, for plain-HTTP
  LANs where Collect only offers Digest.
Rules followed to the status code (see shared/reference/openrosa.md): every response carries
`X-OpenRosa-Version: 1.0` (the ASGI server adds `Date`); HEAD /submission → 204 with
`X-OpenRosa-Accept-Content-Length`; a stored submission → 201 with an OpenRosaResponse; errors → 4xx with an
OpenRosaResponse whose message Collect shows to the volunteer.
"""

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.request import parse_http_list, parse_keqv_list
from xml.sax.saxutils import escape

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collect.errors import CollectError, InvalidSubmission
from collect.store import Attachment, Store
from collect.volunteers import (
    DIGEST_REALM,
    Volunteer,
    first_use_of_nonce_count,
    volunteer_by_token,
    volunteer_digest,
)

# Collect splits a submission whose files exceed this into several POSTs (`*isIncomplete*`), so the limit only
# bounds one request's memory; 10 MB keeps a photo or two per request.
ACCEPT_CONTENT_LENGTH = 10 * 1024 * 1024
XML_TYPE = "text/xml; charset=utf-8"
# A nonce's life: afterwards the client is told `stale=true` and retries with a fresh one without asking the user.
DIGEST_NONCE_SECONDS = 3600
INCOMPLETE_PART = "*isIncomplete*"
XML_PART = "xml_submission_file"

Authenticate = Callable[[Request], Awaitable[Volunteer]]

SERVER_ERROR = (
    "Error del servidor: el formulario no se guardó; Collect lo volverá a enviar. Si se repite, avise a su "
    "coordinador. / Server error: the form was not stored; Collect will send it again. If it happens "
    "again, tell your coordinator."
)
logger = logging.getLogger("sdg16.openrosa")

# Store calls run in worker threads; a few threads keep the GIL from thrashing between dozens of them under load
# (benchmarks/openrosa_load.py, 50 clients) while SQLite writes are batched anyway (collect.group_commit).
STORE_THREADS = anyio.CapacityLimiter(8)


async def run_in_threadpool(function: Callable, *args, **kwargs):
    """Run a blocking store call in one of STORE_THREADS."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=STORE_THREADS)


class OpenRosaHeaders:
    """ASGI middleware: `X-OpenRosa-Version: 1.0` on every response, errors and 404s included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-openrosa-version", b"1.0")]
            await send(message)

        await self.app(scope, receive, send_with_header if scope["type"] == "http" else send)


class ServerErrors:
    """ASGI middleware: an unexpected error becomes a 500 OpenRosaResponse (Collect shows its message and keeps the
    form to send again) and one log line, not a traceback per request: a fault that hits every phone (a full disk,
    a database outage) would otherwise bury the log. With `SDG16_DEBUG=1`, or the `sdg16.openrosa` logger at
    DEBUG, the traceback is logged too.

    It sits inside Starlette's own ServerErrorMiddleware, which would answer a bare "Internal Server Error" and
    re-raise for uvicorn to print the traceback.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as error:
            debugging = os.environ.get("SDG16_DEBUG") == "1" or logger.isEnabledFor(logging.DEBUG)
            path = _TOKEN.sub("/v1/key/…/", scope.get("path", ""))
            logger.error(
                "500 on %s %s: %s: %s", scope.get("method"), path, type(error).__name__, error, exc_info=debugging
            )
            if not started:
                await openrosa_response(SERVER_ERROR, 500)(scope, receive, send)


# Tokens stay out of the log, as they stay out of the access log (sdg16 serve runs without one).
_TOKEN = re.compile(r"/v1/key/[^/]+/")


def openrosa_response(message: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
    """An OpenRosaResponse document: Collect shows its message to the volunteer."""
    body = f'<OpenRosaResponse xmlns="http://openrosa.org/http/openrosa-response"><message nature="">{escape(message)}</message></OpenRosaResponse>'
    return Response(body, status_code=status_code, media_type=XML_TYPE, headers=headers)


def _check_account(request: Request, volunteer: Volunteer) -> Volunteer:
    """An identified volunteer may go on only if not revoked and only in their own project (else 403)."""
    if not volunteer.active:
        raise HTTPException(403, f"the account of {volunteer.name} was revoked: ask your coordinator")
    project = request.path_params["project"]
    if volunteer.project != project:
        raise HTTPException(403, f"{volunteer.name} belongs to project {volunteer.project!r}, not {project!r}")
    return volunteer


def token_auth(store: Store) -> Authenticate:
    """Identify the volunteer by the token in the URL; unknown or revoked → 403, other project → 403."""

    async def authenticate(request: Request) -> Volunteer:
        volunteer = await run_in_threadpool(volunteer_by_token, store, request.path_params["token"])
        if volunteer is None:
            raise HTTPException(403, "unknown server link: ask your coordinator for a new one")
        return _check_account(request, volunteer)

    return authenticate


class DigestAuth:
    """RFC 7616 Digest with MD5 and qop=auth. Nonces are a timestamp signed with a secret kept in the store, so
    every replica behind a load balancer accepts every other's nonces, and live DIGEST_NONCE_SECONDS. qop=auth
    signs the method and path but not the body, so each (nonce, nc) a POST uses is recorded in the store (shared by
    the replicas too): a captured header sent again, with another submission, is refused with a fresh challenge
    marked `stale=true`, on which Collect's okhttp-digest signs again with the next nc, without asking the user.
    Reads (form list, downloads) change nothing and are not counted."""

    def __init__(self, store: Store):
        self.store = store
        self.secret = store.setting("digest_nonce_key", lambda: secrets.token_hex(32)).encode()

    def nonce(self, issued: int | None = None, salt: str | None = None) -> str:
        """A new nonce (or, given `issued` and `salt`, the one they make, to check it): `<unix time>-<random>-<HMAC
        of both>`. The random part makes every challenge's nonce its own, since its counts are tracked per nonce."""
        issued = int(time.time()) if issued is None else issued
        salt = secrets.token_hex(8) if salt is None else salt
        signature = hmac.new(self.secret, f"{issued}-{salt}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{issued}-{salt}-{signature}"

    def nonce_state(self, nonce: str) -> str:
        """`valid`, `stale` (well signed but expired: the client retries without asking the user) or `invalid`."""
        issued, _, rest = nonce.partition("-")
        salt = rest.partition("-")[0]
        if not issued.isdigit() or not hmac.compare_digest(self.nonce(int(issued), salt), nonce):
            return "invalid"
        return "valid" if time.time() - int(issued) < DIGEST_NONCE_SECONDS else "stale"

    def challenge(self, stale: bool = False) -> dict[str, str]:
        """The WWW-Authenticate header of a 401 (`stale=true`: retry with a fresh nonce, same credentials)."""
        value = (
            f'Digest realm="{DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="{self.nonce()}", opaque="{DIGEST_REALM}"'
        )
        return {"WWW-Authenticate": value + (", stale=true" if stale else "")}

    async def __call__(self, request: Request) -> Volunteer:
        """The volunteer whose Digest response is valid for this request; 401 with a challenge otherwise."""
        header = request.headers.get("authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "digest":
            raise HTTPException(
                401, "this server needs Digest authentication: set your username and password", headers=self.challenge()
            )
        params = parse_keqv_list(parse_http_list(rest))
        required = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if any(name not in params for name in required) or params["qop"] != "auth" or params["realm"] != DIGEST_REALM:
            raise HTTPException(
                401, "Digest credentials are incomplete (MD5 with qop=auth is required)", headers=self.challenge()
            )
        state = self.nonce_state(params["nonce"])
        if state != "valid":
            raise HTTPException(
                401, "the Digest nonce has expired; retry", headers=self.challenge(stale=state == "stale")
            )
        if params["uri"].split("?")[0] != request.url.path:
            raise HTTPException(400, "the Digest uri does not match the requested path")
        if params.get("opaque", DIGEST_REALM) != DIGEST_REALM or not _is_nonce_count(params["nc"]):
            raise HTTPException(401, "Digest opaque or nc is not the server's", headers=self.challenge())
        found = await run_in_threadpool(volunteer_digest, self.store, params["username"])
        if found is not None:
            volunteer, ha1 = found
            ha2 = hashlib.md5(f"{request.method}:{params['uri']}".encode()).hexdigest()
            expected = hashlib.md5(
                f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}".encode()
            ).hexdigest()
            if hmac.compare_digest(expected, params["response"]):
                volunteer = _check_account(request, volunteer)
                await self._count(request, params["nonce"], int(params["nc"], 16))
                return volunteer
        raise HTTPException(401, "wrong username or password", headers=self.challenge())

    async def _count(self, request: Request, nonce: str, nc: int) -> None:
        """Refuse a POST whose (nonce, nc) was used before: a replayed header (the client retries, stale=true)."""
        if request.method != "POST":
            return
        if not await run_in_threadpool(
            first_use_of_nonce_count, self.store, nonce, nc, timedelta(seconds=DIGEST_NONCE_SECONDS)
        ):
            raise HTTPException(
                401,
                "esta autorización Digest ya se usó; reintente / this Digest authorization was already used; retry",
                headers=self.challenge(stale=True),
            )


def _is_nonce_count(nc: str) -> bool:
    """RFC 7616's nc: 8 hexadecimal digits."""
    return len(nc) == 8 and all(c in "0123456789abcdefABCDEF" for c in nc)


def _base_url(request: Request, suffix: str) -> str:
    """This volunteer's server URL, from the request itself, so that links work behind any mount or proxy."""
    path = request.url.path
    return str(request.url.replace(path=path[: len(path) - len(suffix)], query=None))


class Endpoints:
    """The OpenRosa endpoints over one store, with one way of identifying the volunteer."""

    def __init__(self, store: Store, authenticate: Authenticate):
        self.store = store
        self.authenticate = authenticate

    async def form_list(self, request: Request) -> Response:
        """The latest version of each form, hashed as served; `?formID=` narrows it to one form."""
        await self.authenticate(request)
        base = _base_url(request, "/formList")
        only = request.query_params.get("formID")
        forms = [
            form for form in await run_in_threadpool(self.store.latest_forms) if only is None or form.form_id == only
        ]
        items = []
        for form in forms:
            manifest = (
                f"<manifestUrl>{escape(base)}/forms/{escape(form.form_id)}/manifest</manifestUrl>" if form.media else ""
            )
            items.append(
                f"<xform><formID>{escape(form.form_id)}</formID><name>{escape(form.title)}</name><version>{escape(form.version)}</version>"
                f"<hash>md5:{form.xform_md5}</hash><downloadUrl>{escape(base)}/forms/{escape(form.form_id)}.xml</downloadUrl>{manifest}</xform>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="http://openrosa.org/xforms/xformsList">'
            + "".join(items)
            + "</xforms>"
        )
        return Response(body, media_type=XML_TYPE)

    async def form_download(self, request: Request) -> Response:
        """The XForm of the latest version, byte for byte what the form list's hash was computed on."""
        await self.authenticate(request)
        return Response(
            await run_in_threadpool(self.store.form_xml, request.path_params["form_id"]), media_type=XML_TYPE
        )

    async def manifest(self, request: Request) -> Response:
        """The media files of the latest version of a form, each with its MD5 and download URL."""
        await self.authenticate(request)
        form_id = request.path_params["form_id"]
        form = await run_in_threadpool(self.store.form_version, form_id)
        base = _base_url(request, "/manifest")
        files = "".join(
            f"<mediaFile><filename>{escape(media.filename)}</filename><hash>md5:{media.md5}</hash><downloadUrl>{escape(base)}/attachments/{escape(media.filename)}</downloadUrl></mediaFile>"
            for media in form.media
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="http://openrosa.org/xforms/xformsManifest">'
            + files
            + "</manifest>"
        )
        return Response(body, media_type=XML_TYPE)

    async def media(self, request: Request) -> Response:
        """One media file of the latest version of a form."""
        await self.authenticate(request)
        content = await run_in_threadpool(
            self.store.media_file, request.path_params["form_id"], None, request.path_params["filename"]
        )
        media_type = (
            "text/csv; charset=utf-8"
            if request.path_params["filename"].endswith(".csv")
            else "application/octet-stream"
        )
        return Response(content, media_type=media_type)

    async def submission(self, request: Request) -> Response:
        """HEAD: 204 with the size limit. POST: store the submission, then 201 (after the commit)."""
        volunteer = await self.authenticate(request)
        if request.method == "HEAD":
            return Response(status_code=204, headers={"X-OpenRosa-Accept-Content-Length": str(ACCEPT_CONTENT_LENGTH)})
        body = await read_limited(request, ACCEPT_CONTENT_LENGTH)
        xml, attachments, complete = await submission_parts(request, body)
        device_id = request.query_params.get("deviceID")
        receipt = await run_in_threadpool(
            self.store.receive, xml, attachments, volunteer=volunteer.name, device_id=device_id, complete=complete
        )
        message = "Form received." if receipt.outcome == "created" else "Form already received; nothing was duplicated."
        return openrosa_response(message, 201)


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` (before reading, when the length is declared)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            413, f"the submission is {declared} bytes; this server accepts at most {limit} bytes per request"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the submission is larger than the {limit} bytes this server accepts per request")
        chunks.append(chunk)
    return b"".join(chunks)


async def submission_parts(request: Request, body: bytes) -> tuple[bytes, list[Attachment], bool]:
    """Split a multipart submission into its XML, its attachments and whether it is the last part of a split upload."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidSubmission("a submission must be multipart/form-data with an xml_submission_file part")

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(
            max_files=1000, max_fields=1000, max_part_size=ACCEPT_CONTENT_LENGTH
        )
    except MultiPartException as error:
        raise InvalidSubmission(f"the multipart body cannot be read ({error.message})") from None
    try:
        xml_part = form.get(XML_PART)
        if xml_part is None:
            raise InvalidSubmission("the submission has no xml_submission_file part")
        xml = await xml_part.read() if isinstance(xml_part, UploadFile) else xml_part.encode()
        attachments = [
            Attachment(part.filename or name, await part.read(), part.content_type)
            for name, part in form.multi_items()
            if name not in (XML_PART, INCOMPLETE_PART) and isinstance(part, UploadFile)
        ]
        complete = str(form.get(INCOMPLETE_PART, "no")).strip().lower() != "yes"
    finally:
        await form.close()
    return xml, attachments, complete


async def _http_error(request: Request, error: HTTPException) -> Response:
    return openrosa_response(error.detail, error.status_code, error.headers)


async def _collect_error(request: Request, error: CollectError) -> Response:
    return openrosa_response(str(error), error.status_code)


def _endpoints_app(endpoints: Endpoints) -> Starlette:
    return Starlette(
        routes=[
            Route("/formList", endpoints.form_list, methods=["GET"]),
            Route("/forms/{form_id}.xml", endpoints.form_download, methods=["GET"]),
            Route("/forms/{form_id}/manifest", endpoints.manifest, methods=["GET"]),
            Route("/forms/{form_id}/attachments/{filename}", endpoints.media, methods=["GET"]),
            Route("/submission", endpoints.submission, methods=["HEAD", "POST"]),
        ],
        middleware=[Middleware(ServerErrors)],
        exception_handlers={HTTPException: _http_error, CollectError: _collect_error},
    )


def routes(store: Store) -> list[BaseRoute]:
    """The OpenRosa routes over `store`, for `st.App(..., routes=routes(store))` or a plain Starlette app."""
    token_app = OpenRosaHeaders(_endpoints_app(Endpoints(store, token_auth(store))))
    digest_app = OpenRosaHeaders(_endpoints_app(Endpoints(store, DigestAuth(store))))
    return [Mount("/v1/key/{token}/projects/{project}", app=token_app), Mount("/projects/{project}", app=digest_app)]
