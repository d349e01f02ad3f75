"""OpenRosa worker processes in front of the dashboard: phones are served by processes of their own, whatever the
dashboard does.

A Streamlit script run holds the GIL of its process, and Streamlit's event loop does real work for every new
browser session: sixteen visitors reloading the sign-in page cut the OpenRosa throughput of the shared process
from 101 to 3.7 submissions/s (issue 13). Forwarding the OpenRosa paths *from* the Streamlit process to workers was
measured first and kept the problem (1 submission/s under the same dashboard load: the forwarding waits for
Streamlit's event loop; benchmarks/collect.md). So it is the other way round:

- the public port is served by worker processes (uvicorn, `front_app`): each answers the OpenRosa routes and the
  web form itself (collect.asgi) and forwards every other request, HTTP or websocket, to Streamlit on a private
  loopback port (`DashboardProxy`);
- `streamlit run app.py` stays the one command on one port: Streamlit binds the public port before it imports
  app.py, so the app's lifespan (`serving`, which runs before Streamlit starts accepting) hands that listening
  socket to the workers and puts a private listening socket under the same file descriptor for Streamlit. It
  starts `worker_count()` workers, restarts any that dies and ends them with the app; the dashboard's threads run
  at a lower CPU priority (DASHBOARD_NICE) so that on a busy machine the phones' work goes first.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator

import anyio
import httpx
import websockets
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from collect.openrosa import openrosa_response

WORKERS_ENV = "SDG16_OPENROSA_WORKERS"
DASHBOARD_NICE = 5  # added to the dashboard threads' nice value: the workers (nice 0) go first when cores are short
START_SECONDS = 90.0  # how long the app waits for its workers at start (imports and migrations on a slow disk)
RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before restarting a worker that died, by how often it died in a row
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message; date and server come from
# whichever server answers the client.
HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade", b"proxy-connection"}
DROPPED_FROM_UPSTREAM = HOP_BY_HOP | {b"date", b"server"}
UNAVAILABLE = (
    "El panel se está iniciando o reiniciando; vuelva a cargar la página en unos segundos. / The dashboard "
    "is starting or restarting; reload the page in a few seconds."
)

logger = logging.getLogger("sdg16.workers")


def worker_count() -> int:
    """`SDG16_OPENROSA_WORKERS`, else 1 on SQLite (one process batches concurrent commits into one fsync:
    collect.group_commit) and 2 on PostgreSQL (benchmarks/collect.md)."""
    if os.environ.get(WORKERS_ENV):
        return max(1, int(os.environ[WORKERS_ENV]))
    return 1 if os.environ.get("SDG16_DATABASE_URL", "sqlite").startswith("sqlite") else 2


# --- in the Streamlit process: hand the public socket to supervised workers ------------------------------------


def _end_with_parent() -> None:
    """In the child: SIGTERM when the thread that started it ends, so a killed app leaves no orphan worker."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Worker:
    """One worker process serving `front_app` on the inherited socket `fd`, restarted whenever it exits.

    It is started by its own supervising thread (the child's parent-death signal is tied to that thread), made
    before the dashboard's threads are niced, so workers keep nice 0.
    """

    def __init__(self, fd: int, dashboard_url: str, env: dict[str, str] | None = None):
        self.command = [sys.executable, "-m", "collect.workers", "--fd", str(fd), "--dashboard", dashboard_url]
        self.fd, self.env = fd, env
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="sdg16-openrosa-worker", daemon=True)
        self.thread.start()

    def _supervise(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            began = time.monotonic()
            self.process = subprocess.Popen(
                self.command, env=self.env, pass_fds=(self.fd,), preexec_fn=_end_with_parent
            )  # noqa: PLW1509
            code = self.process.wait()
            if self.stopping.is_set():
                return
            failures = 0 if time.monotonic() - began > 60 else failures + 1
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            logger.error("sdg16: an OpenRosa worker exited (code %s); starting a new one in %s s", code, delay)
            self.stopping.wait(delay)

    def stop(self) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.thread.join(5)


def _public_socket(port: int) -> int:
    """The file descriptor of the listening TCP socket Streamlit bound on `port` (before it serves on it)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):
            probe = socket.socket(fileno=os.dup(fd))
            with probe:
                listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                if probe.type == socket.SOCK_STREAM and listening and probe.getsockname()[1] == port:
                    return fd
    raise RuntimeError(f"no listening socket on port {port} in this process")


def hand_over(port: int) -> tuple[int, str, str]:
    """Give the public socket on `port` a second descriptor (for the workers) and put a private listening socket on
    loopback (same address family) under its first one, the descriptor Streamlit's server is about to serve.

    Returns (the public socket's new descriptor, its URL from this machine, the private socket's URL)."""
    fd = _public_socket(port)
    with socket.socket(fileno=os.dup(fd)) as public_socket:
        family, address = public_socket.family, public_socket.getsockname()[0]
    loopback = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    private = socket.socket(family, socket.SOCK_STREAM)
    private.bind((loopback, 0))
    private.listen(2048)
    private_port = private.getsockname()[1]
    public = os.dup(fd)
    os.set_inheritable(public, True)
    os.dup2(private.fileno(), fd, inheritable=False)
    private.close()
    reachable = loopback if address in ("0.0.0.0", "::") else address
    return public, _url(reachable, port), _url(loopback, private_port)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _lower_priority(keep: list[Worker]) -> None:
    """Nice the dashboard's threads (the warmer, the event loop, and so every session thread it starts from now on:
    Linux nice is per thread and inherited), all but the workers' supervisors, whose workers stay at nice 0."""
    supervisors = {worker.thread.native_id for worker in keep}
    for task in os.listdir("/proc/self/task"):
        if int(task) not in supervisors:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, int(task), os.getpriority(os.PRIO_PROCESS, int(task)) + DASHBOARD_NICE)


