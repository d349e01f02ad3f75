"""OpenRosa load: submissions per second and latency (p50/p99) with 1, 10 and 50 concurrent clients, and the
form list's latency, against a real server on loopback — SQLite and, when given, PostgreSQL.

    python benchmarks/openrosa_load.py [--seconds 5] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--workers 4]   # uvicorn worker processes of the standalone server (`sdg16 serve --workers`)
    python benchmarks/openrosa_load.py --app [--seconds 10]
        # `streamlit run app.py` (SQLite, --workers OpenRosa workers): 10 clients with the dashboard idle, then
        # with 16 browser sessions reloading the sign-in page and 8 sessions guessing passwords, and the ratio;
        # [--peer /work/main]: the same for another checkout's app.py (the topology before), in the same run

Each client sends distinct submissions (a small XML like the questionnaire's, no attachments) back to back over
keep-alive, as phones emptying their outbox do. The dashboard sessions speak Streamlit's own websocket protocol, as
a browser does: a reload is GET / and a new session that runs the sign-in page; a guess submits the sign-in form.
Targets on the 2-core machine (issues 3, 13): ≥ 300 submissions/s with p99 < 250 ms at 10 clients on SQLite, with
the dashboard running under `streamlit run app.py`; under dashboard load ≥ 80 % of the idle figure; ≥ 1,000/s with
PostgreSQL and 4 workers; form list < 20 ms.
"""

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collect.store import Store  # noqa: E402
from collect.volunteers import add_volunteer  # noqa: E402
from dashboard.demo import shipped_round  # noqa: E402

# A whole interview of questionnaire v2 as a phone sends it (the demo generator's first, ~5 KB), without its audit
# log: the server checks every submission against its form version, so invented XML would be refused.
TEMPLATE = next(s for s in shipped_round(60) if not s.resend and b"<consent>yes</consent>" in s.xml)


def submission(instance_id: str) -> bytes:
    return TEMPLATE.xml.replace(TEMPLATE.instance_id.encode(), instance_id.encode())


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, data_dir: str, port: int, workers: int = 1) -> subprocess.Popen:
    env = os.environ | {"SDG16_DATABASE_URL": database_url, "SDG16_DATA_DIR": data_dir}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "collect.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    return wait_until_up(subprocess.Popen(command, cwd=REPO, env=env), f"http://127.0.0.1:{port}/")


def app_env(repo: Path, data_dir: str, workers: int) -> dict[str, str]:
    env = os.environ | {"SDG16_DATA_DIR": data_dir, "PYTHONPATH": str(repo), "SDG16_OPENROSA_WORKERS": str(workers)}
    env.pop("SDG16_DATABASE_URL", None)
    return env


def start_app(repo: Path, data_dir: str, port: int, workers: int) -> subprocess.Popen:
    """`streamlit run app.py` of the checkout `repo` on SQLite in `data_dir`."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--logger.level",
        "error",
    ]
    process = subprocess.Popen(command, cwd=repo, env=app_env(repo, data_dir, workers), stdout=subprocess.DEVNULL)
    return wait_until_up(process, f"http://127.0.0.1:{port}/_stcore/health")


def app_volunteer(repo: Path, data_dir: str) -> str:
    """A volunteer's token, made by the checkout's own CLI (its store, its migrations)."""
    command = [
        sys.executable,
        "-m",
        "sdg16.cli",
        "volunteer",
        "add",
        "bench",
        "--project",
        "bench",
        "--server-url",
        "http://h",
    ]
    output = subprocess.run(
        command, cwd=repo, env=app_env(repo, data_dir, 1), capture_output=True, text=True, check=True
    ).stdout
    return output.split("/v1/key/")[1].split("/")[0]


def wait_until_up(process: subprocess.Popen, url: str) -> subprocess.Popen:
    for _ in range(1200):
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


BOUNDARY = "sdg16benchboundary"


def post_request(host: str, path: str, xml: bytes) -> bytes:
    """One OpenRosa submission POST as ODK Collect sends it (multipart, keep-alive), as raw HTTP/1.1 bytes."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
            f"Content-Type: text/xml\r\n\r\n"
        ).encode()
        + xml
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nX-OpenRosa-Version: 1.0\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def load(port: int, path: str, clients: int, seconds: float) -> tuple[int, list[float], int]:
    """`clients` keep-alive connections posting distinct submissions back to back for `seconds`.

    Hand-written on asyncio streams on purpose: httpx's async pool collapses at 50 connections on this machine
    (a trivial 404: 150 requests/s with httpx against ~3,000/s with this loop), which would measure the client.
    """
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            request = post_request(f"127.0.0.1:{port}", path, submission(f"uuid:{uuid.uuid4()}"))
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
            errors += lines[0].split()[1] != "201"
        writer.close()
        await writer.wait_closed()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return round(len(latencies) / elapsed), latencies, errors


