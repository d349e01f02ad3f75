"""Where the pages get their data: the store (collect), the accounts, and cached results of analysis.

Pages never query the database or compute statistics themselves; they call these functions. Anything costly is
cached keyed on the store's version, so a new submission or a review decision invalidates the cache and a
filter change reuses it.

The large results (the submissions frame, the field checks, the pipeline's result) are cached with
`st.cache_resource`, not `st.cache_data`: cache_data hands every rerun an unpickled copy, which for 100k
submissions costs more than the whole 0.5 s budget of a filter change (benchmarks/dashboard_render.py).
They are shared between sessions and treated as read-only: pages filter and assign, never modify in place.
"""

import logging
import threading
import time
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from analysis import compare, pipeline, quality
from analysis.errors import AnalysisError
from analysis.margins import DATA, margin_assumption
from analysis.plan import DEFAULT_PLAN, Plan, load_plan
from collect.store import Store, StoreVersion
from dashboard.auth import Accounts
from dashboard.targets import Targets
from forms.build import SHIPPED_FORM_ID as FORM_ID

STATUS_TTL_SECONDS = 5  # how stale a page may be about submissions arriving from phones
WARMER_THREAD = "sdg16-cache-warmer"


@st.cache_resource
def store() -> Store:
    """One Store per process, shared by the dashboard sessions and (through app.py) the OpenRosa routes."""
    return Store.open()


@st.cache_resource
def accounts() -> Accounts:
    """The accounts table; on its first use with no account, creates `admin` and prints its one-time password."""
    accounts = Accounts(store())
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
    return Targets(store())


@st.cache_resource
def plan() -> Plan:
    """The default analysis plan of the shipped questionnaire."""
    return load_plan(DEFAULT_PLAN)


@st.cache_data(ttl=STATUS_TTL_SECONDS, show_spinner=False)
def store_version() -> StoreVersion:
    """Changes whenever a submission arrives, is edited or is reviewed, or a form is published: the key of every
    cached result. `Store.version()` (a few index lookups), read at most every STATUS_TTL_SECONDS (one query
    instead of one per cached call of a rerun); writes made from the dashboard call `changed()` so that their
    effect shows at once."""
    return store().version()


def is_empty() -> bool:
    return store_version().submissions == 0


def changed() -> None:
    """Call after the dashboard wrote to the store (review, import, demo): the next rerun sees the new version."""
    store_version.clear()


@st.cache_data
def neighbourhoods() -> pd.DataFrame:
    """data/neighbourhoods.csv: the areas (code `name`, `label`, district, centroid)."""
    return pd.read_csv(DATA / "neighbourhoods.csv")


@st.cache_resource(show_spinner="Loading submissions…", max_entries=4)
def _frame(version: StoreVersion, form_id: str, include_rejected: bool) -> pd.DataFrame:
    if include_rejected:
        return store().submissions_frame(form_id, include_rejected=True)
    every = _frame(version, form_id, True)  # one read of the store serves both frames
    return every[every["review_state"] != "rejected"].reset_index(drop=True)


def submissions(form_id: str = FORM_ID, include_rejected: bool = False) -> pd.DataFrame:
    """Current submissions of a form (the analysis frame), cached per store version. Read-only."""
    return _frame(store_version(), form_id, include_rejected)


@st.cache_resource(show_spinner="Running the field checks…", max_entries=4)
def _checks(version: StoreVersion, form_id: str) -> pd.DataFrame:
    return quality.check_submissions(_frame(version, form_id, True), neighbourhoods())


def quality_checks(form_id: str = FORM_ID) -> pd.DataFrame:
    """analysis.quality's per-submission flags over every current submission (rejected included), cached."""
    return _checks(store_version(), form_id)


def _run(frame: pd.DataFrame) -> pipeline.Result | AnalysisError | None:
    """The plan over `frame`; a plan/data problem is returned (and so cached) as the error, for the page to say."""
    if frame.empty:
        return None
    try:
        return pipeline.run(plan(), frame)
    except AnalysisError as error:
        return error


@st.cache_resource(show_spinner="Weighting and estimating…", max_entries=4)
def _result(version: StoreVersion, form_id: str) -> pipeline.Result | AnalysisError | None:
    return _run(_frame(version, form_id, False))


def estimates(form_id: str = FORM_ID) -> pipeline.Result | AnalysisError | None:
    """The plan run over the current, not rejected submissions, cached. Read-only.

    None on an empty store; an AnalysisError (whose message names the problem) when the plan cannot run."""
    return _result(store_version(), form_id)


@st.cache_data
def margins_assumption() -> str:
    """What the plan's margins assume, in words (analysis.margins.margin_assumption)."""
    return margin_assumption(plan())


