"""`streamlit run app.py`: the dashboard at / and collect's routes (OpenRosa, web form) on the same port.

Streamlit's `st.App` serves the dashboard script and mounts extra Starlette routes beside it: the dashboard's
session-cookie routes (dashboard.session_routes) and collect's. Both sides share one `Store` (dashboard.data.store
is a process-wide resource); the warmer started here turns each change of the store into a new snapshot of the
pages' data within seconds (dashboard.data).
"""

from pathlib import Path

import streamlit as st

import dashboard
from collect.asgi import routes
from dashboard import session_routes
from dashboard.data import accounts, keep_warm, store

# The page script by absolute path: this file also runs from an installed wheel, as sdg16/app.py (setup.py).
app = st.App(
    str(Path(dashboard.__file__).parent / "main.py"), routes=[*session_routes.routes(store()), *routes(store())]
)
accounts()  # on first run, creates the admin account and prints its one-time password on this console
keep_warm()  # load the last run's snapshot; recompute the pages' data in the background whenever the store changes
