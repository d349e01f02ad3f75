"""The real thing in a real browser: `streamlit run app.py`, first-run admin, demo round, every page.

Uses Playwright for Python driving Debian's /usr/bin/chromium (never `playwright install`). Screenshots of each
page land in test-artifacts/ (git-ignored) so that anyone can look at them.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
NEW_PASSWORD = "a browser-test password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_launch):
    """`streamlit run app.py` on a free port with an empty data dir; yields (url, console log path)."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    log = data_dir / "console.log"
    port = _free_port()
    env = {**os.environ, "SDG16_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("SDG16_DATABASE_URL", None)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log.open("w") as console:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=console, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start:\n" + log.read_text())
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(server, chromium_launch):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _shot(page, name: str) -> None:
    page.wait_for_timeout(1500)  # let charts and maps finish drawing
    page.screenshot(path=ARTIFACTS / f"dashboard-{name}.png", full_page=True)


def _open(page, title: str) -> None:
    """Go to a page through the sidebar (a reload would start a new, signed-out session)."""
    page.locator("[data-testid='stSidebarNavLink']", has_text=title).click()
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)


def test_first_run_demo_and_every_page(server, page):
    url, log = server
    one_time = re.search(r"one-time password\s+(\S+)", _wait_for(log, "one-time password")).group(1)

    page.goto(url)
    page.get_by_role("textbox", name="Username").wait_for()
    _shot(page, "sign-in")
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Choose a new password").wait_for()
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    page.get_by_role("button", name="Load the demo round").click()
    page.get_by_text("Synthetic data — demo round").first.wait_for(timeout=600_000)

    _open(page, "Estimates")
    page.get_by_text("Synthetic data — demo round").first.wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    _shot(page, "estimates")
    page.get_by_role("tab", name="Chart").click()
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    _shot(page, "estimates-chart")
    page.get_by_role("tab", name="Map").click()
    page.locator("[data-testid='stDeckGlJsonChart']").first.wait_for()
    _shot(page, "estimates-map")
    page.get_by_role("tab", name="Rounds").click()
    page.get_by_text("change = B − A").first.wait_for()
    page.locator("[data-testid='stVegaLiteChart']:visible canvas, [data-testid='stVegaLiteChart']:visible svg").first.wait_for()
    assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0
    page.set_viewport_size({"width": 1280, "height": 2400})  # the table and the chart below the round pickers
    _shot(page, "estimates-rounds")
    page.set_viewport_size({"width": 1280, "height": 900})

    for title, drawn in (("Field monitoring", "Per neighbourhood"), ("Downloads", "Tidy table (CSV)"),
                         ("Volunteers & forms", "Add a volunteer"), ("Import", "Exported from"),
                         ("Account", "Dashboard accounts")):
        _open(page, title)
        page.get_by_text(drawn).first.wait_for()
        page.get_by_text("Synthetic data — demo round").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0, title
        _shot(page, title.split()[0].lower())
        if title == "Downloads":
            _check_downloads(page)

    _open(page, "Field monitoring")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the sidebar folds away, columns stack
    page.get_by_text("Synthetic data — demo round").first.wait_for()
    _shot(page, "field-monitoring-phone")


def _check_downloads(page) -> None:
    """The files are made when clicked (Streamlit runs the callable then): the bytes must really arrive."""
    for label, start in (("Tidy table (CSV)", b"indicator,series,name,by,area,group,estimate"),
                         ("Methods note (Markdown)", b"# Methods note")):
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name=label).click()
        assert Path(download.value.path()).read_bytes().startswith(start), label


def _wait_for(log: Path, text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.5)
    pytest.fail(f"{text!r} never appeared on the console:\n{log.read_text()}")
