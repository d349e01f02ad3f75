"""`streamlit run app.py`: the dashboard at / and collect's routes (OpenRosa, web form) on the same port.

Streamlit's `st.App` serves the dashboard script and, beside it, the dashboard's session-cookie routes
(dashboard.session_routes). Collect's routes are served by OpenRosa worker processes of their own that this app
starts, supervises and stops (collect.workers), so that no dashboard load can slow the phones down: the `Forward`
middleware passes their paths to the workers' socket. The warmer started here turns each change of the store into
a new snapshot of the pages' data within seconds (dashboard.data).
"""

import streamlit as st
from starlette.middleware import Middleware

from collect.workers import Forward, serving
from dashboard import session_routes
from dashboard.data import accounts, keep_warm, store

app = st.App("dashboard/main.py", routes=session_routes.routes(store()), middleware=[Middleware(Forward)], lifespan=serving)
accounts()  # on first run, creates the admin account and prints its one-time password on this console
keep_warm()  # load the last run's snapshot; recompute the pages' data in the background whenever the store changes
