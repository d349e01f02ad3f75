"""OpenRosa load: submissions per second and latency (p50/p99) with 1, 10 and 50 concurrent clients, and the
form list's latency, against a real uvicorn server on loopback — SQLite and, when given, PostgreSQL.

    python benchmarks/openrosa_load.py [--seconds 5] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each client sends distinct submissions (a small XML like the questionnaire's, no attachments) back to back over
keep-alive, as phones emptying their outbox do. Target on the 2-core machine: ≥ 300 submissions/s sustained on
SQLite with p99 < 250 ms at 10 clients; form list < 20 ms.
"""

import argparse
import asyncio
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
from forms.build import SHIPPED_FORM_ID, build_all  # noqa: E402

FORM = next(form for form in build_all() if form.form_id == SHIPPED_FORM_ID)
ANSWERS = "".join(
    f"<{name}>{value}</{name}>"
    for name, value in [
        ("district", "trujillo"), ("neighbourhood", "trujillo"), ("block", "T-021"), ("contact_result", "contact"), ("consent", "yes"), ("age", "34"), ("sex", "female"),
        ("education", "secondary"), ("feels_safe_after_dark", "unsafe"), ("robbery_force_12m", "yes"), ("reported_robbery", "no"),
        ("contact_official_12m", "yes"), ("bribe_asked_12m", "no"), ("bribe_paid_12m", "no"), ("say_in_government", "very_little"),
        ("main_problems", "robbery gangs drugs"), ("trust_police", "little"),
    ]
)


def submission(instance_id: str) -> bytes:
    return (
        f'<?xml version="1.0"?><data id="{FORM.form_id}" version="{FORM.version}"><deviceid>collect:bench</deviceid>{ANSWERS}'
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, data_dir: str, port: int) -> subprocess.Popen:
    env = os.environ | {"SDG16_DATABASE_URL": database_url, "SDG16_DATA_DIR": data_dir}
    command = [sys.executable, "-m", "uvicorn", "collect.asgi:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=REPO, env=env)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
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
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
        f"Content-Type: text/xml\r\n\r\n"
    ).encode() + xml + f"\r\n--{BOUNDARY}--\r\n".encode()
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


def run(label: str, database_url: str, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        store = Store.open(database_url)
        token = add_volunteer(store, f"bench-{uuid.uuid4().hex[:8]}", project="bench").token
        store.close()
        port = free_port()
        server = start_server(database_url, data_dir, port)
        base = f"http://127.0.0.1:{port}/v1/key/{token}/projects/bench"
        try:
            with httpx.Client() as http:
                form_list = []
                for _ in range(200):
                    began = time.perf_counter()
                    assert http.get(f"{base}/formList").status_code == 200
                    form_list.append(time.perf_counter() - began)
            print(f"{label:10s} formList            p50 {percentile(form_list, 0.5) * 1000:6.1f} ms  p99 {percentile(form_list, 0.99) * 1000:6.1f} ms")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each load level")
    parser.add_argument("--postgres", default=os.environ.get("SDG16_TEST_POSTGRES_URL"), help="PostgreSQL URL (a scratch schema is created and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("sqlite", f"sqlite:///{folder}/bench.db", args.seconds)
    if args.postgres:
        schema = f"openrosa_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        try:
            run("postgresql", f"{args.postgres}?options=-csearch_path%3D{schema}", args.seconds)
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
