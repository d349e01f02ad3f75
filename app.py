"""`streamlit run app.py`: the dashboard at / and collect's routes (OpenRosa, web form) on the same port.

Streamlit's `st.App` serves the dashboard script and, beside it, the dashboard's session-cookie routes
(dashboard.session_routes). The port itself is served by OpenRosa worker processes that this app starts,
supervises and stops (collect.workers.serving): they answer the phones themselves and forward everything else to
Streamlit, so that no dashboard load can slow the phones down. The warmer started here turns each change of the
store into a new snapshot of the pages' data within seconds (dashboard.data).
"""

from pathlib import Path

import streamlit as st

import dashboard
from collect.workers import serving
from dashboard import session_routes
from dashboard.data import accounts, keep_warm, store

# The page script by absolute path: this file also runs from an installed wheel, as sdg16/app.py (setup.py).
app = st.App(str(Path(dashboard.__file__).parent / "main.py"), routes=session_routes.routes(store()), lifespan=serving)
accounts()  # on first run, creates the admin account and prints its one-time password on this console
keep_warm()  # load the last run's snapshot; recompute the pages' data in the background whenever the store changes
