"""The language layer: every visible string has its Spanish, Spanish by default, English remembered per user.

Two nets catch an untranslated string. The catalogue check extracts every `_()`/`N_()`/`ngettext()` message from
dashboard/ with Babel (as `pybabel extract` does) and compares it with the Spanish catalogue. The page check draws
every page for every role through a "marked Spanish": the Spanish catalogue with each translation wrapped in
⟪…⟫, so any text on screen that did not pass through the catalogue (a literal never wrapped in `_()`) shows
unmarked, and any msgid looked up but absent from the catalogue is recorded by dashboard.i18n.
"""

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from analysis import labels, methods
from dashboard import i18n

DASHBOARD = Path(i18n.__file__).parent
OPEN, CLOSE = "⟪", "⟫"
ALL_PAGES = ["monitoring", "review", "estimates", "downloads", "sample", "volunteers", "importing", "account"]
ROLE_PAGES = {"admin": ALL_PAGES, "coordinator": ALL_PAGES, "researcher": ["estimates", "downloads", "account"]}
FIELDS = re.compile(r"\{[^{}]*\}")


def _code_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(DASHBOARD, [("**.py", "python")]):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue():
    with i18n.catalogue_path("es").open("rb") as po:
        return read_po(po, locale="es")


def test_every_string_in_the_code_has_its_spanish_and_the_catalogue_keeps_no_stale_one():
    catalogue = {m.id if isinstance(m.id, str) else m.id[0]: m for m in _catalogue() if m.id}
    code = _code_messages()
    assert sorted(code - catalogue.keys()) == [], "strings without a catalogue entry: run pybabel (dashboard/i18n.py)"
    assert sorted(m for m in code if not catalogue[m].string or not all(catalogue[m].string)) == [], "no Spanish yet"
    assert sorted(catalogue.keys() - code) == [], "catalogue entries no code uses: run pybabel update"
    for message in catalogue.values():  # a translation that drops or renames a {field} breaks .format()
        for translated in [message.string] if isinstance(message.string, str) else message.string:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            assert set(FIELDS.findall(translated)) == set(FIELDS.findall(ids[-1])), message.id


class _Marked(gettext.NullTranslations):
    """Spanish with every translation marked, so that text shown without the catalogue stands out."""

    def __init__(self, spanish: gettext.NullTranslations):
        super().__init__()
        self.spanish = spanish

    def gettext(self, message):
        translated = self.spanish.gettext(message)
        return translated if translated is message else f"{OPEN}{translated}{CLOSE}"

    def ngettext(self, singular, plural, n):
        translated = self.spanish.ngettext(singular, plural, n)
        return translated if translated in (singular, plural) else f"{OPEN}{translated}{CLOSE}"


@pytest.fixture
def marked_spanish(monkeypatch):
    """The dashboard's catalogue marked, and so the other sources of Spanish text on the pages: the plan's
    translations (analysis.labels: indicator names and notes) and the methods note's (analysis.methods)."""
    spanish = i18n.translations("es")
    monkeypatch.setattr(
        i18n, "translations", lambda language: _Marked(spanish) if language == "es" else gettext.NullTranslations()
    )
    plan_text = labels.indicator_text

    def marked_plan_text(plan, indicator, language, key="name"):
        text = plan_text(plan, indicator, language, key)
        return text if text == getattr(indicator, key) else f"{OPEN}{text}{CLOSE}"

    monkeypatch.setattr(labels, "indicator_text", marked_plan_text)
    for key, text in methods.TEXT["es"].items():  # the methods note's Spanish, kept in analysis
        monkeypatch.setitem(methods.TEXT["es"], key, f"{OPEN}{text}{CLOSE}")
    i18n.missing.clear()
    yield
    i18n.missing.clear()


def _texts(at) -> list[tuple[str, str]]:
    """Every piece of interface text on screen: headings, notes, alerts, and the labels of widgets, tabs, metrics.

    Not data: table cells, code blocks, widget values and options (names of volunteers and neighbourhoods), and the
    language switch, whose options are the languages' own names."""
    shown = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success"):
        shown += [(kind, element.value) for element in getattr(at, kind)]
    for kind in (
        "button",
        "download_button",
        "text_input",
        "text_area",
        "selectbox",
        "multiselect",
        "radio",
        "toggle",
        "checkbox",
        "date_input",
        "number_input",
        "metric",
        "tabs",
        "expander",
        "segmented_control",
        "pills",
    ):
        shown += [(kind, element.label) for element in getattr(at, kind) if element.label != i18n._("Language")]
    return [(kind, text) for kind, text in shown if text and text.strip()]


def _unmarked(at) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in _texts(at) if OPEN not in text]


def test_the_sign_in_page_shows_only_catalogue_text_in_spanish(users, signed_out_app, marked_spanish):
    at = signed_out_app(language=None).run()
    assert not at.exception
    assert _unmarked(at) == []
    assert i18n.missing == set()


@pytest.mark.parametrize(
    ("role", "page"),
    [(role, page) for role, pages in ROLE_PAGES.items() for page in pages],
)
def test_every_page_shows_only_catalogue_text_in_spanish(busy_warmer, app_as, marked_spanish, role, page):
    at = app_as(role, page, language="es")
    assert not at.exception, at.exception
    unmarked = _unmarked(at)
    for label in [tab.label for tab in at.tabs][1:]:  # every tab of the page (pages draw only their open tab)
        at.session_state[f"{page}_tab"] = label
        at.run()
        assert not at.exception, (label, at.exception)
        unmarked += _unmarked(at)
    assert not unmarked, "\n".join(map(repr, sorted(set(unmarked))))
    assert i18n.missing == set()


def test_a_new_visitor_reads_spanish_and_may_switch_to_english(users, signed_out_app):
    at = signed_out_app(language=None).run()
    assert at.title[0].value == "Encuesta ODS 16 — Trujillo"
    at.segmented_control[0].set_value("en").run()
    assert at.title[0].value == "SDG 16 survey — Trujillo"
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_the_language_a_user_picks_is_remembered_with_the_account(users, app_as):
    at = app_as("coordinator", "account", language="es")
    assert at.title[0].value == "Cuenta"
    at.sidebar.segmented_control[0].set_value("en").run()
    assert at.title[0].value == "Account"
    assert next(u for u in users.list() if u.username == "the_coordinator").language == "en"
    again = app_as("coordinator", "account", language="en")  # a new tab, signed in afresh, reads the account
    assert again.title[0].value == "Account"


def test_sign_in_errors_are_in_the_visitors_language(users, signed_out_app):
    at = signed_out_app(language=None).run()
    at.text_input[0].input("the_admin")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Usuario o contraseña incorrectos."]


def test_outside_a_page_messages_are_in_spanish():
    assert i18n._("Sign in") == "Ingresar"
