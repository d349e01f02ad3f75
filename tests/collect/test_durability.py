"""Acknowledged means stored: the server is SIGKILLed while several clients are sending, restarted, and every
submission that got a 201 must be in the store byte for byte."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from collect_samples import free_port, tiny_submission, tiny_xform

from collect.store import Store
from collect.volunteers import add_volunteer

REPO = Path(__file__).resolve().parents[2]
CLIENTS = 8
ACKS_BEFORE_KILL = 150


def start_server(database_url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = os.environ | {"SDG16_DATABASE_URL": database_url, "SDG16_DATA_DIR": str(data_dir)}
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
    ]
    process = subprocess.Popen(command, cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/nothing", timeout=1).status_code == 404:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def test_every_acknowledged_submission_survives_sigkill(database_url, tmp_path):
    store = Store.open(database_url)
    store.publish_form(tiny_xform())
    token = add_volunteer(store, "Ana", project="p").token
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/key/{token}/projects/p/submission"
    server = start_server(database_url, tmp_path, port)
    acknowledged: dict[str, bytes] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(timeout=10) as http:
            for sequence in range(100_000):
                instance_id = f"uuid:client{number}-{sequence}"
                xml = tiny_submission(instance_id, psu=f"B{sequence}")
                try:
                    response = http.post(url, files={"xml_submission_file": ("s.xml", xml, "text/xml")})
                except httpx.TransportError:
                    if killed.is_set():
                        return
                    continue
                if response.status_code == 201:
                    with lock:
                        acknowledged[instance_id] = xml

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.set()
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= ACKS_BEFORE_KILL

    server = start_server(database_url, tmp_path, port)
    try:
        store = Store.open(database_url)
        missing = [i for i, xml in acknowledged.items() if store.submission_xml(i) != xml]
        assert missing == []
        instance_id, xml = next(iter(acknowledged.items()))
        resend = httpx.post(url, files={"xml_submission_file": ("s.xml", xml, "text/xml")})
        assert resend.status_code == 201 and "already received" in resend.text
        store.close()
    finally:
        server.terminate()
        server.wait(10)
