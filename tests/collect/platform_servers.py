"""KoboToolbox and ODK Central as the importers meet them over HTTP: small Starlette apps served by a real uvicorn on
loopback, answering with the shapes of the platforms' own code (read with the search tool; sources per route).

Kobo (kobotoolbox/kpi):
- `GET /api/v2/assets/{uid}/data/?format=json&start&limit` → `{count, next, previous, results}` (DRF limit/offset
  pagination, `kpi/views/v2/data.py`); records keyed by XML paths with `_uuid`, `meta/rootUuid`, `__version__`,
  `_validation_status` (`{}` or `{timestamp, uid, by_whom, label}`), `_attachments`.
- `GET /api/v2/assets/{uid}/versions/{version_uid}/` → `{version_id, date_deployed, date_modified, content}`
  (`AssetVersionSerializer`); `content.settings` is the XLSForm's settings sheet.
- `_attachments[]`: `{download_url, download_large_url, download_medium_url, download_small_url, mimetype,
  filename, media_file_basename, question_xpath, uid, is_deleted}` (`SubmissionAttachment` in kpi's frontend
  types); `download_url` is `…/api/v2/assets/{uid}/data/{_id}/attachments/{attachment_uid}/`.
- `Authorization: Token …`, else 401 `{"detail": "Invalid token."}`.

Central (getodk/central-backend, `lib/resources/sessions.js`, `lib/resources/odata.js`,
`lib/resources/submissions.js`):
- `POST /v1/sessions` → `{token, expiresAt, createdAt}`; then `Authorization: Bearer {token}`.
- `GET /v1/projects/{p}/forms/{f}.svc/Submissions?$top&$skip&$count=true` → `{@odata.context, value,
  @odata.count}`; each value has `__id` (the submission's first instanceID), `__system`, groups nested.
- `GET /v1/projects/{p}/forms/{f}/submissions/{instanceId}/attachments` → `[{name, exists}]`;
  `GET …/attachments/{name}` → the bytes with their Content-Type; 404 `{code: 404.1, message}` otherwise.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from collect_samples import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """`app` on a free loopback port through uvicorn; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Kobo:
    """The state a Kobo server holds for one asset: records, deployments' settings, attachment files."""

    asset: str
    token: str
    records: list[dict] = field(default_factory=list)
    deployments: dict[str, dict] = field(default_factory=dict)  # version uid → content.settings
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # attachment uid → (bytes, mimetype)
    requests: list[str] = field(default_factory=list)
    base: str = ""

    def attachment(self, record_id: int, uid: str, filename: str, content: bytes, mimetype: str = "image/jpeg") -> dict:
        """Store a file and return the `_attachments` item Kobo lists for it."""
        self.files[uid] = (content, mimetype)
        url = f"{self.base}/api/v2/assets/{self.asset}/data/{record_id}/attachments/{uid}/"
        return {
            "download_url": url,
            "download_large_url": url + "?suffix=large",
            "download_medium_url": url + "?suffix=medium",
            "download_small_url": url + "?suffix=small",
            "mimetype": mimetype,
            "filename": f"ana/attachments/f7bef041/{uid}/{filename}",
            "media_file_basename": filename,
            "question_xpath": "photo",
            "uid": uid,
            "is_deleted": False,
        }

    def app(self) -> Starlette:
        def authorised(request: Request) -> bool:
            self.requests.append(request.url.path)
            return request.headers.get("authorization") == f"Token {self.token}"

        async def data(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"detail": "Invalid token."}, 401)
            if request.path_params["uid"] != self.asset:
                return JSONResponse({"detail": "Not found."}, 404)
            start, limit = int(request.query_params.get("start", 0)), int(request.query_params.get("limit", 100))
            end = start + limit
            following = (
                f"{self.base}/api/v2/assets/{self.asset}/data/?format=json&limit={limit}&start={end}"
                if end < len(self.records)
                else None
            )
            return JSONResponse(
                {"count": len(self.records), "next": following, "previous": None, "results": self.records[start:end]}
            )

        async def version(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"detail": "Invalid token."}, 401)
            uid = request.path_params["version"]
            if uid not in self.deployments:
                return JSONResponse({"detail": "Not found."}, 404)
            content = {"schema": "1", "survey": [], "choices": [], "settings": self.deployments[uid]}
            return JSONResponse(
                {
                    "version_id": uid,
                    "date_deployed": "2026-11-28T10:00:00Z",
                    "date_modified": "2026-11-28T10:00:00Z",
                    "content": content,
                }
            )

        async def attachment(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"detail": "Invalid token."}, 401)
            if request.path_params["attachment"] not in self.files:
                return JSONResponse({"detail": "Not found."}, 404)
            content, mimetype = self.files[request.path_params["attachment"]]
            return Response(content, media_type=mimetype)

        return Starlette(
            routes=[
                Route("/api/v2/assets/{uid}/data/", data),
                Route("/api/v2/assets/{uid}/versions/{version}/", version),
                Route("/api/v2/assets/{uid}/data/{record}/attachments/{attachment}/", attachment),
            ]
        )


@dataclass
class Central:
    """The state an ODK Central server holds for one form of one project."""

    project: int
    form: str
    submissions: list[dict] = field(default_factory=list)
    files: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)  # __id → name → (bytes, type)
    requests: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        not_found = {"message": "Could not find the resource you were looking for.", "code": 404.1}

        def authorised(request: Request) -> bool:
            self.requests.append(request.url.path)
            return request.headers.get("authorization") == "Bearer session-token"

        async def sessions(request: Request) -> Response:
            body = await request.json()
            if not body.get("email") or not body.get("password"):
                return JSONResponse(
                    {"message": "Could not authenticate with the provided credentials.", "code": 401.2}, 401
                )
            return JSONResponse(
                {
                    "token": "session-token",
                    "expiresAt": "2099-01-01T00:00:00.000Z",
                    "createdAt": "2026-12-01T00:00:00.000Z",
                }
            )

        async def odata(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"message": "Could not authenticate.", "code": 401.2}, 401)
            if int(request.path_params["project"]) != self.project or request.path_params["form"] != self.form:
                return JSONResponse(not_found, 404)
            skip, top = int(request.query_params.get("$skip", 0)), int(request.query_params.get("$top", 250))
            context = f"{request.base_url}v1/projects/{self.project}/forms/{self.form}.svc/$metadata#Submissions"
            return JSONResponse(
                {
                    "@odata.context": context,
                    "value": self.submissions[skip : skip + top],
                    "@odata.count": len(self.submissions),
                }
            )

        async def attachments(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"message": "Could not authenticate.", "code": 401.2}, 401)
            held = self.files.get(request.path_params["instance"])
            if held is None:
                return JSONResponse(not_found, 404)
            return JSONResponse([{"name": name, "exists": True} for name in held])

        async def attachment(request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"message": "Could not authenticate.", "code": 401.2}, 401)
            held = self.files.get(request.path_params["instance"], {}).get(request.path_params["name"])
            if held is None:
                return JSONResponse(not_found, 404)
            return Response(held[0], media_type=held[1])

        return Starlette(
            routes=[
                Route("/v1/sessions", sessions, methods=["POST"]),
                Route("/v1/projects/{project}/forms/{form}.svc/Submissions", odata),
                Route("/v1/projects/{project}/forms/{form}/submissions/{instance}/attachments", attachments),
                Route("/v1/projects/{project}/forms/{form}/submissions/{instance}/attachments/{name}", attachment),
            ]
        )
