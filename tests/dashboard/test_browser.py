"""The real thing in a real browser: `streamlit run app.py`, first-run admin in a Spanish browser, demo round,
every page, a bulk review that moves the estimates, and a sign-in that survives a reload and a second tab until
sign-out. Every request the browser makes is logged: none may go to another host than the server (offline-first:
no web fonts, no map tiles, no usage statistics).

Uses Playwright for Python driving Debian's /usr/bin/chromium (never `playwright install`). Screenshots of each
page, at desktop and phone size, land in test-artifacts/ (git-ignored) so that anyone can look at them.
"""

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from collect.store import Store
from dashboard.auth import Accounts
from dashboard.session_routes import COOKIE, SIGN_IN_PATH

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
    # The project's own .streamlit/config.toml applies (cwd = the repository): usage statistics off, no Deploy.
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
    ]
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
def browser(playwright_driver, chromium_launch):
    """One Chromium for the module."""
    browser = playwright_driver.chromium.launch(**chromium_launch)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def requests_seen():
    return []


@pytest.fixture(scope="module")
def page(server, browser, requests_seen):
    """A Spanish-speaking browser (locale es-PE, as in Trujillo) that logs every request and websocket it opens."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="es-PE")
    page.on("request", lambda request: requests_seen.append(request.url))
    page.on("websocket", lambda socket: requests_seen.append(socket.url))
    page.set_default_timeout(60_000)
    yield page
    page.close()


def _shot(page, name: str) -> None:
    """The page at desktop width, then at a phone's (390 px), full length."""
    size = page.viewport_size
    # Streamlit scrolls inside its own container, so a tall viewport, not full_page, shows the whole page.
    for suffix, viewport in (("", {"width": 1280, "height": 2400}), ("-phone", {"width": 390, "height": 3200})):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(2500)  # let charts and maps finish drawing at this width
        page.screenshot(path=ARTIFACTS / f"dashboard-{name}{suffix}.png")
    page.set_viewport_size(size)
    page.wait_for_timeout(1000)


def _open(page, title: str) -> None:
    """Go to a page through the sidebar, as a user does."""
    page.locator("[data-testid='stSidebarNavLink']", has_text=title).click()
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)


def test_first_run_demo_and_every_page_in_spanish_with_a_bulk_review(server, page, requests_seen):
    url, log = server
    one_time = re.search(r"one-time password\s+(\S+)", _wait_for(log, "one-time password")).group(1)

    page.goto(url)
    page.get_by_role("textbox", name="Usuario").wait_for()
    _shot(page, "sign-in")
    page.get_by_role("textbox", name="Usuario").fill("admin")
    page.get_by_role("textbox", name="Contraseña").fill(one_time)
    with _fetching_the_session_cookie(page):
        page.get_by_role("button", name="Ingresar").click()
    page.get_by_text("Elija una contraseña nueva").wait_for()
    page.get_by_role("textbox", name="Contraseña nueva", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="Repita la contraseña nueva").fill(NEW_PASSWORD)
    with _fetching_the_session_cookie(page):  # a new password ends every session: a new cookie comes
        page.get_by_role("button", name="Cambiar contraseña").click()

    page.get_by_role("button", name="Cargar la ronda de demostración").click()
    page.get_by_text("Datos sintéticos — ronda de demostración").first.wait_for(timeout=600_000)

    _open(page, "Estimaciones")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    before = _overall_estimate(page)
    _shot(page, "estimates")
    page.get_by_role("tab", name="Gráfico").click()
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    _shot(page, "estimates-chart")
    page.get_by_role("tab", name="Mapa").click()
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    page.get_by_text("INEI").first.wait_for()
    _shot(page, "estimates-map")
    page.get_by_role("tab", name="Rondas").click()
    page.get_by_text("cambio = B − A").first.wait_for()
    page.locator(
        "[data-testid='stVegaLiteChart']:visible canvas, [data-testid='stVegaLiteChart']:visible svg"
    ).first.wait_for()
    assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0
    _shot(page, "estimates-rounds")

    for title, drawn in (
        ("Seguimiento de campo", "Por barrio"),
        ("Revisión", "Alertas"),
        ("Descargas", "Tabla ordenada (CSV)"),
        ("Voluntarios y formularios", "Agregar un voluntario"),
        ("Importar", "Exportado desde"),
        ("Cuenta", "Cuentas del panel"),
    ):
        _open(page, title)
        page.get_by_text(drawn).first.wait_for()
        page.get_by_text("Datos sintéticos — ronda de demostración").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0, title
        _shot(page, title.split()[0].lower())
        if title == "Descargas":
            _check_downloads(page)
    _open(page, "Seguimiento de campo")
    page.get_by_role("tab", name="Mapa").click()
    page.get_by_text("Color según").wait_for()
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    _shot(page, "field-map")

    # A bulk review: two rows ticked in the queue's table, then every flagged submission rejected at once.
    _open(page, "Revisión")
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    box = grid.bounding_box()
    for row in (0, 1):  # the row-selection column is the first 35 px; rows are 35 px under a 35 px header
        page.mouse.click(box["x"] + 17, box["y"] + 35 + 35 * row + 17)
    page.get_by_role("button", name="Aplicar a los envíos marcados (2)").wait_for()
    everything = page.locator("[data-testid='stCheckbox']").filter(has_text="Aplicar a todos los envíos de la tabla")
    everything.click()
    playwright_api.expect(everything.locator("input")).to_be_checked()  # not lost to a rerun of the ticking
    page.get_by_text("Rechazar", exact=True).first.click()
    page.get_by_role("textbox", name="Comentario (obligatorio para rechazar o marcar con problemas)").first.fill(
        "prueba del navegador"
    )
    page.get_by_role("button", name="Aplicar a los envíos marcados (2)").click()
    done = page.get_by_text(re.compile(r"^[\d,]+ envíos marcados «Rechazar»"))
    done.wait_for(timeout=120_000)
    assert int(done.inner_text().split()[0].replace(",", "")) > 2, done.inner_text()  # every flagged one
    _open(page, "Estimaciones")
    playwright_api.expect(page.get_by_text(before)).to_have_count(0, timeout=120_000)  # the estimates moved

    outside = [u for u in requests_seen if not u.startswith((url, url.replace("http", "ws", 1), "data:", "blob:"))]
    assert requests_seen and outside == [], outside