@st.cache_resource(max_entries=4)
def _days(version: StoreVersion, form_id: str, include_rejected: bool) -> pd.Series:
    frame = _frame(version, form_id, include_rejected)
    started = pd.to_datetime(frame["start"].str.slice(0, 10), errors="coerce", format="%Y-%m-%d") if "start" in frame else None
    received = frame["received_at"].dt.tz_convert(None).dt.normalize()
    return (received if started is None else started.fillna(received)).dt.date


def interview_days(form_id: str = FORM_ID, include_rejected: bool = False) -> pd.Series:
    """Per submission of `submissions(...)`: the day the interview started as the phone wrote it (`start`,
    local time), else the day it was received. Rounds and date filters use it: uploads can lag by days."""
    return _days(store_version(), form_id, include_rejected)


def _round(version: StoreVersion, form_id: str, column: str, low: str, high: str) -> pd.DataFrame:
    """The submissions of one round: those whose interview `day` (or `form_version`) lies in [low, high]."""
    frame = _frame(version, form_id, False)
    key = _days(version, form_id, False).astype(str) if column == "day" else frame[column].astype(str)
    return frame[(key >= low) & (key <= high)]


@st.cache_resource(show_spinner="Estimating the round…", max_entries=8)
def _round_result(version: StoreVersion, form_id: str, column: str, low: str, high: str) -> pipeline.Result | AnalysisError | None:
    return _run(_round(version, form_id, column, low, high))


def round_estimates(column: str, low: str, high: str, form_id: str = FORM_ID) -> pipeline.Result | AnalysisError | None:
    """As `estimates`, over one round (see `_round`)."""
    return _round_result(store_version(), form_id, column, low, high)


@st.cache_resource(max_entries=8)
def _comparison(version: StoreVersion, form_id: str, a: tuple[str, str, str], b: tuple[str, str, str]) -> pd.DataFrame | AnalysisError:
    first, second = _round_result(version, form_id, *a), _round_result(version, form_id, *b)
    try:
        return compare.compare_rounds(first.estimates, second.estimates, _round(version, form_id, *a)["instance_id"],
                                      _round(version, form_id, *b)["instance_id"], level=plan().estimation.level)
    except AnalysisError as error:
        return error


def default_day_rounds(form_id: str = FORM_ID) -> tuple[tuple[date, date], tuple[date, date]]:
    """The rounds the Estimates page starts with: the first and the second half of the interview days."""
    days = interview_days(form_id)
    start, end = days.min(), days.max()
    middle = start + (end - start) / 2
    return (start, middle), (min(middle + timedelta(days=1), end), end)


def round_comparison(a: tuple[str, str, str], b: tuple[str, str, str], form_id: str = FORM_ID) -> pd.DataFrame | AnalysisError:
    """analysis.compare's change B − A of every estimate, for two rounds given as (column, low, high) whose
    `round_estimates` both succeeded; rounds sharing a submission come back as the AnalysisError saying so."""
    return _comparison(store_version(), form_id, a, b)


@st.cache_resource(max_entries=4)
def _points(version: StoreVersion, form_id: str) -> pd.DataFrame:
    lat, lon = quality.gps_points(_frame(version, form_id, True))
    return pd.DataFrame({"lat": lat, "lon": lon})


def gps_points(form_id: str = FORM_ID) -> pd.DataFrame:
    """lat/lon of every current submission (rejected included; NaN without a valid point), cached."""
    return _points(store_version(), form_id)


def warm() -> None:
    """Compute everything the pages ask for at the current store version, so that the next visitor finds it
    cached. At 100k submissions the plan alone takes seconds (benchmarks/dashboard.md): without this, the first
    visitor after new data would wait for it."""
    if is_empty():
        return
    for include_rejected in (True, False):
        submissions(include_rejected=include_rejected)
        interview_days(include_rejected=include_rejected)
    quality_checks()
    gps_points()
    estimates()
    first, second = (("day", str(low), str(high)) for low, high in default_day_rounds())  # the Rounds tab's
    if all(isinstance(round_estimates(*r), pipeline.Result) for r in (first, second)):
        round_comparison(first, second)


def keep_warm(every_seconds: float = 10.0) -> threading.Thread:
    """Run `warm()` in a daemon thread every `every_seconds` (a no-op while the store version is unchanged).

    The thread has no script-run context, for which Streamlit's cache logs a harmless warning on every call;
    a filter drops those warnings for this thread only."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: record.threadName != WARMER_THREAD)

    def loop() -> None:
        while True:
            try:
                warm()
            except Exception as error:  # noqa: BLE001 — a failed warm-up must not stop later ones; pages show the error
                print(f"sdg16 dashboard: warming the caches failed: {error}", flush=True)
            time.sleep(every_seconds)

    thread = threading.Thread(target=loop, name=WARMER_THREAD, daemon=True)
    thread.start()
    return thread
