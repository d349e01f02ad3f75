"""Where the pages get their data: the store (collect), the accounts, and snapshots of what analysis makes of
the submissions.

Pages never query the database or compute statistics themselves; they call these functions. The submissions and
everything computed from them come from a `Snapshot` (dashboard.snapshot): the store as it was at one
`StoreVersion`, with the field checks, the plan's estimates and the rounds computed once and shared by every
session. At 100k submissions computing a snapshot takes seconds (benchmarks/dashboard.md), so no visitor waits for
it: `keep_warm()` (started by app.py) takes and computes a new snapshot in the background whenever the store
changes, and until it is done the pages show the previous one and say how old it is (dashboard.freshness). Only
when no snapshot exists does a page compute what it needs on the spot (from the frame saved in the data folder,
collect.frame): a start finds the snapshot the last run saved there once the store was quiet, and shows it.

Each script run pins one snapshot (at its first data call; main.py calls `new_run()`), so every part of a page shows the same data
even if a newer snapshot becomes ready halfway through the run. Snapshots are shared read-only: pages filter
and assign, never modify in place.
"""

import contextlib
import io
import logging
import threading
import time
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis import pipeline
from analysis.errors import AnalysisError
from analysis.margins import margin_assumption
from analysis.paths import DATA
from analysis.plan import DEFAULT_PLAN, Plan, load_plan
from collect.database import data_dir
from collect.errors import NotFound
from collect.frame import LiveFrame
from collect.store import Store, StoreVersion
from dashboard.auth import Accounts
from dashboard.i18n import _
from dashboard.snapshot import Round, Snapshot
from dashboard.targets import Targets
from forms.build import SHIPPED_FORM_ID as FORM_ID

STATUS_TTL_SECONDS = 2  # how stale a page may be about submissions arriving from phones
WARM_EVERY_SECONDS = 2.0  # how often the warmer looks for a change of the store (one cheap query)
QUIET_SECONDS = 30.0  # the store unchanged this long, the warmer saves the snapshot for the next start
SAVE_EVERY_SECONDS = 60.0  # how often, at most, the warmer rewrites the saved frame (~0.5 s at 100k)
WARMER_THREAD = "sdg16-cache-warmer"
PINNED = "data_snapshot"  # st.session_state key of the snapshot a script run shows


@st.cache_resource
def store() -> Store:
    """One Store per process, shared by the dashboard sessions (the OpenRosa routes run in worker processes of their
    own, each with its own Store: collect.workers)."""
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
    """Changes whenever a submission arrives, is edited or is reviewed, or a form is published. `Store.version()`
    (a few index lookups), read at most every STATUS_TTL_SECONDS; writes made from the dashboard call
    `changed()` so that their effect shows at once."""
    return store().version()


def is_empty() -> bool:
    return store_version().submissions == 0


@st.cache_data
def neighbourhoods() -> pd.DataFrame:
    """data/neighbourhoods.csv: the areas (code `name`, `label`, district, centroid)."""
    return pd.read_csv(DATA / "neighbourhoods.csv")


def sample_blocks() -> pd.DataFrame | None:
    """The round's selected blocks: the `blocks.csv` media file of the form phones download now (None without)."""
    try:
        return pd.read_csv(io.BytesIO(store().media_file(FORM_ID, None, "blocks.csv")), dtype={"name": str})
    except NotFound:
        return None


@st.cache_data
def margins_assumption() -> str:
    """What the plan's margins assume, in words (analysis.margins.margin_assumption)."""
    return margin_assumption(plan())


