"""Sign-in, sign-out and session expiry for the Streamlit pages (the account logic itself is in auth.py).

A Streamlit session lives as long as the browser tab's websocket; the signed-in `Session` is kept in
`st.session_state` and checked on every rerun, so an idle or too-old session is dropped before any page draws.
"""

from datetime import UTC, datetime

import streamlit as st

from dashboard.auth import AuthError, User, start_session
from dashboard.data import accounts


def current_user() -> User | None:
    """The signed-in user, or None (also when the session has just expired: a notice says so)."""
    session = st.session_state.get("session")
    if session is None:
        return None
    now = datetime.now(UTC)
    if session.expired(now):
        del st.session_state["session"]
        st.session_state["session_expired"] = True
        return None
    st.session_state["session"] = session.touched(now)
    return session.user


def sign_in_page() -> None:
    accounts()  # on an empty accounts table, this creates the first admin and prints its one-time password
    st.title("SDG 16 survey — Trujillo")
    if st.session_state.pop("session_expired", False):
        st.info("Your session expired; please sign in again.")
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = accounts().verify(username, password)
        if user is None:
            st.error("Wrong username or password.")
        else:
            st.session_state["session"] = start_session(user)
            st.rerun()
    st.caption(
        "First run: an `admin` account with a one-time password was printed on the console that started the "
        "app. Other accounts: `sdg16 user add NAME --role admin|coordinator|researcher`."
    )


def change_password_form(user: User) -> None:
    """Set a new password; required before anything else when the current one is a one-time password."""
    with st.form("change_password", clear_on_submit=True):
        new = st.text_input("New password", type="password", autocomplete="new-password")
        again = st.text_input("New password again", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Change password", type="primary")
    if not submitted:
        return
    if new != again:
        st.error("The two passwords differ.")
        return
    try:
        accounts().set_password(user.username, new)
    except AuthError as error:
        st.error(str(error))
        return
    st.session_state["session"] = start_session(User(user.username, user.role, False))
    st.success("Password changed.")
    st.rerun()


def sign_out() -> None:
    st.session_state.pop("session", None)
    st.rerun()


def require(*roles: str) -> User:
    """Stop the page unless the signed-in user has one of `roles` (navigation hides it too; this is the lock)."""
    user = current_user()
    if user is None or user.role not in roles:
        st.error("You do not have access to this page.")
        st.stop()
    return user
