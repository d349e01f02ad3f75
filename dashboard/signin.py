"""Sign-in, sign-out and session expiry for the Streamlit pages (the account logic itself is in auth.py).

A Streamlit session lives as long as the browser tab's websocket, so a reload or a second tab starts a new one. The
signed-in `Session` is therefore looked for in two places on every rerun: this Streamlit session's
`st.session_state` first (where sign-in puts the tab's own server-kept session so the tab is signed in at once, and
where AppTest puts one), then the browser's session cookie, which `st.context.cookies` holds from the websocket's
opening request. Either way the server keeps the session, and its stored row is read on every rerun, so that
signing out elsewhere, a password change or a removed account ends it, also in a tab whose browser never followed
the redirect that fetches the cookie; an idle or too-old session is dropped before any page draws.

Scripts cannot set cookies, so sign-in and sign-out end by sending the browser through a route of
dashboard/session_routes.py, which sets or clears the cookie and sends it back to the dashboard.
"""

import json
from dataclasses import replace
from datetime import UTC, datetime

import streamlit as st

from dashboard import i18n, session_routes
from dashboard.auth import AuthError, SignInLocked, User, session_key
from dashboard.data import accounts
from dashboard.i18n import N_, _

ROLE_LABELS = {"admin": N_("admin"), "coordinator": N_("coordinator"), "researcher": N_("researcher")}


def current_user() -> User | None:
    """The signed-in user, or None (also when the session has just ended: a notice says so)."""
    _go_where_pending()
    now = datetime.now(UTC)
    held = st.session_state.get("session")
    key = held.key if held is not None else _cookie_key()
    if held is None and key is None:
        return None
    session = accounts().session(key, now)
    if session is None:
        st.session_state.pop("session", None)
        st.session_state["session_expired"] = True
        return None
    st.session_state["session"] = session
    return session.user


def _cookie_key() -> str | None:
    """The key of the session the browser's cookie names (not after signing out in this tab: the websocket's
    cookies are those it opened with, and the browser has just been told to drop them)."""
    token = st.context.cookies.get(session_routes.COOKIE)
    # Not a str under AppTest, whose stand-in browser client answers every lookup with a mock.
    if not isinstance(token, str) or st.session_state.get("signed_out"):
        return None
    return session_key(token)


def sign_in_page() -> None:
    accounts()  # on an empty accounts table, this creates the first admin and prints its one-time password
    i18n.selector()
    st.title(_("SDG 16 survey — Trujillo"))
    if st.session_state.pop("session_expired", False):
        st.info(_("Your session has ended (it expired, or was signed out elsewhere); please sign in again."))
    with st.form("sign_in"):
        username = st.text_input(_("Username"), autocomplete="username")
        password = st.text_input(_("Password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if submitted:
        try:
            user = accounts().verify(username, password, address=st.context.ip_address)
        except SignInLocked as error:
            st.error(error_text(error))
        else:
            if user is None:
                st.error(_("Wrong username or password."))
            else:
                _sign_in(user)
    st.caption(
        _(
            "First run: an `admin` account with a one-time password was printed on the console that started the "
            "app. Other accounts: `sdg16 user add NAME --role admin|coordinator|researcher`."
        )
    )


def _sign_in(user: User) -> None:
    """Sign this tab in at once, and send the browser to fetch the session cookie that keeps reloads signed in.

    Call only after the password was checked: the ticket in the URL stands for it, once, for a minute.
    """
    st.session_state["session"] = accounts().open_session(user)
    st.session_state.pop("signed_out", None)
    _go_to(session_routes.sign_in_url(accounts().issue_ticket(user.username)))
    st.rerun()


def change_password_form(user: User, ask_current: bool = True) -> None:
    """Set a new password; required before anything else when the current one is a one-time password.

    The current password is asked for (`ask_current`), so that a tab left open cannot be used to take the account;
    not right after signing in with a one-time password, which the user has just typed. A new password ends every
    session of the user, this one too, so the user is signed in afresh right after.
    """
    with st.form("change_password", clear_on_submit=True):
        current = (
            st.text_input(_("Current password"), type="password", autocomplete="current-password")
            if ask_current
            else None
        )
        new = st.text_input(_("New password"), type="password", autocomplete="new-password")
        again = st.text_input(_("New password again"), type="password", autocomplete="new-password")
        submitted = st.form_submit_button(_("Change password"), type="primary")
    if not submitted:
        return
    if ask_current and accounts().verify(user.username, current or "") is None:
        st.error(_("The current password is wrong."))
        return
    if new != again:
        st.error(_("The two passwords differ."))
        return
    try:
        accounts().set_password(user.username, new)
    except AuthError as error:
        st.error(error_text(error))
        return
    _sign_in(replace(user, must_change_password=False))


def error_text(error: AuthError) -> str:
    """An account error's message in the user's language."""
    return _(error.template).format(**error.values)


def remember_language(user: User, language: str) -> None:
    """Store the language `user` chose with their account, and in this tab's session (read on every rerun)."""
    accounts().set_language(user.username, language)
    held = st.session_state.get("session")
    if held is not None:
        st.session_state["session"] = replace(held, user=replace(held.user, language=language))


def sign_out() -> None:
    """End the session on the server at once, then send the browser to clear its cookie."""
    session = st.session_state.pop("session", None)
    if session is not None:
        accounts().end_session(session.key)
    st.session_state["signed_out"] = True
    _go_to(session_routes.SIGN_OUT_PATH)
    st.rerun()


def _go_to(url: str) -> None:
    """Send the browser to `url` at the start of the next rerun (st.rerun would discard anything drawn now)."""
    st.session_state["go_to"] = url


def _go_where_pending() -> None:
    # location.replace, not a link: the browser follows at once, and the ticket's URL stays out of the history
    # (the route answers with a redirect back to the dashboard, which replaces it in turn).
    url = st.session_state.pop("go_to", None)
    if url is not None:
        st.html(f"<script>window.location.replace({json.dumps(url)})</script>", unsafe_allow_javascript=True)


def require(*roles: str) -> User:
    """Stop the page unless the signed-in user has one of `roles` (navigation hides it too; this is the lock)."""
    user = current_user()
    if user is None or user.role not in roles:
        st.error(_("You do not have access to this page."))
        st.stop()
    return user
