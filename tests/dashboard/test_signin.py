"""Sign-in, server-kept sessions and sign-out in the dashboard script (AppTest).

AppTest has no browser: it cannot run the page's redirect or send a cookie. So these tests read where the page
sends the browser and follow it with the real routes (Starlette's TestClient), and put a server-kept session in
`st.session_state` the way `current_user` does after reading the cookie. test_browser.py does it all in Chromium.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard import data, session_routes
from dashboard.auth import ACCOUNT_FREE_FAILURES, IDLE_TIMEOUT, session_key
from dashboard.session_routes import COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH

ENDED = "Your session has ended (it expired, or was signed out elsewhere); please sign in again."


def sent_to(at: AppTest) -> list[str]:
    """The addresses the page sends the browser to (the scripts of its st.html elements)."""
    return [
        json.loads(match)
        for element in at.get("html")
        for match in re.findall(r"window\.location\.replace\((.*?)\)", element.proto.body)
    ]


def follow(url: str) -> str:
    """Follow the sign-in redirect as the browser would; the session token it sets in the cookie."""
    browser = TestClient(Starlette(routes=session_routes.routes(data.store())), follow_redirects=False)
    response = browser.get(url)
    assert response.status_code == 303, response.text
    return response.cookies[COOKIE]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def signed_in_as(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption if c.value.startswith("Signed in as")]


@pytest.fixture
def browser_session(users, signed_out_app, password):
    """`browser_session(username)` -> (AppTest run with a server-kept session of that user, its cookie token)."""

    def make(username: str = "the_coordinator") -> tuple[AppTest, str]:
        token = users.redeem_ticket(users.issue_ticket(username))
        at = signed_out_app()
        at.session_state["session"] = users.session(session_key(token))
        return at.run(), token

    return make


def test_signing_in_signs_the_tab_in_and_sends_the_browser_for_its_cookie(users, signed_out_app, password):
    at = signed_out_app().run()
    assert sent_to(at) == []
    at.text_input[0].input("the_researcher")
    at.text_input[1].input(password)
    button(at, "Sign in").click().run()
    assert signed_in_as(at) == ["Signed in as **the\\_researcher** (researcher)"]
    [url] = sent_to(at)
    assert url.startswith(f"{SIGN_IN_PATH}?ticket=")
    token = follow(url)
    assert users.session(session_key(token)).user.username == "the_researcher"
    assert sent_to(at.run()) == []  # sent once


def test_a_wrong_password_gets_no_ticket(users, signed_out_app):
    at = signed_out_app().run()
    at.text_input[0].input("the_researcher")
    at.text_input[1].input("not the password")
    button(at, "Sign in").click().run()
    assert "Wrong username or password." in [e.value for e in at.error]
    assert sent_to(at) == [] and signed_in_as(at) == []


def test_a_server_kept_session_signs_the_tab_in(browser_session, users):
    at, token = browser_session("the_coordinator")
    assert not at.exception
    assert signed_in_as(at) == ["Signed in as **the\\_coordinator** (coordinator)"]
    assert at.session_state["session"].key == session_key(token)


@pytest.mark.parametrize("ending", ["signed out elsewhere", "password changed", "account removed", "account disabled"])
def test_an_open_tab_is_signed_out_at_its_next_rerun_when_its_session_ends(browser_session, users, ending):
    at, token = browser_session("the_coordinator")
    if ending == "signed out elsewhere":
        users.end_session(session_key(token))
    elif ending == "password changed":
        users.set_password("the_coordinator", "changed by an admin")
    elif ending == "account disabled":
        users.disable("the_coordinator")
    else:
        users.remove("the_coordinator")
    at.run()
    assert signed_in_as(at) == [] and [t.label for t in at.text_input] == ["Username", "Password"]
    assert ENDED in [i.value for i in at.info]


def test_an_idle_tab_session_expires_with_a_notice(users, signed_out_app, password):
    at = signed_out_app()
    long_ago = datetime.now(UTC) - IDLE_TIMEOUT - timedelta(seconds=1)
    at.session_state["session"] = users.open_session(users.verify("the_admin", password), now=long_ago)
    at.run()
    assert signed_in_as(at) == [] and ENDED in [i.value for i in at.info]


def test_sign_out_ends_the_session_and_sends_the_browser_to_clear_the_cookie(browser_session, users):
    at, token = browser_session("the_coordinator")
    button(at, "Sign out").click().run()
    assert users.session(session_key(token)) is None
    assert sent_to(at) == [SIGN_OUT_PATH]
    assert [t.label for t in at.text_input] == ["Username", "Password"] and at.info.len == 0


def test_a_new_password_ends_the_other_sessions_and_signs_this_tab_in_afresh(browser_session, users, password):
    at, token = browser_session("the_coordinator")
    elsewhere = users.redeem_ticket(users.issue_ticket("the_coordinator"))
    at.switch_page("views/account.py").run()
    next(t for t in at.text_input if t.label == "Current password").input(password)
    next(t for t in at.text_input if t.label == "New password").input("a brand new password")
    next(t for t in at.text_input if t.label == "New password again").input("a brand new password")
    button(at, "Change password").click().run()
    assert users.session(session_key(token)) is None and users.session(session_key(elsewhere)) is None
    assert signed_in_as(at) == ["Signed in as **the\\_coordinator** (coordinator)"]
    [url] = sent_to(at)
    assert users.session(session_key(follow(url))).user.username == "the_coordinator"
    assert users.verify("the_coordinator", "a brand new password")


@pytest.mark.parametrize("ending", ["password changed", "account removed", "account disabled", "signed out elsewhere"])
def test_a_tab_signed_in_by_the_form_that_never_fetched_its_cookie_ends_too(users, signed_out_app, password, ending):
    """The red team's tab: signed in through the form, the redirect to the cookie never followed."""
    at = signed_out_app().run()
    at.text_input[0].input("the_coordinator")
    at.text_input[1].input(password)
    button(at, "Sign in").click().run()
    assert signed_in_as(at) == ["Signed in as **the\\_coordinator** (coordinator)"]
    if ending == "password changed":
        users.set_password("the_coordinator", "changed by an admin")
    elif ending == "account removed":
        users.remove("the_coordinator")
    elif ending == "account disabled":
        users.disable("the_coordinator")
    else:
        users.end_session(at.session_state["session"].key)
    at.run()
    assert signed_in_as(at) == [] and [t.label for t in at.text_input] == ["Username", "Password"]
    assert ENDED in [i.value for i in at.info]