class Snapshots:
    """The newest snapshot taken, the newest one fully computed (`ready`), and the background warmer."""

    def __init__(self):
        self.warmer: threading.Thread | None = None
        # What the warmer is computing and how far it is (0–1); None once it has finished, or failed.
        self.progress: tuple[str, float] | None = ("Reading the submissions", 0.0)
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        self.ready = Snapshot.load(_saved(), store().identity(), plan(), neighbourhoods())  # the last run's
        self.newest: Snapshot | None = self.ready
        self.saved = self.ready.version if self.ready else None
        self.seen, self.seen_at = self.saved, time.monotonic()  # the store's version, and since when

    def save_when_quiet(self, snapshot: Snapshot, quiet_seconds: float) -> bool:
        """Save `snapshot` for the next start once the store has not changed for `quiet_seconds` (saving takes
        about a second at 100k submissions: not after every upload of a busy field day). Returns whether it saved."""
        if snapshot.version != self.seen:
            self.seen, self.seen_at = snapshot.version, time.monotonic()
        if self.saved == snapshot.version or time.monotonic() - self.seen_at < quiet_seconds:
            return False
        snapshot.save(_saved(), store().identity())
        self.saved = snapshot.version
        return True

    def at(self, version: StoreVersion) -> Snapshot:
        """The newest snapshot if it is of `version`, else a new one taken now (its frame read incrementally)."""
        with self.lock:
            if self.newest is None or self.newest.version != version:
                self.newest = Snapshot(version, _live().read(), plan(), neighbourhoods())
            return self.newest

    def warming(self) -> bool:
        return self.warmer is not None and self.warmer.is_alive()

    def stop(self) -> None:
        """End the warmer (tests, before they drop the store it reads)."""
        self.stopping.set()
        self.wake.set()
        if self.warming():
            self.warmer.join()


def _saved() -> Path:
    """Where the last computed snapshot is kept between runs (dashboard.snapshot)."""
    return data_dir() / "cache" / f"snapshot-{FORM_ID}.zip"


@st.cache_resource
def _snapshots() -> Snapshots:
    return Snapshots()


@st.cache_resource
def _live() -> LiveFrame:
    """The submissions frame, re-read incrementally, and saved in the data folder so that a restart reads the
    file instead of decoding every submission again."""
    return LiveFrame(store(), FORM_ID, saved=data_dir() / "cache" / f"frame-{FORM_ID}.parquet")


def shown() -> Snapshot:
    """The snapshot a page should show now: the newest ready one while the warmer computes a newer one, else the
    one of the current store version (taken on the spot, its parts computed as pages ask for them)."""
    snapshots = _snapshots()
    ready = snapshots.ready
    if ready is not None and (ready.version == store_version() or snapshots.warming()):
        if ready.version != store_version():
            snapshots.wake.set()
        return ready
    with _spinner(_("Reading the submissions…")):
        return snapshots.at(store_version())


def _spinner(message: str):
    """Streamlit's spinner (drawn only if the work lasts over half a second) in a script run; nothing outside."""
    return st.spinner(message) if get_script_run_ctx(suppress_warning=True) else contextlib.nullcontext()


def ready() -> Snapshot | None:
    """The newest snapshot whose parts are all computed (by the warmer, or `refresh()`), if any."""
    return _snapshots().ready


def first_snapshot_progress() -> tuple[str, float] | None:
    """While the warmer computes the first snapshot of this process and none was saved by the last one (the
    first start on a store, or after an upgrade of the analysis): what it is computing and how far it is (0–1).
    None otherwise: pages then show a snapshot (or, without a warmer, compute one on the spot)."""
    snapshots = _snapshots()
    if snapshots.ready is not None or not snapshots.warming() or is_empty():
        return None
    return snapshots.progress


def new_run() -> None:
    """Start of a script run (main.py calls it): the first data call of the run pins the snapshot it shows, so
    that all of a page shows the same data. Pages that show none (volunteers, import) never take one."""
    st.session_state[PINNED] = None


def snapshot() -> Snapshot:
    """The snapshot pinned for this script run (pinned now if this is the run's first data call); `shown()`
    outside a script run."""
    if not get_script_run_ctx(suppress_warning=True):
        return shown()
    if st.session_state.get(PINNED) is None:
        st.session_state[PINNED] = shown()
    return st.session_state[PINNED]


def refresh(snapshots: Snapshots | None = None) -> Snapshot | None:
    """Take a snapshot of the current store, compute all its parts and make it the one pages show. The warmer
    calls this; a no-op (bar one cheap query) while the store is unchanged."""
    snapshots = snapshots or _snapshots()
    version = store().version()
    if version.submissions == 0:
        return None
    if snapshots.ready is not None and snapshots.ready.version == version:
        snapshots.ready.warm_rounds()  # computed once (a snapshot loaded at start has none); then lookups only
        return snapshots.ready  # unchanged: the usual case, every WARM_EVERY_SECONDS
    snapshots.progress = ("Reading the submissions", 0.0)
    newest = snapshots.at(version)
    steps = newest.warm_steps()
    for done, (what, compute) in enumerate(steps):
        snapshots.progress = (what, (done + 1) / (len(steps) + 1))
        compute()
    snapshots.ready, snapshots.progress = newest, None  # shown from now on
    newest.warm_rounds()  # a visitor opening the Rounds tab meanwhile waits for this work, not for a second copy
    _live().save(at_most_every=SAVE_EVERY_SECONDS)
    return newest


