"""Where the pages get their data: the store (collect), the accounts, and cached results of analysis.

Pages never query the database or compute statistics themselves; they call these functions. Anything costly is
cached keyed on the store's version, so a new submission or a review decision invalidates the cache and a
filter change reuses it.

The large results (the submissions frame, the field checks, the pipeline's result) are cached with
`st.cache_resource`, not `st.cache_data`: cache_data hands every rerun an unpickled copy, which for 100k
submissions costs more than the whole 0.5 s budget of a filter change (benchmarks/dashboard_render.py).
They are shared between sessions and treated as read-only: pages filter and assign, never modify in place.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

import analysis
from analysis import pipeline, quality
from analysis.plan import Plan, load_plan
from collect.store import Store
from dashboard.auth import Accounts
from dashboard.geography import DATA
from dashboard.targets import Targets

FORM_ID = "sdg16_perception"
PLAN = Path(analysis.__file__).parent / "plans" / "sdg16.toml"


@st.cache_resource
def store() -> Store:
    """One Store per process, shared by the dashboard sessions and (through app.py) the OpenRosa routes."""
    return Store.open()


@st.cache_resource
def accounts() -> Accounts:
    """The accounts table; on its first use with no account, creates `admin` and prints its one-time password."""
    accounts = Accounts(store().engine)
    password = accounts.ensure_first_admin()
    if password:
        print(
            f"\nsdg16 dashboard: first run — sign in as 'admin' with the one-time password\n\n    {password}\n\n"
            "You will be asked to choose a new password.\n",
            flush=True,
        )
    return accounts


@st.cache_resource
def targets() -> Targets:
    return Targets(store().engine)


@st.cache_resource
def plan() -> Plan:
    """The default analysis plan of the shipped questionnaire."""
    return load_plan(PLAN)


def store_version() -> str:
    """Changes whenever a submission arrives, is edited or is reviewed: the key of every cached result."""
    return store().status().to_json(date_format="iso")


def is_empty() -> bool:
    return store().status().empty


@st.cache_data
def neighbourhoods() -> pd.DataFrame:
    """data/neighbourhoods.csv: the areas (code `name`, `label`, district, centroid)."""
    return pd.read_csv(DATA / "neighbourhoods.csv")


@st.cache_resource(show_spinner="Loading submissions…", max_entries=4)
def _frame(version: str, form_id: str, include_rejected: bool) -> pd.DataFrame:
    return store().submissions_frame(form_id, include_rejected=include_rejected)


def submissions(form_id: str = FORM_ID, include_rejected: bool = False) -> pd.DataFrame:
    """Current submissions of a form (the analysis frame), cached per store version. Read-only."""
    return _frame(store_version(), form_id, include_rejected)


@st.cache_resource(show_spinner="Running the field checks…", max_entries=4)
def _checks(version: str, form_id: str) -> pd.DataFrame:
    return quality.check_submissions(_frame(version, form_id, True), neighbourhoods())


def quality_checks(form_id: str = FORM_ID) -> pd.DataFrame:
    """analysis.quality's per-submission flags over every current submission (rejected included), cached."""
    return _checks(store_version(), form_id)


@st.cache_resource(show_spinner="Weighting and estimating…", max_entries=4)
def _result(version: str, form_id: str) -> pipeline.Result | None:
    frame = _frame(version, form_id, False)
    return None if frame.empty else pipeline.run(plan(), frame)


def estimates(form_id: str = FORM_ID) -> pipeline.Result | None:
    """The plan run over the current, not rejected submissions (None on an empty store), cached. Read-only."""
    return _result(store_version(), form_id)
