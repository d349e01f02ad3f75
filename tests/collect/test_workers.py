"""OpenRosa worker processes (collect.workers): `streamlit run app.py` serves phones from processes of their own."""

import contextlib
import hashlib
import os
import signal
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from collect_samples import free_port, tiny_submission, tiny_xform
from running_app import running_app, workers
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from collect.store import Store
from collect.volunteers import add_volunteer
from collect.workers import front_app

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
RESPONSE = "{http://openrosa.org/http/openrosa-response}"


def _submit(client, base: str, xml: bytes, *files: tuple[str, bytes]):
    parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))] + [
        (n, (n, c, "image/jpeg")) for n, c in files
    ]
    return client.post(f"{base}/submission", files=parts)


def test_streamlit_app_serves_phones_from_worker_processes_it_restarts(tmp_path):
    with running_app(tmp_path) as (url, process):
        store = Store.open(f"sqlite:///{tmp_path / 'sdg16.db'}")
        volunteer = add_volunteer(store, "Ana Torres")
        base = f"{url}/v1/key/{volunteer.token}/projects/sdg16"
        listing = ET.fromstring(httpx.get(f"{base}/formList").content)
        assert "sdg16_perception" in [
            x.findtext(f"{XFORMS_LIST}formID") for x in listing.findall(f"{XFORMS_LIST}xform")
        ]
        assert listing.find(f"{XFORMS_LIST}xform").findtext(f"{XFORMS_LIST}downloadUrl").startswith(base)
        assert httpx.get(f"{url}/_stcore/health").text == "ok"  # the dashboard, through the workers
        (worker,) = workers(process.pid)

        os.kill(worker, signal.SIGKILL)  # its supervisor starts a new one
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.head(f"{base}/submission").status_code == 204:
                    break
            assert time.monotonic() < deadline, "the OpenRosa worker was not restarted"
            time.sleep(0.5)
        assert workers(process.pid) not in ([], [worker])
        store.close()


@pytest.fixture
def dashboard() -> Iterator[str]:
    """A stand-in for Streamlit on a free loopback port: an HTTP page, an upload echo and a websocket echo."""

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="streamlit")
        await websocket.send_text(f"{websocket.headers['host']} {websocket.headers['x-forwarded-for']}")
        async for data in websocket.iter_bytes():
            await websocket.send_bytes(data[::-1])

    async def upload(request):
        return PlainTextResponse(
            hashlib.sha256(await request.body()).hexdigest(),
            headers={"x-seen-proto": request.headers["x-forwarded-proto"]},
        )

    app = Starlette(
        routes=[
            Route("/", lambda request: PlainTextResponse("dashboard")),
            Route("/upload", upload, methods=["PUT"]),
            WebSocketRoute("/_stcore/stream", echo),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_worker_serves_openrosa_itself_and_forwards_the_rest_to_the_dashboard(store, volunteer, dashboard):
    with TestClient(front_app(dashboard, store)) as client:  # one event loop for all the requests, as in a worker
        base = f"/v1/key/{volunteer.token}/projects/trujillo"
        photo = os.urandom(3 * 1024 * 1024)
        response = _submit(client, base, tiny_submission(), ("1700000000.jpg", photo))
        assert response.status_code == 201 and response.headers["x-openrosa-version"] == "1.0"
        assert [a.content for a in store.attachments("uuid:0001")] == [photo]

        assert client.get("/").text == "dashboard"
        upload = client.put("https://dash.example.org/upload", content=photo)
        assert upload.text == hashlib.sha256(photo).hexdigest() and upload.headers["x-seen-proto"] == "https"
        with client.websocket_connect("/_stcore/stream", subprotocols=["streamlit", "xsrf-token"]) as websocket:
            assert websocket.accepted_subprotocol == "streamlit"
            assert websocket.receive_text() == "testserver testclient"
            websocket.send_bytes(b"rerun")
            assert websocket.receive_bytes() == b"nurer"


def test_worker_answers_503_while_the_dashboard_is_down(store):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    response = TestClient(front_app(f"http://127.0.0.1:{port}", store)).get("/")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert ET.fromstring(response.content).findtext(f"{RESPONSE}message").startswith("El panel se está iniciando")


def test_every_acknowledged_submission_survives_a_worker_sigkilled_mid_load(tmp_path):
    """Phones keep sending while the app's OpenRosa worker is SIGKILLed: every 201 is in the store byte for byte,
    and service comes back by itself."""
    with running_app(tmp_path) as (url, process):
        store = Store.open(f"sqlite:///{tmp_path / 'sdg16.db'}")
        store.publish_form(tiny_xform())
        base = f"{url}/v1/key/{add_volunteer(store, 'Ana Torres', project='trujillo').token}/projects/trujillo"
        acknowledged: dict[str, bytes] = {}
        after_kill = threading.Event()
        stop = threading.Event()

        def phone(number: int) -> None:
            with httpx.Client(timeout=30) as client:
                sent = 0
                while not stop.is_set():
                    xml = tiny_submission(f"uuid:{number}-{sent}", psu=f"B{number}-{sent}")
                    with contextlib.suppress(httpx.TransportError):
                        if _submit(client, base, xml).status_code == 201:
                            acknowledged[f"uuid:{number}-{sent}"] = xml
                            sent += 1
                            if after_kill.is_set() and len(acknowledged) > 150:
                                stop.set()

        phones = [threading.Thread(target=phone, args=(n,)) for n in range(6)]
        for thread in phones:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        (worker,) = workers(process.pid)
        os.kill(worker, signal.SIGKILL)
        after_kill.set()
        for thread in phones:
            thread.join(180)
        assert stop.is_set(), "service did not come back after the worker was killed"
        for instance_id, xml in acknowledged.items():
            assert store.submission_xml(instance_id) == xml, instance_id
        store.close()