def save_snapshot() -> bool:
    """Save the ready snapshot for the next start now (the warmer does it once the store is quiet)."""
    ready = _snapshots().ready
    return ready is not None and _snapshots().save_when_quiet(ready, quiet_seconds=0)


def stop_warming() -> None:
    """End the background warmer, if any (before the store it reads is closed)."""
    _snapshots().stop()


def changed() -> None:
    """Call after the dashboard wrote to the store (review, import, demo): the next rerun sees the new version
    and the warmer starts on it at once."""
    store_version.clear()
    _snapshots().wake.set()


def pinned() -> Snapshot | None:
    """The snapshot this script run has shown, if it showed data (outside a run: `shown()`)."""
    return st.session_state.get(PINNED) if get_script_run_ctx(suppress_warning=True) else shown()


def stale_by() -> tuple[Snapshot, StoreVersion] | None:
    """(the snapshot this run showed, the store's version now) when the store has changed since that snapshot
    was taken; None when it has not, or when the run showed no data."""
    shown_now, now = pinned(), store_version()
    return None if shown_now is None or shown_now.version == now else (shown_now, now)


def submissions(include_rejected: bool = False) -> pd.DataFrame:
    """The submissions of the shipped form (the analysis frame), without the rejected ones unless asked."""
    return snapshot().submissions(include_rejected)


def interview_days(include_rejected: bool = False) -> pd.Series:
    """Per submission of `submissions(...)`: the day the interview started (Snapshot.interview_days)."""
    return snapshot().interview_days(include_rejected)


def quality_checks() -> pd.DataFrame:
    """analysis.quality's per-submission flags over every submission (rejected included)."""
    with _spinner(_("Running the field checks…")):
        return snapshot().quality_checks()


def gps_points() -> pd.DataFrame:
    """lat/lon of every submission (rejected included; NaN without a valid point)."""
    return snapshot().gps_points()


def estimates() -> pipeline.Result | AnalysisError | None:
    """The plan run over the submissions not rejected. None on an empty store; an AnalysisError (whose message
    names the problem) when the plan cannot run."""
    with _spinner(_("Weighting and estimating…")):
        return snapshot().estimates()


def round_estimates(column: str, low: str, high: str) -> pipeline.Result | AnalysisError | None:
    """As `estimates`, over one round: interview `day` (or `form_version`) within [low, high]."""
    with _spinner(_("Estimating the round…")):
        return snapshot().round_estimates((column, low, high))


def round_comparison(a: Round, b: Round) -> pd.DataFrame | AnalysisError:
    """analysis.compare's change B − A of every estimate, for two rounds given as (column, low, high)."""
    with _spinner(_("Comparing the rounds…")):
        return snapshot().round_comparison(a, b)


def default_day_rounds() -> tuple[tuple[date, date], tuple[date, date]]:
    """The rounds the Estimates page starts with: the first and the second half of the interview days."""
    return snapshot().default_day_rounds()


def keep_warm(every_seconds: float = WARM_EVERY_SECONDS) -> threading.Thread:
    """Run `refresh()` in a daemon thread whenever the store changes (looked at every `every_seconds`, or at
    once after `changed()`). One thread per process, however often it is asked for.

    The thread has no script-run context, for which Streamlit's cache logs a harmless warning on every call;
    a filter drops those warnings for this thread only."""
    snapshots = _snapshots()
    with snapshots.lock:
        if snapshots.warming():
            return snapshots.warmer
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
            lambda record: record.threadName != WARMER_THREAD
        )

        def loop() -> None:
            while not snapshots.stopping.is_set():
                try:
                    snapshot = refresh(snapshots)
                    if snapshot is not None:
                        snapshots.save_when_quiet(snapshot, QUIET_SECONDS)
                except Exception as error:  # noqa: BLE001 — a failed refresh must not stop later ones; pages show the error
                    snapshots.progress = (
                        None  # pages waiting for a first snapshot compute it themselves, and fail visibly
                    )
                    print(f"sdg16 dashboard: computing the pages' data failed: {error}", flush=True)
                snapshots.wake.wait(every_seconds)
                snapshots.wake.clear()

        snapshots.warmer = threading.Thread(target=loop, name=WARMER_THREAD, daemon=True)
        snapshots.warmer.start()
        return snapshots.warmer
