"""Everything the pages show, computed from the store as it was at one moment (one `StoreVersion`).

A page draws from one snapshot, so its counts, flags, map and estimates always agree with each other even while
phones keep sending. Each part is computed the first time it is asked for and then kept (the field checks, the
plan's run over all submissions, the rounds); `warm()` computes the parts every page asks for, which the
dashboard does in the background before it shows a new snapshot (dashboard.data). No Streamlit in here: the
snapshot is plain data and analysis calls, so that it can be tested and benchmarked on its own.

A computed snapshot can be saved to a file and loaded by the next start, so that a restarted dashboard shows
the last figures at once (marked as older than the store if it has changed) instead of making its first
visitors wait for the plan's run (seconds at 100k submissions, benchmarks/dashboard.md). The file is a pickle:
it is written and read only by this server, in its own data folder, like the database beside it.
"""

import hashlib
import os
import pickle
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pandas as pd

from analysis import compare, pipeline, quality
from analysis.errors import AnalysisError
from analysis.plan import Plan
from collect.store import StoreVersion

T = TypeVar("T")
Round = tuple[str, str, str]  # (column, low, high): interview `day` or `form_version` within [low, high]
ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"
# What computed a saved snapshot: results saved by other code (an upgrade) are not shown as current ones.
CODE = hashlib.sha256(b"".join(path.read_bytes() for path in sorted([*ANALYSIS.rglob("*.py"), Path(__file__)]))).hexdigest()