def _overall_estimate(page) -> str:
    """The reading note's all-areas figure with its n, e.g. "Todas las zonas encuestadas: 33.5% (30.2%–36.6%, n =
    1,931)": rejected submissions leave it (n falls even where the share stays the same to one decimal)."""
    text = page.get_by_text("Todas las zonas encuestadas:").first.inner_text()
    return re.search(r"Todas las zonas encuestadas: [\d.]+% \([\d.]+%–[\d.]+%, n = [\d,]+\)", text).group(0)


def test_a_reload_or_a_second_tab_stays_signed_in_until_sign_out(server, browser):
    """In its own browser context (cookies of its own) and with its own account, so it runs in any order."""
    url, log = server
    store = Store.open(f"sqlite:///{log.parent / 'sdg16.db'}")  # the server's store (SQLite in WAL: shared safely)
    try:
        Accounts(store).add("reload_tester", "researcher", NEW_PASSWORD)
    finally:
        store.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("textbox", name="Usuario").fill("reload_tester")
    page.get_by_role("textbox", name="Contraseña").fill(NEW_PASSWORD)
    with _fetching_the_session_cookie(page):
        page.get_by_role("button", name="Ingresar").click()
    cookie = _session_cookie(context)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/")
    assert not cookie["secure"] and cookie["expires"] == -1  # plain http here; ends with the browser
    _wait_signed_in(page)

    page.reload()
    _wait_signed_in(page)
    second_tab = context.new_page()
    second_tab.goto(url)
    _wait_signed_in(second_tab)
    _shot(second_tab, "second-tab-signed-in")

    with page.expect_event("load"):  # the page sends the browser through the sign-out route, back to a new page
        page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_role("textbox", name="Usuario").wait_for()
    assert _session_cookie(context) is None
    page.reload()
    page.get_by_role("textbox", name="Usuario").wait_for()
    second_tab.reload()  # it had the same cookie, whose session ended on the server
    second_tab.get_by_role("textbox", name="Usuario").wait_for()
    for tab in (page, second_tab):
        assert tab.get_by_text("Sesión de").count() == 0
    context.close()


@contextmanager
def _fetching_the_session_cookie(page):
    """Wrap the click that signs in: wait until the page has sent the browser through the cookie route and the
    dashboard has loaded anew (anything done on the page before that would be done on the page being left)."""
    with (
        page.expect_event("load", timeout=120_000),
        page.expect_response(lambda response: SIGN_IN_PATH in response.url) as ticket_response,
    ):
        yield
    assert ticket_response.value.status == 303, ticket_response.value.url


def _session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def _wait_signed_in(page) -> None:
    """The signed-in sidebar is drawn and the sign-in form is gone (the page has finished its run)."""
    page.get_by_text("Sesión de reload_tester (investigación)").wait_for()
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
    assert page.get_by_role("textbox", name="Usuario").count() == 0


def _check_downloads(page) -> None:
    """The files are made when clicked (Streamlit runs the callable then): the bytes must really arrive."""
    for label, start in (
        ("Tabla ordenada (CSV)", b"indicator,series,name,by,area,group,estimate"),
        ("Nota metodológica (Markdown)", "# Nota metodológica".encode()),
    ):
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
