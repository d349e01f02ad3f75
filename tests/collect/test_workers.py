"""OpenRosa worker processes (collect.workers): `streamlit run app.py` serves phones from processes of its own."""

import os
import signal
import stat
import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from collect.store import Store
from collect.volunteers import add_volunteer
from collect.workers import Forward, WorkerPool
from collect_samples import tiny_submission, tiny_xform
from running_app import ROOT, children, running_app

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
RESPONSE = "{http://openrosa.org/http/openrosa-response}"


def _submit(client, base: str, xml: bytes, *files: tuple[str, bytes]):
    parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))] + [(n, (n, c, "image/jpeg")) for n, c in files]
    return client.post(f"{base}/submission", files=parts)


def test_streamlit_app_serves_openrosa_from_worker_processes_it_restarts(tmp_path):
    with running_app(tmp_path) as (url, process):
        store = Store.open(f"sqlite:///{tmp_path / 'sdg16.db'}")
        volunteer = add_volunteer(store, "Ana Torres")
        base = f"{url}/v1/key/{volunteer.token}/projects/sdg16"
        listing = ET.fromstring(httpx.get(f"{base}/formList").content)
        assert "sdg16_perception" in [x.findtext(f"{XFORMS_LIST}formID") for x in listing.findall(f"{XFORMS_LIST}xform")]
        assert listing.find(f"{XFORMS_LIST}xform").findtext(f"{XFORMS_LIST}downloadUrl").startswith(base)

        socket = tmp_path / "run" / "openrosa.sock"
        assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket))) as direct:
            assert direct.head(f"http://x/v1/key/{volunteer.token}/projects/sdg16/submission").status_code == 204
        (pool,) = children(process.pid)
        assert "collect.asgi:app" in open(f"/proc/{pool}/cmdline").read()

        os.kill(pool, signal.SIGKILL)  # the supervisor starts a new pool; phones get 503s meanwhile, then service
        deadline = time.monotonic() + 60
        while (response := httpx.get(f"{base}/formList")).status_code != 200:
            assert response.status_code == 503 and "Retry-After" in response.headers
            assert time.monotonic() < deadline, "the OpenRosa workers were not restarted"
            time.sleep(0.5)
        assert children(process.pid) != [pool]
        store.close()


@pytest.fixture
def pool(tmp_path):
    """A worker pool on a SQLite store in tmp_path with the tiny form published; yields (socket, store)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    store.publish_form(tiny_xform())
    env = {**os.environ, "SDG16_DATABASE_URL": url, "SDG16_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    workers = WorkerPool(tmp_path / "openrosa.sock", 1, env).start()
    workers.wait_ready()
    yield workers.socket, store
    workers.stop()
    store.close()


def _front(socket) -> TestClient:
    """What app.py builds: Forward in front of another app (here a stand-in for Streamlit)."""
    dashboard = Starlette(routes=[Route("/", lambda request: PlainTextResponse("dashboard"))])
    return TestClient(Starlette(routes=dashboard.routes, middleware=[Middleware(Forward, socket=socket)]))


def test_forward_streams_submissions_with_attachments_and_keeps_the_phones_url(pool):
    socket, store = pool
    volunteer = add_volunteer(store, "Ana Torres", project="trujillo")
    client = _front(socket)
    base = f"/v1/key/{volunteer.token}/projects/trujillo"
    assert client.get("/").text == "dashboard"
    photo = os.urandom(3 * 1024 * 1024)
    response = _submit(client, base, tiny_submission(), ("1700000000.jpg", photo))
    assert response.status_code == 201 and response.headers["x-openrosa-version"] == "1.0"
    assert [a.content for a in store.attachments("uuid:0001")] == [photo]
    listing = ET.fromstring(client.get(f"https://phones.example.org{base}/formList").content)
    assert listing.find(f"{XFORMS_LIST}xform").findtext(f"{XFORMS_LIST}downloadUrl").startswith(f"https://phones.example.org{base}/")
    assert client.get(f"{base}/formList", params={"formID": "none"}).content.endswith(b"</xforms>")


def test_forward_answers_503_with_an_openrosa_message_while_the_workers_are_down(tmp_path):
    response = _front(tmp_path / "missing.sock").post("/projects/sdg16/submission", content=b"x")
    assert response.status_code == 503 and response.headers["retry-after"] == "10"
    message = ET.fromstring(response.content).findtext(f"{RESPONSE}message")
    assert message.startswith("El servidor de formularios") and "The form server" in message