class Snapshot:
    """The submissions of one form at `version` and what analysis makes of them. Read-only once made; the
    frames it hands out are shared between sessions, so pages filter and assign, never modify in place."""

    def __init__(self, version: StoreVersion, every: pd.DataFrame, plan: Plan, neighbourhoods: pd.DataFrame):
        self.version, self.plan, self.neighbourhoods = version, plan, neighbourhoods
        self.taken_at = datetime.now(UTC)
        self._every = every
        self._parts: dict[object, object] = {}
        self._computing: dict[object, threading.Lock] = {}
        self._lock = threading.Lock()

    def _part(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()` once per key; a second caller of the same key waits for the first rather than computing
        it again, while callers of other parts go on."""
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            if key not in self._parts:
                self._parts[key] = compute()
        return self._parts[key]

    def submissions(self, include_rejected: bool = False) -> pd.DataFrame:
        """The analysis frame (Store.submissions_frame), without the rejected submissions unless asked."""
        if include_rejected:
            return self._every
        return self._part("current", lambda: self._every[self._every["review_state"] != "rejected"].reset_index(drop=True))

    def interview_days(self, include_rejected: bool = False) -> pd.Series:
        """Per submission of `submissions(...)`: the day the interview started as the phone wrote it (`start`,
        local time), else the day it was received. Rounds and date filters use it: uploads can lag by days."""
        def days() -> pd.Series:
            frame = self.submissions(include_rejected)
            received = frame["received_at"].dt.tz_convert(None).dt.normalize()
            if "start" not in frame:
                return received.dt.date
            started = pd.to_datetime(frame["start"].str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
            return started.fillna(received).dt.date
        return self._part(("days", include_rejected), days)

    def quality_checks(self) -> pd.DataFrame:
        """analysis.quality's per-submission flags over every submission (rejected included)."""
        return self._part("checks", lambda: quality.check_submissions(self._every, self.neighbourhoods))

    def gps_points(self) -> pd.DataFrame:
        """lat/lon of every submission (rejected included; NaN without a valid point)."""
        def points() -> pd.DataFrame:
            lat, lon = quality.gps_points(self._every)
            return pd.DataFrame({"lat": lat, "lon": lon})
        return self._part("points", points)

    def estimates(self) -> pipeline.Result | AnalysisError | None:
        """The plan over the submissions not rejected. None without submissions; an AnalysisError (whose
        message names the problem, for the page to say) when the plan cannot run on these data."""
        return self._part("estimates", lambda: self._run(self.submissions()))

    def round_submissions(self, round_: Round) -> pd.DataFrame:
        """The submissions (not rejected) of one round."""
        column, low, high = round_
        frame = self.submissions()
        key = self.interview_days().astype(str) if column == "day" else frame[column].astype(str)
        return frame[(key >= low) & (key <= high)]

    def round_estimates(self, round_: Round) -> pipeline.Result | AnalysisError | None:
        """As `estimates`, over one round."""
        return self._part(("round", round_), lambda: self._run(self.round_submissions(round_)))

    def round_comparison(self, a: Round, b: Round) -> pd.DataFrame | AnalysisError:
        """analysis.compare's change B − A of every estimate, for two rounds whose `round_estimates` both
        succeeded; rounds sharing a submission come back as the AnalysisError saying so."""
        def comparison() -> pd.DataFrame | AnalysisError:
            try:
                return compare.compare_rounds(self.round_estimates(a).estimates, self.round_estimates(b).estimates,
                                              self.round_submissions(a)["instance_id"], self.round_submissions(b)["instance_id"],
                                              level=self.plan.estimation.level)
            except AnalysisError as error:
                return error
        return self._part(("comparison", a, b), comparison)

    def default_day_rounds(self) -> tuple[tuple[date, date], tuple[date, date]]:
        """The rounds the Estimates page starts with: the first and the second half of the interview days."""
        days = self.interview_days()
        start, end = days.min(), days.max()
        middle = start + (end - start) / 2
        return (start, middle), (min(middle + timedelta(days=1), end), end)

    def warm_steps(self) -> list[tuple[str, Callable[[], object]]]:
        """Every part a page shows when first opened, as (what it is, compute it), in the order the warmer
        computes them; named so that a page waiting for them can say where the work is."""
        if self._every.empty:
            return []
        return [("Dating the interviews", lambda: [self.interview_days(rejected) for rejected in (True, False)]),
                ("Running the field checks", self.quality_checks), ("Locating the GPS points", self.gps_points),
                ("Weighting and estimating", self.estimates)]

    def warm(self) -> None:
        """Compute every part a page shows when first opened, so that no visitor waits for one."""
        for _, compute in self.warm_steps():
            compute()

    def warm_rounds(self) -> None:
        """Compute the Rounds tab's default comparison (two more runs of the plan)."""
        if self._every.empty:
            return
        first, second = (("day", str(low), str(high)) for low, high in self.default_day_rounds())
        if all(isinstance(self.round_estimates(r), pipeline.Result) for r in (first, second)):
            self.round_comparison(first, second)

    def save(self, path: Path, store_identity: str) -> None:
        """Write the frame and the computed parts (not the rounds, which the Rounds tab computes when opened) to
        `path`, atomically: a crash leaves the previous file."""
        with self._lock:
            parts = {key: value for key, value in self._parts.items() if not (isinstance(key, tuple) and key[0] in ("round", "comparison"))}
        state = {"store": store_identity, "code": CODE, "plan": self.plan, "version": tuple(self.version),
                 "taken_at": self.taken_at, "every": self._every, "parts": parts}
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as file:
            pickle.dump(state, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path, store_identity: str, plan: Plan, neighbourhoods: pd.DataFrame) -> "Snapshot | None":
        """The snapshot saved at `path` by this store with this code and plan; None when there is none, it cannot
        be read, or another store, code or plan made it (then it is recomputed)."""
        try:
            with open(path, "rb") as file:
                state = pickle.load(file)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            return None
        if not isinstance(state, dict) or (state.get("store"), state.get("code"), state.get("plan")) != (store_identity, CODE, plan):
            return None
        snapshot = cls(StoreVersion(*state["version"]), state["every"], plan, neighbourhoods)
        snapshot.taken_at, snapshot._parts = state["taken_at"], state["parts"]
        return snapshot

    def _run(self, frame: pd.DataFrame) -> pipeline.Result | AnalysisError | None:
        if frame.empty:
            return None
        try:
            return pipeline.run(self.plan, frame)
        except AnalysisError as error:
            return error
