"""The dashboard's languages: Spanish first (the coordinators in Trujillo), English second.

Strings are gettext messages: the English text in the code is the msgid, and the Spanish is in the catalogue
`dashboard/locale/es/LC_MESSAGES/messages.po`. The .po file is the only source: it is compiled by Babel when the app
first needs it (no .mo file to keep in step). Each account remembers the language its user chose (column
`dashboard_users.language`); before signing in, and for users who never chose, the language picked on the sign-in
page applies, Spanish unless English was picked.

How to add or change a visible string
-------------------------------------
1. Write it in English wrapped in `_()`: ``st.title(_("Field monitoring"))``. With values, translate the template
   and format after: ``_("{n:,} submissions").format(n=count)``, never ``_(f"...")``. For plurals use
   ``ngettext("one volunteer", "{n} volunteers", n).format(n=n)``. A module-level constant (a tab name, a page
   title) is marked with ``N_("Map")`` and translated where it is shown: ``_(TAB)``. A widget's `format_func`
   is a dict's `.get` filled while the page runs (``format_func={k: _(v) for k, v in LABELS.items()}.get``), not
   a lambda calling `_()`: Streamlit may call it outside the page's run, where the language is not known.
2. Bring the catalogue up to date and write the Spanish (a `msgstr` for every new `msgid`)::

       pybabel extract -F dashboard/babel.cfg -o /tmp/messages.pot --no-location --omit-header dashboard
       pybabel update -i /tmp/messages.pot -d dashboard/locale -D messages --no-fuzzy-matching --ignore-obsolete --no-wrap

3. `pytest tests/dashboard/test_i18n.py`: it fails when a string in the code has no Spanish, when the catalogue
   keeps strings no code uses, and when a page shows text that did not pass through the catalogue.

Submitted values (answers, names, comments) are data, not messages: never pass them to `_()`; show them escaped
(`dashboard.safe`).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

import streamlit as st
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.runtime.scriptrunner import get_script_run_ctx

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = {"es": "Español", "en": "English"}  # the first is the default
DEFAULT = next(iter(LANGUAGES))
SOURCE_LANGUAGE = "en"  # the language of the msgids
STATE_KEY = "language"  # st.session_state key of the language of this browser tab

missing: set[str] = set()  # msgids asked for in a language whose catalogue lacks them (the tests read it)


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language` (English: the msgids themselves), compiled once per process."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


def current() -> str:
    """The language of this rerun: the tab's choice (set from the signed-in user's account), else Spanish.

    Outside a Streamlit script (the command line, a background thread) it is the default, Spanish.
    """
    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT
    return st.session_state.get(STATE_KEY, DEFAULT)


def use(language: str | None) -> None:
    """Show this tab in `language` (a user's stored choice; None keeps the tab's current one)."""
    if language in LANGUAGES:
        st.session_state[STATE_KEY] = language


def _(message: str) -> str:
    """`message` (English) in the current language."""
    language = current()
    translated = translations(language).gettext(message)
    if translated is message and language != SOURCE_LANGUAGE and message:
        missing.add(message)
    return translated


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for the number `n`, in the current language."""
    language = current()
    translated = translations(language).ngettext(singular, plural, n)
    if translated in (singular, plural) and language != SOURCE_LANGUAGE:
        missing.add(singular)
    return translated


def N_(message: str) -> str:
    """Mark a constant for the catalogue without translating it now (it is translated with `_()` when shown)."""
    return message


def selector(on_choose=None) -> None:
    """The language switch (a segmented control); `on_choose(language)` is called when the user picks one.

    The options are the languages' own names (Español, English), which no catalogue translates. The widget has no
    key, so a change of the current language elsewhere (signing in) redraws it with that language selected.
    """
    chosen = st.segmented_control(
        _("Language"), list(LANGUAGES), format_func=LANGUAGES.get, default=current(), label_visibility="collapsed"
    )
    if chosen and chosen != current():
        st.session_state[STATE_KEY] = chosen
        if on_choose is not None:
            on_choose(chosen)
        st.rerun()
