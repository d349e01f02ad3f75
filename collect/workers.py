"""OpenRosa worker processes: phones are served by processes of their own, whatever the dashboard does.

A Streamlit script run holds the GIL of its process: sixteen visitors reloading the sign-in page once cut the
OpenRosa throughput of the shared process from 101 to 3.7 submissions/s (issue 13). So the OpenRosa routes
(`collect.asgi:app`, the web form with them) run in uvicorn worker processes on a Unix socket, and:

- `WorkerPool` starts them from `streamlit run app.py` (one port for the newcomer stays the default), restarts
  them if they die (uvicorn itself restarts a dead worker when there are several) and ends them with the app;
  with `SDG16_OPENROSA_WORKERS=0` it starts none and only forwards to a pool another service runs on the socket
  (`sdg16 serve --uds …`, deploy/);
- `Forward` is the ASGI middleware, first in the Streamlit app, that passes every request below the OpenRosa
  prefixes to the socket unchanged (streamed both ways) and everything else to Streamlit.

Why this way round (and not a front process forwarding the dashboard to Streamlit): `streamlit run` binds the
public port before it imports app.py, so only Streamlit can own the one port; the work left in the Streamlit process
per submission is a byte copy, a small part of the request's cost (benchmarks/collect.md has the figures). Behind
an HTTPS proxy (README, "Production") the proxy sends the OpenRosa prefixes to the socket directly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from collect.database import data_dir
from collect.openrosa import openrosa_response

PREFIXES = ("/v1/key/", "/projects/")  # collect.asgi's routes: token URLs (and the web form below them), Digest
SOCKET_ENV = "SDG16_OPENROSA_SOCKET"
WORKERS_ENV = "SDG16_OPENROSA_WORKERS"
START_SECONDS = 60.0  # how long the app waits for the workers at start (imports and migrations on a slow disk)
RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before restarting a pool that died, by how often it died in a row
# Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's; date and server come from
# whichever server answers the client.
HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade", b"proxy-connection"}
DROPPED_FROM_UPSTREAM = HOP_BY_HOP | {b"date", b"server"}
UNAVAILABLE = ("El servidor de formularios se está reiniciando; Collect volverá a enviar el formulario. / The form "
               "server is restarting; Collect will send the form again.")

logger = logging.getLogger("sdg16.workers")


def socket_path() -> Path:
    """`SDG16_OPENROSA_SOCKET`, else `openrosa.sock` in a private folder of the data folder.

    uvicorn makes the socket world-writable, so the folder (0700) is what keeps other users of the machine out.
    """
    if os.environ.get(SOCKET_ENV):
        return Path(os.environ[SOCKET_ENV])
    folder = data_dir() / "run"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder / "openrosa.sock"


def worker_count() -> int:
    """`SDG16_OPENROSA_WORKERS`, else 1 on SQLite (one process batches every commit into one fsync:
    collect.group_commit) and 2 on PostgreSQL (benchmarks/collect.md)."""
    if os.environ.get(WORKERS_ENV):
        return int(os.environ[WORKERS_ENV])
    url = os.environ.get("SDG16_DATABASE_URL", "sqlite")
    return 1 if url.startswith("sqlite") else 2


def uvicorn_command(socket: Path, workers: int) -> list[str]:
    """The command of the OpenRosa worker pool on `socket` (also what `sdg16 serve --uds` runs).

    No access log: it would record the volunteers' tokens. Forwarded headers are trusted from any peer, which only
    processes that can open the private socket are.
    """
    return [sys.executable, "-m", "uvicorn", "collect.asgi:app", "--uds", str(socket), "--workers", str(workers),
            "--no-access-log", "--proxy-headers", "--forwarded-allow-ips", "*", "--log-level", "warning"]


def _end_with_parent() -> None:
    """In the child: SIGTERM when the thread that started it dies, so a SIGKILLed app leaves no orphan pool."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class WorkerPool:
    """A uvicorn worker pool serving `collect.asgi:app` on a Unix socket, restarted whenever it exits.

    All starts happen in one supervising thread (the child's parent-death signal is tied to that thread).
    """

    def __init__(self, socket: Path, workers: int, env: dict[str, str] | None = None):
        self.socket, self.workers, self.env = socket, workers, env
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="sdg16-openrosa-workers", daemon=True)

    def start(self) -> WorkerPool:
        self.thread.start()
        return self

    def _spawn(self) -> subprocess.Popen:
        self.socket.unlink(missing_ok=True)  # a socket left by a pool that was killed
        command = uvicorn_command(self.socket, self.workers)
        return subprocess.Popen(command, env=self.env, preexec_fn=_end_with_parent)  # noqa: PLW1509 — no threads run in the child before exec

    def _supervise(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            began = time.monotonic()
            self.process = self._spawn()
            code = self.process.wait()
            if self.stopping.is_set():
                return
            failures = 0 if time.monotonic() - began > 60 else failures + 1
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            logger.error("sdg16: the OpenRosa workers exited (code %s); restarting them in %s s", code, delay)
            self.stopping.wait(delay)

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        """Block until the socket answers (RuntimeError after `timeout`)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(self.socket)), timeout=2) as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    client.get("http://openrosa/")
                    return
                time.sleep(0.1)
        raise RuntimeError(f"the OpenRosa workers did not answer on {self.socket} within {timeout:.0f} s")

    def stop(self) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.thread.join(5)


@contextlib.asynccontextmanager
async def serving(_app: object = None) -> AsyncIterator[dict[str, WorkerPool | None]]:
    """A lifespan (st.App's or Starlette's): start the pool of `worker_count()` workers on `socket_path()` and wait
    until it answers; stop it at shutdown. With 0 workers, start none (another service runs the pool). The pool is
    in the app's state as `openrosa_workers`."""
    count = worker_count()
    pool = WorkerPool(socket_path(), count).start() if count else None
    try:
        if pool is not None:
            await anyio.to_thread.run_sync(pool.wait_ready)
        yield {"openrosa_workers": pool}
    finally:
        if pool is not None:
            await anyio.to_thread.run_sync(pool.stop)


class Forward:
    """ASGI middleware: requests below PREFIXES go to the worker pool's socket, the rest to `app` (Streamlit).

    Bodies are streamed both ways (a submission may be 10 MB of photos). The scheme and the client's address travel
    as X-Forwarded-Proto / X-Forwarded-For, so the workers build links with the URL the phone used. While the pool
    is down, phones get a 503 OpenRosaResponse and send again later.
    """

    def __init__(self, app: ASGIApp, socket: Path | None = None):
        self.app = app
        self.socket = socket or socket_path()
        self.client: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        # Made on first use, inside the server's event loop.
        if self.client is None:
            transport = httpx.AsyncHTTPTransport(uds=str(self.socket))
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            self.client = httpx.AsyncClient(transport=transport, limits=limits, timeout=httpx.Timeout(300, connect=5))
        return self.client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        request = self._client().build_request(
            scope["method"], self._url(scope), headers=self._headers(scope), content=_body(receive)
        )
        try:
            response = await self._client().send(request, stream=True)
        except ClientDisconnect:
            return
        except httpx.TransportError as error:
            logger.error("sdg16: OpenRosa workers unavailable on %s: %s", self.socket, error)
            await openrosa_response(UNAVAILABLE, 503, {"Retry-After": "10"})(scope, receive, send)
            return
        try:
            headers = [(k, v) for k, v in response.headers.raw if k.lower() not in DROPPED_FROM_UPSTREAM]
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.TransportError as error:  # the pool died mid-answer: the phone sees a cut connection and resends
            logger.error("sdg16: OpenRosa workers broke off an answer: %s", error)
        finally:
            await response.aclose()

    @staticmethod
    def _url(scope: Scope) -> str:
        """The request's own path and query (raw: exactly as the phone sent them), on the socket's server."""
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        return "http://openrosa" + (path + (b"?" + query if query else b"")).decode("latin-1")

    @staticmethod
    def _headers(scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP and not k.startswith(b"x-forwarded-")]
        headers.append((b"x-forwarded-proto", scope["scheme"].encode()))
        if scope.get("client"):
            headers.append((b"x-forwarded-for", scope["client"][0].encode()))
        return headers


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