def run(label: str, database_url: str, seconds: float, workers: int = 1) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        store = Store.open(database_url)
        token = add_volunteer(store, f"bench-{uuid.uuid4().hex[:8]}", project="bench").token
        store.close()
        port = free_port()
        server = start_server(database_url, data_dir, port, workers)
        label = f"{label} ×{workers}" if workers > 1 else label
        base = f"http://127.0.0.1:{port}/v1/key/{token}/projects/bench"
        try:
            with httpx.Client() as http:
                form_list = []
                for _ in range(200):
                    began = time.perf_counter()
                    assert http.get(f"{base}/formList").status_code == 200
                    form_list.append(time.perf_counter() - began)
            print(
                f"{label:10s} formList            p50 {percentile(form_list, 0.5) * 1000:6.1f} ms  p99 {percentile(form_list, 0.99) * 1000:6.1f} ms"
            )
            path = f"/v1/key/{token}/projects/bench/submission"
            asyncio.run(load(port, path, 10, 1.0))  # warm-up
            for clients in (1, 10, 50):
                rate, latencies, errors = asyncio.run(load(port, path, clients, seconds))
                print(
                    f"{label:10s} {clients:2d} clients  {rate:5d} submissions/s  p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  "
                    f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  non-201: {errors}"
                )
        finally:
            server.terminate()
            server.wait(10)


def report(label: str, rate: int, latencies: list[float], errors: int) -> None:
    print(
        f"{label:34s} {rate:5d} submissions/s  p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  non-201: {errors}",
        flush=True,
    )


async def dashboard_load(port: int, reloaders: int, guessers: int, seconds: float, counts) -> None:
    """`reloaders` browser sessions reloading the sign-in page and `guessers` submitting wrong passwords, back to
    back for `seconds`; counts[0] and counts[1] are how many page runs each kind got through, counts[2] how many reloads failed."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    url, stop = f"ws://127.0.0.1:{port}/_stcore/stream", time.perf_counter() + seconds

    def rerun(widgets=()) -> bytes:
        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.widget_states.widgets.extend(widgets)
        return message.SerializeToString()

    async def page_run(socket, widgets=()) -> list:
        await socket.send(rerun(widgets))
        elements = []
        while True:
            message = ForwardMsg()
            message.ParseFromString(await socket.recv())
            if message.WhichOneof("type") == "script_finished":
                return elements
            if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
                elements.append(message.delta.new_element)

    def session():
        return websockets.connect(
            url, subprotocols=["streamlit"], origin=f"http://127.0.0.1:{port}", max_size=None, open_timeout=120
        )

    async def reloader(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            try:
                await http.get(f"http://127.0.0.1:{port}/")
                async with session() as socket:
                    await page_run(socket)
                counts[0] += 1
            except (OSError, httpx.HTTPError, websockets.WebSocketException):
                counts[2] += 1

    async def guesser(number: int) -> None:
        async with session() as socket:
            elements = await page_run(socket)
            username, password = (e.text_input.id for e in elements if e.WhichOneof("type") == "text_input")
            (submit,) = (
                e.button.id for e in elements if e.WhichOneof("type") == "button" and e.button.is_form_submitter
            )
            guess = 0
            while time.perf_counter() < stop:
                guess += 1
                await page_run(
                    socket,
                    [
                        WidgetState(id=username, string_value=("admin", f"guess{number}")[guess % 2]),
                        WidgetState(id=password, string_value=f"wrong password {guess}"),
                        WidgetState(id=submit, trigger_value=True),
                    ],
                )
                counts[1] += 1

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(reloader(http) for _ in range(reloaders)), *(guesser(n) for n in range(guessers)))


def _dashboard_load_process(port: int, reloaders: int, guessers: int, seconds: float, counts) -> None:
    asyncio.run(dashboard_load(port, reloaders, guessers, seconds, counts))


def run_app(seconds: float, workers: int, repo: Path = REPO, label: str = "app") -> None:
    """10 clients against `streamlit run app.py` of `repo`: the dashboard idle, then 16 reloaders and 8 guessers."""
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        server = start_app(repo, data_dir, port, workers)
        try:
            token = app_volunteer(repo, data_dir)
            path = f"/v1/key/{token}/projects/bench/submission"
            asyncio.run(dashboard_load(port, 1, 0, 0.1, [0, 0, 0]))  # the first page run imports the dashboard
            asyncio.run(load(port, path, 10, 1.0))  # warm-up
            idle = asyncio.run(load(port, path, 10, seconds))
            report(f"{label} ×{workers}, dashboard idle, 10 clients", *idle)
            counts = multiprocessing.Array("i", 3)
            loader = multiprocessing.Process(target=_dashboard_load_process, args=(port, 16, 8, seconds + 4, counts))
            loader.start()
            time.sleep(3)  # the sessions are open and running
            busy = asyncio.run(load(port, path, 10, seconds))
            report(f"{label} ×{workers}, 16 reloaders + 8 guessers", *busy)
            loader.join()
            print(
                f"dashboard page runs meanwhile: {counts[0]} reloads ({counts[2]} failed), {counts[1]} guesses; "
                f"under load {busy[0] / idle[0]:.0%} of idle; load average {os.getloadavg()[0]:.1f}"
            )
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each load level")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SDG16_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (a scratch schema is created and dropped)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="OpenRosa worker processes (standalone server, or the app's)"
    )
    parser.add_argument(
        "--app", action="store_true", help="measure `streamlit run app.py` with and without dashboard load"
    )
    parser.add_argument(
        "--peer", type=Path, help="with --app: measure this checkout's app.py too (e.g. /work/main, before)"
    )
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    if args.app:
        run_app(args.seconds, args.workers)
        if args.peer:
            run_app(args.seconds, args.workers, args.peer.resolve(), f"peer {args.peer.name}")
        return
    with tempfile.TemporaryDirectory() as folder:
        run("sqlite", f"sqlite:///{folder}/bench.db", args.seconds, args.workers)
    if args.postgres:
        schema = f"openrosa_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        try:
            run("postgresql", f"{args.postgres}?options=-csearch_path%3D{schema}", args.seconds, args.workers)
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
