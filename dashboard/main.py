"""The dashboard's entry script: sign-in, then the pages the signed-in user's role may open.

Roles (issue 5): admin sees everything (and manages accounts); coordinators run the field work (monitoring,
review, volunteers, imports) and may read the estimates and de-identified downloads; researchers see estimates
and de-identified downloads only, never personal data. Each role lands on the first page it may open.
"""

from pathlib import Path

import streamlit as st

from dashboard import data, first_run, freshness, i18n, safe, signin
from dashboard.i18n import N_, _

FAVICON = Path(__file__).with_name("favicon.png")
STAFF = {"admin", "coordinator"}
EVERYONE = {"admin", "coordinator", "researcher"}
PAGES = [
    # (page, title, icon, url_path, roles)
    ("views/monitoring.py", N_("Field monitoring"), ":material/monitoring:", "monitoring", STAFF),
    ("views/review.py", N_("Review"), ":material/fact_check:", "review", STAFF),
    ("views/estimates.py", N_("Estimates"), ":material/query_stats:", "estimates", EVERYONE),
    ("views/downloads.py", N_("Downloads"), ":material/download:", "downloads", EVERYONE),
    ("views/sample.py", N_("Sample plan"), ":material/map:", "sample", STAFF),
    ("views/volunteers.py", N_("Volunteers & forms"), ":material/groups:", "volunteers", STAFF),
    ("views/importing.py", N_("Import"), ":material/upload_file:", "import", STAFF),
    ("views/account.py", N_("Account"), ":material/account_circle:", "account", EVERYONE),
]


def pages_for(role: str) -> list[st.Page]:
    """The role's pages, and under the other pages' addresses a hidden page that says they are not for this role
    (a researcher following a coordinator's link gets a page saying so, not a popup over another page)."""
    return [
        st.Page(page, title=_(title), icon=icon, url_path=url)
        if role in roles
        else st.Page(_not_for_role(title), title=_(title), icon=":material/block:", url_path=url, visibility="hidden")
        for page, title, icon, url, roles in PAGES
    ]


# An uncaught error shows the browser its type only: its message and traceback name the server's folders and files
# (and may quote submitted values), so they go to the console alone. Pages say what went wrong in their own words.
st.set_option("client.showErrorDetails", "type")


def _not_for_role(title: str):
    def page() -> None:
        role = signin.current_user().role
        home, home_title = next((page, title) for page, title, _icon, _url, roles in PAGES if role in roles)
        st.title(_(title))
        st.warning(
            _("This page is not for your role ({role}). Ask an administrator if you need it.").format(
                role=_(signin.ROLE_LABELS[role])
            ),
            icon=":material/block:",
        )
        st.page_link(home, label=_("Go to {page}").format(page=_(home_title)), icon=":material/arrow_forward:")

    return page


user = signin.current_user()
i18n.use(user.language if user else None)  # the user's stored choice; before sign-in, the sign-in page's
# The tab icon is a bundled image: a Material icon here would be fetched from fonts.gstatic.com (offline-first).
st.set_page_config(page_title=_("SDG 16 survey — Trujillo"), page_icon=str(FAVICON), layout="wide")
if user is None:
    st.navigation([st.Page(signin.sign_in_page, title=_("Sign in"), icon=":material/login:")], position="hidden").run()
elif user.must_change_password:
    st.title(_("Choose a new password"))
    st.info(_("You signed in with a one-time password; choose your own before continuing."))
    signin.change_password_form(user, ask_current=False)
else:
    navigation = st.navigation(pages_for(user.role))
    with st.sidebar:
        i18n.selector(on_choose=lambda language: signin.remember_language(user, language))
        st.caption(
            _("Signed in as **{user}** ({role})").format(
                user=safe.text(user.username), role=_(signin.ROLE_LABELS[user.role])
            )
        )
        if st.button(_("Sign out"), icon=":material/logout:"):
            signin.sign_out()
    data.new_run()  # the run's first data call pins the snapshot all of the page shows
    first_run.banner(user.role)
    notice = st.empty()  # above the page, filled once the page has shown its data
    navigation.run()
    freshness.notice(notice)
