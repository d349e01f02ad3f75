"""The real thing for the web form's tests: our collection server (uvicorn `collect.asgi:app`, which publishes the
shipped questionnaire) on a free loopback port with its own data folder, volunteers created in its store, and
Debian's Chromium driven by Playwright with a fresh profile per test (own service worker, cache and IndexedDB).
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collect.store import Store
from collect.volunteers import add_volunteer
from collect.webform import DIST
from webform_interview import FORM_ID

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
SERVER_START_SECONDS = 120  # publishing builds the questionnaire and runs ODK Validate (a JVM) on a cold cache


@dataclass(frozen=True)
class Server:
    base_url: str
    store: Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the collection server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the collection server did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """`uvicorn collect.asgi:app` with a fresh SQLite store, as a coordinator would run it."""
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the web form bundle is missing ({DIST}): run `cd webform && npm ci && npm run build`")
    data_dir = tmp_path_factory.mktemp("sdg16-data")
    env = {**os.environ, "SDG16_DATA_DIR": str(data_dir)}
    env.pop("SDG16_DATABASE_URL", None)
    port = _free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "collect.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base_url, log)
        store = Store.open(f"sqlite:///{data_dir / 'sdg16.db'}")
        yield Server(base_url, store)
        store.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def volunteer(server, request):
    """A new volunteer (named after the test, so that their submissions are theirs alone) and the URL of their
    web form, i.e. their OpenRosa server URL + /forms/{form}/webform."""
    name = request.node.name
    account = add_volunteer(server.store, name)
    return name, f"{account.server_url(server.base_url)}/forms/{FORM_ID}/webform"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile: its own service worker registration, Cache Storage and IndexedDB."""
    context = browser.new_context(locale="es-PE", viewport={"width": 412, "height": 915})
    yield context
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