def test_an_admin_disabling_an_account_on_the_account_page_signs_it_out_everywhere(browser_session, users, app_as):
    coordinator, token = browser_session("the_coordinator")
    admin = app_as("admin", "account")
    next(s for s in admin.selectbox if s.label == "Disable or enable account").set_value("the_coordinator")
    button(admin, "Disable (signs it out everywhere)").click().run()
    assert "Account 'the_coordinator' disabled." in [s.value for s in admin.success]
    assert users.session(session_key(token)) is None
    coordinator.run()
    assert signed_in_as(coordinator) == [] and ENDED in [i.value for i in coordinator.info]


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_spanish_message(users, signed_out_app, password):
    at = signed_out_app(language=None).run()
    for attempt in range(ACCOUNT_FREE_FAILURES):
        at.text_input[0].input("the_coordinator")
        at.text_input[1].input(f"wrong password {attempt}")
        at = button(at, "Ingresar").click().run()
        assert [e.value for e in at.error] == ["Usuario o contraseña incorrectos."]
    at.text_input[0].input("the_coordinator")
    at.text_input[1].input(password)
    at = button(at, "Ingresar").click().run()
    assert [e.value for e in at.error] == ["Demasiados intentos fallidos: espere 1 min y vuelva a intentarlo."]
    assert sent_to(at) == [] and signed_in_as(at) == []  # not even the right password gets in while locked
