"""The dashboard's entry script: sign-in, then the pages the signed-in user's role may open.

Roles (issue 5): admin sees everything (and manages accounts); coordinators run the field work (monitoring,
review, volunteers, imports) and may read the estimates and de-identified downloads; researchers see estimates
and de-identified downloads only, never personal data. Each role lands on the first page it may open.
"""

import streamlit as st

from dashboard import data, first_run, freshness, signin

st.set_page_config(page_title="SDG 16 survey — Trujillo", page_icon=":material/shield_person:", layout="wide")
# An uncaught error shows the browser its type only: its message and traceback name the server's folders and files
# (and may quote submitted values), so they go to the console alone. Pages say what went wrong in their own words.
st.set_option("client.showErrorDetails", "type")

STAFF = {"admin", "coordinator"}
EVERYONE = {"admin", "coordinator", "researcher"}
PAGES = [
    # (page, title, icon, url_path, roles)
    ("views/monitoring.py", "Field monitoring", ":material/monitoring:", "monitoring", STAFF),
    ("views/estimates.py", "Estimates", ":material/query_stats:", "estimates", EVERYONE),
    ("views/downloads.py", "Downloads", ":material/download:", "downloads", EVERYONE),
    ("views/volunteers.py", "Volunteers & forms", ":material/groups:", "volunteers", STAFF),
    ("views/importing.py", "Import", ":material/upload_file:", "import", STAFF),
    ("views/account.py", "Account", ":material/account_circle:", "account", EVERYONE),
]


def pages_for(role: str) -> list[st.Page]:
    return [
        st.Page(page, title=title, icon=icon, url_path=url)
        for page, title, icon, url, roles in PAGES
        if role in roles
    ]


user = signin.current_user()
if user is None:
    st.navigation([st.Page(signin.sign_in_page, title="Sign in", icon=":material/login:")], position="hidden").run()
elif user.must_change_password:
    st.title("Choose a new password")
    st.info("You signed in with a one-time password; choose your own before continuing.")
    signin.change_password_form(user)
else:
    navigation = st.navigation(pages_for(user.role))
    with st.sidebar:
        st.caption(f"Signed in as **{user.username}** ({user.role})")
        if st.button("Sign out", icon=":material/logout:"):
            signin.sign_out()
    data.new_run()  # the run's first data call pins the snapshot all of the page shows
    first_run.banner(user.role)
    notice = st.empty()  # above the page, filled once the page has shown its data
    navigation.run()
    freshness.notice(notice)