def _wait_ready(public_url: str, timeout: float = START_SECONDS) -> None:
    """Block until a worker answers an OpenRosa request on the public port (the answer is a 403: no such token)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{public_url}/v1/key/-/projects/-/formList", timeout=2).status_code == 403:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the OpenRosa workers did not answer on {public_url} within {timeout:.0f} s")


@contextlib.asynccontextmanager
async def serving(_app: object = None) -> AsyncIterator[dict[str, list[Worker]]]:
    """st.App's lifespan in app.py: the workers take over Streamlit's public port, Streamlit moves to a private one.

    Runs in Streamlit's event-loop thread before it accepts connections; the workers are in the app's state as
    `openrosa_workers`."""
    from streamlit import config

    public, public_url, dashboard = hand_over(config.get_option("server.port"))
    workers = [Worker(public, dashboard) for _ in range(worker_count())]
    _lower_priority(workers)
    try:
        await anyio.to_thread.run_sync(_wait_ready, public_url)
        yield {"openrosa_workers": workers}
    finally:
        await anyio.to_thread.run_sync(lambda: [worker.stop() for worker in workers])
        os.close(public)


# --- in a worker: OpenRosa here, everything else forwarded to the dashboard -------------------------------------


class DashboardProxy:
    """ASGI app forwarding HTTP requests and websockets, unchanged, to the dashboard at `url` (Streamlit).

    Bodies are streamed both ways (uploads of imports, downloads of exports). The Host header travels unchanged (the
    dashboard checks a websocket's Origin against it); the client's address and scheme as X-Forwarded-For/-Proto,
    which Streamlit's uvicorn takes from a loopback peer.
    """

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.address = (httpx.URL(self.url).host, httpx.URL(self.url).port)
        self.client: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:  # made on first use, inside the worker's event loop
            # Idle connections are dropped before Streamlit's uvicorn drops them (after 5 s), so that a request is not
            # sent on a connection the dashboard is closing.
            limits = httpx.Limits(max_connections=500, max_keepalive_connections=100, keepalive_expiry=2.0)
            self.client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(600, connect=5))
        return self.client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    @staticmethod
    def _target(scope: Scope) -> str:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        return (path + (b"?" + query if query else b"")).decode("latin-1")

    @staticmethod
    def _headers(scope: Scope, drop: set[bytes] = HOP_BY_HOP) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in scope["headers"] if k not in drop and not k.startswith(b"x-forwarded-")]
        headers.append(
            (b"x-forwarded-proto", {"wss": b"https", "ws": b"http"}.get(scope["scheme"], scope["scheme"].encode()))
        )
        if scope.get("client"):
            headers.append((b"x-forwarded-for", scope["client"][0].encode()))
        return headers

    async def _send(self, scope: Scope, receive: Receive) -> httpx.Response:
        """The dashboard's answer; a bodiless request is sent again once on a fresh connection if a kept-alive one
        was closed under it (a request with a body cannot be: its body has gone)."""
        method, url, headers = scope["method"], self.url + self._target(scope), self._headers(scope)
        bodiless = method in ("GET", "HEAD", "OPTIONS")
        request = self._client().build_request(
            method, url, headers=headers, content=b"" if bodiless else _body(receive)
        )
        try:
            return await self._client().send(request, stream=True)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if not bodiless:
                raise
            return await self._client().send(self._client().build_request(method, url, headers=headers), stream=True)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._send(scope, receive)
        except ClientDisconnect:
            return
        except httpx.TransportError as error:
            logger.error("sdg16: the dashboard does not answer: %s", error)
            await openrosa_response(UNAVAILABLE, 503, {"Retry-After": "5"})(scope, receive, send)
            return
        try:
            headers = [(k, v) for k, v in response.headers.raw if k.lower() not in DROPPED_FROM_UPSTREAM]
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.TransportError as error:
            logger.error("sdg16: the dashboard broke off an answer: %s", error)
        finally:
            await response.aclose()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = WebSocket(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        drop = HOP_BY_HOP | {
            b"host",
            b"origin",
            b"sec-websocket-key",
            b"sec-websocket-version",
            b"sec-websocket-protocol",
            b"sec-websocket-extensions",
        }
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._headers(scope, drop)]
        origin = dict(scope["headers"]).get(b"origin")
        try:
            # Connected to the private port, but asking for the browser's Host.
            upstream = await websockets.connect(
                f"ws://{host}{self._target(scope)}",
                sock=socket.create_connection(self.address),
                subprotocols=scope.get("subprotocols") or None,
                additional_headers=headers,
                origin=origin.decode("latin-1") if origin else None,
                max_size=None,
                compression=None,
                ping_interval=None,
                open_timeout=60,
            )  # as long as a browser waits for a busy dashboard
        except (OSError, websockets.InvalidHandshake) as error:
            logger.error("sdg16: the dashboard refused a websocket: %s", error)
            await client.close(code=1013)  # try again later
            return
        await client.accept(subprotocol=upstream.subprotocol)

        async def to_dashboard() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await client.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    await upstream.send(message["bytes"] if message.get("bytes") is not None else message["text"])

        async def to_browser() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for message in upstream:
                    await (client.send_bytes(message) if isinstance(message, bytes) else client.send_text(message))

        async with anyio.create_task_group() as tasks:

            async def pump(direction) -> None:
                with contextlib.suppress(Exception):
                    await direction()
                tasks.cancel_scope.cancel()

            tasks.start_soon(pump, to_dashboard)
            tasks.start_soon(pump, to_browser)
        await upstream.close()
        with contextlib.suppress(Exception):
            await client.close()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def front_app(dashboard_url: str, store=None) -> Starlette:
    """What a worker serves: collect's routes (OpenRosa, web form), and the dashboard for every other path."""
    from collect.asgi import routes

    return Starlette(routes=[*routes(store), Mount("/", app=DashboardProxy(dashboard_url))])


def main() -> None:
    """`python -m collect.workers --fd N --dashboard URL`: one worker on an inherited listening socket."""
    import uvicorn

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--dashboard", required=True)
    args = parser.parse_args()
    listening = socket.socket(fileno=args.fd)
    # No access log: it would record the volunteers' tokens. Forwarded headers are taken from loopback peers (an
    # HTTPS proxy on this machine), uvicorn's default.
    config = uvicorn.Config(
        front_app(args.dashboard),
        log_level="warning",
        access_log=False,
        ws_max_size=200 * 1024 * 1024,
        ws_ping_interval=None,
    )
    uvicorn.Server(config).run(sockets=[listening])


if __name__ == "__main__":
    main()
