"""The real thing for the web form's tests: our collection server (uvicorn `collect.asgi:app`, which publishes the
shipped questionnaire) on a free loopback port with its own data folder, volunteers created in its store,
Debian's Chromium driven by Playwright with a fresh profile per test (own service worker, cache and IndexedDB),
and javarosa (ODK Collect's engine) to fill the same interviews for comparison.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from pyxform.validators.odk_validate import ODK_VALIDATE_PATH
from webform_interview import FORM_ID
from webform_server import REPO, Server, serve

from collect.volunteers import add_volunteer
from collect.webform import DIST, missing_files, webform_url

ARTIFACTS = REPO / "test-artifacts"
# The forms developer's javarosa driver (tests/forms): fills an XForm from `field=value` lines as Collect would.
FORM_FILLER = REPO / "tests" / "forms" / "javarosa" / "FormFiller.java"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """The collection server over this checkout, with the web form as the package ships it."""
    if missing_files():
        pytest.fail(
            f"the shipped web form is incomplete ({DIST}: {missing_files()}): run `cd webform && npm ci && npm run build`"
        )
    with serve(tmp_path_factory.mktemp("sdg16-data")) as running:
        yield running


@pytest.fixture
def volunteer(server, request):
    """A new volunteer (named after the test, so that their submissions are theirs alone) and the URL of their
    web form, i.e. their OpenRosa server URL + /forms/{form}/webform."""
    name = request.node.name
    account = add_volunteer(server.store, name)
    return name, webform_url(account.server_url(server.base_url), FORM_ID)


# Chromium is removing XSLT (crbug.com/435623334; Gecko and WebKit plan the same): the web form must not need it.
WITHOUT_XSLT = "--disable-blink-features=XSLT"


@pytest.fixture(scope="module")
def browser(playwright_driver, chromium_launch):
    """Debian's Chromium with XSLT turned off, as next year's browsers will ship."""
    args = [*chromium_launch["args"], WITHOUT_XSLT]
    browser = playwright_driver.chromium.launch(**{**chromium_launch, "args": args})
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


@pytest.fixture(scope="session")
def javarosa(server, tmp_path_factory):
    """Fill the published questionnaire in javarosa: answers {field: value | [values]} -> (finalized, record XML).

    The form and its media are the bytes the server publishes. Needs a JDK (javac), as the form tests do.
    """
    if shutil.which("javac") is None:
        pytest.skip("javac not found: comparing with javarosa needs a JDK (e.g. default-jdk-headless)")
    folder = tmp_path_factory.mktemp("javarosa")
    subprocess.run(
        ["javac", "-nowarn", "-cp", ODK_VALIDATE_PATH, "-d", str(folder), str(FORM_FILLER)],
        check=True,
        capture_output=True,
    )
    (folder / "form.xml").write_bytes(server.store.form_xml(FORM_ID))
    (folder / "media").mkdir()
    for media in server.store.form_version(FORM_ID).media:
        (folder / "media" / media.filename).write_bytes(server.store.media_file(FORM_ID, None, media.filename))

    def fill(answers: dict[str, str | list[str]]) -> tuple[bool, bytes]:
        lines = [f"{name}={' '.join(value) if isinstance(value, list) else value}" for name, value in answers.items()]
        (folder / "scenario.txt").write_text("# interview\n" + "\n".join(lines) + "\n---\n", encoding="utf-8")
        command = ["java", "-cp", f"{ODK_VALIDATE_PATH}:{folder}", "FormFiller", "form.xml", "media", "scenario.txt"]
        output = subprocess.run(
            command, cwd=folder, check=True, capture_output=True, text=True, encoding="utf-8"
        ).stdout
        events = dict(line.partition(" ")[::2] for line in output.splitlines())
        return "FINALIZED" in events, events["INSTANCE"].encode()

    return fill
