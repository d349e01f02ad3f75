"""Account page: one's language and password; admins also manage the dashboard accounts.

After any change to the accounts the page reruns with a note of what was done, so the table is always current.
"""

import streamlit as st

from dashboard import safe, signin
from dashboard.auth import ROLES, AuthError
from dashboard.data import accounts
from dashboard.i18n import _

DONE = "account_done"  # session-state key of the note shown after the rerun that follows a change


def render() -> None:
    user = signin.require("admin", "coordinator", "researcher")
    st.title(_("Account"))
    st.markdown(
        _("Signed in as **{user}**, role **{role}**.").format(
            user=safe.text(user.username), role=_(signin.ROLE_LABELS[user.role])
        )
    )
    st.subheader(_("Change password"))
    signin.change_password_form(user)
    if user.role == "admin":
        _manage_accounts(user.username)


def _done(message: str) -> None:
    st.session_state[DONE] = message
    st.rerun()


def _manage_accounts(me: str) -> None:
    st.subheader(_("Dashboard accounts"))
    if DONE in st.session_state:
        st.success(st.session_state.pop(DONE))
    st.dataframe(
        [
            {
                _("username"): u.username,
                _("role"): _(signin.ROLE_LABELS[u.role]),
                _("one-time password pending"): u.must_change_password,
                _("disabled"): u.disabled,
            }
            for u in accounts().list()
        ],
        hide_index=True,
    )
    with st.form("add_account", clear_on_submit=True):
        username = st.text_input(_("New username"))
        role = st.selectbox(
            _("Role"),
            ROLES,
            index=ROLES.index("coordinator"),
            format_func={r: _(signin.ROLE_LABELS[r]) for r in ROLES}.get,
        )
        submitted = st.form_submit_button(_("Add account"))
    if submitted:
        try:
            password = accounts().add(username, role)
        except AuthError as error:
            st.error(signin.error_text(error))
        else:
            _done(
                _("Account {name} created. One-time password (shown once): `{password}`").format(
                    name=safe.text(username.strip()), password=password
                )
            )
    others = [u.username for u in accounts().list() if u.username != me]
    if others:
        _disable_or_enable(others)
    if not others:
        return
    with st.form("manage_account"):
        username = st.selectbox(_("Account"), others)
        with st.container(horizontal=True):
            reset = st.form_submit_button(_("Reset password"))
            remove = st.form_submit_button(_("Remove"))
    try:
        if reset:
            password = accounts().reset_password(username)
            _done(
                _(
                    "New one-time password for {name} (shown once; they choose their own at sign-in): `{password}`"
                ).format(name=safe.text(username), password=password)
            )
        if remove:
            accounts().remove(username)
            _done(_("Account {name} removed.").format(name=safe.text(username)))
    except AuthError as error:
        st.error(signin.error_text(error))


def _disable_or_enable(others: list[str]) -> None:
    """Disabling signs the account out everywhere at once and keeps it (and its name) for later."""
    with st.form("disable_account"):
        username = st.selectbox(_("Disable or enable account"), others)
        disable, enable = st.columns(2)
        disabling = disable.form_submit_button(_("Disable (signs it out everywhere)"))
        enabling = enable.form_submit_button(_("Enable"))
    if not (disabling or enabling):
        return
    try:
        if disabling:
            accounts().disable(username)
        else:
            accounts().enable(username)
    except AuthError as error:
        st.error(signin.error_text(error))
    else:
        done = _("Account {username!r} disabled.") if disabling else _("Account {username!r} enabled.")
        st.success(done.format(username=username))


if __name__ == "__main__":
    render()
