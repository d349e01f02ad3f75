"""Account page: change one's password; admins also manage the dashboard accounts."""

import streamlit as st

from dashboard import signin
from dashboard.auth import ROLES, AuthError
from dashboard.data import accounts
from dashboard.i18n import _


def render() -> None:
    user = signin.require("admin", "coordinator", "researcher")
    st.title("Account")
    st.write(f"Signed in as **{user.username}**, role **{user.role}**.")
    st.subheader("Change password")
    signin.change_password_form(user)
    if user.role == "admin":
        _manage_accounts(user.username)


def _manage_accounts(me: str) -> None:
    st.subheader("Dashboard accounts")
    st.dataframe(
        [{"username": u.username, "role": u.role, "one-time password pending": u.must_change_password,
          _("disabled"): u.disabled} for u in accounts().list()],
        hide_index=True,
    )
    with st.form("add_account", clear_on_submit=True):
        username = st.text_input("New username")
        role = st.selectbox("Role", ROLES, index=ROLES.index("coordinator"))
        submitted = st.form_submit_button("Add account")
    if submitted:
        try:
            password = accounts().add(username, role)
        except AuthError as error:
            st.error(signin.error_text(error))
        else:
            st.success(f"Account {username!r} created. One-time password (shown once): `{password}`")
    others = [u.username for u in accounts().list() if u.username != me]
    if others:
        _disable_or_enable(others)
    if others:
        with st.form("remove_account"):
            username = st.selectbox("Remove account", others)
            if st.form_submit_button("Remove"):
                try:
                    accounts().remove(username)
                except AuthError as error:
                    st.error(signin.error_text(error))
                else:
                    st.success(f"Account {username!r} removed.")


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
