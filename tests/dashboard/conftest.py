"""AppTest harness: a fresh data dir per test, accounts for each role, and an app already signed in."""

import shutil
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from collect.database import make_engine
from collect.store import Store
from dashboard import data, i18n
from dashboard.data import accounts
from dashboard.demo import load_demo

MAIN = str(Path(__file__).resolve().parents[2] / "dashboard" / "main.py")
PASSWORD = "correct horse battery"
DEMO_SIZE = 2000  # the demo round as the app loads it


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A data dir holding the demo round, loaded once per test session through the real OpenRosa route."""
    folder = tmp_path_factory.mktemp("demo-template")
    store = Store(make_engine(f"sqlite:///{folder / 'sdg16.db'}"))
    load_demo(store, DEMO_SIZE)
    store.close()
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    data.stop_warming()
    data.store().close()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def demo_data(demo_template, data_dir):
    """The test's data dir with a copy of the demo round in it."""
    for file in demo_template.iterdir():
        shutil.copy(file, data_dir / file.name)
    return data_dir


def _blocked_warmer() -> threading.Event:
    """A warmer thread that is alive but has not finished anything; set the returned event to end it."""
    busy = threading.Event()
    data._snapshots().warmer = threading.Thread(target=busy.wait, daemon=True)
    data._snapshots().warmer.start()
    return busy


@pytest.fixture
def first_start(demo_data):
    """A server just started on a store it never analysed: the warmer computes the first snapshot."""
    busy = _blocked_warmer()
    yield
    busy.set()


@pytest.fixture
def busy_warmer(demo_data):
    """The demo round's snapshot computed, and a warmer that has not yet finished the next one (at 100k
    submissions a snapshot takes seconds): pages show the ready snapshot. Yields that snapshot."""
    ready = data.refresh()
    busy = _blocked_warmer()
    yield ready
    busy.set()


@pytest.fixture
def users(data_dir):
    """One account per role (the first-run admin is created too, as on a real first start)."""
    for role in ("admin", "coordinator", "researcher"):
        accounts().add(f"the_{role}", role, PASSWORD)
    return accounts()


@pytest.fixture
def signed_out_app():
    """`signed_out_app(language="en")` -> an AppTest of the dashboard with nobody signed in (not run yet), in that
    language (None: the app's default, Spanish). Tests read English texts unless they test the language."""

    def make(language: str | None = "en") -> AppTest:
        at = AppTest.from_file(MAIN, default_timeout=30)
        if language:
            at.session_state[i18n.STATE_KEY] = language
        return at

    return make


@pytest.fixture
def password() -> str:
    """The password of every role's test account (the `users` fixture)."""
    return PASSWORD


def translated(message: str, language: str) -> str:
    """`message` as dashboard.i18n shows it in `language` (for tests that click by label)."""
    return i18n.translations(language).gettext(message)


def open_tab(at: AppTest, key: str, tab: str) -> AppTest:
    """Click a tab of `st.tabs(..., key=key, on_change="rerun")`: the page reruns with that tab's content."""
    at.session_state[key] = tab
    return at.run()


@pytest.fixture
def app_as(users):
    """`app_as(role, page=None, tab=None, language="en")` -> an AppTest of the dashboard signed in with that role
    (its account's language set to `language`), run on that page, with that tab open (pages run only their open
    tab). Tab names are given in English (they are translated by the fixture)."""

    def make(role: str, page: str | None = None, tab: str | None = None, language: str = "en") -> AppTest:
        users.set_language(f"the_{role}", language)
        at = AppTest.from_file(MAIN, default_timeout=30)
        at.session_state["session"] = users.open_session(users.verify(f"the_{role}", PASSWORD))
        at.run()
        if page:
            at.switch_page(f"views/{page}.py").run()
        if tab:
            open_tab(at, f"{page}_tab", translated(tab, language))
        return at

    return make
