"""Everything the pages show, computed from the store as it was at one moment (one `StoreVersion`).

A page draws from one snapshot, so its counts, flags, map and estimates always agree with each other even while
phones keep sending. Each part is computed the first time it is asked for and then kept (the field checks, the
plan's run over all submissions, the rounds); `warm()` computes the parts every page asks for, which the
dashboard does in the background before it shows a new snapshot (dashboard.data). No Streamlit in here: the
snapshot is plain data and analysis calls, so that it can be tested and benchmarked on its own.

A computed snapshot can be saved to a file and loaded by the next start, so that a restarted dashboard shows
the last figures at once (marked as older than the store if it has changed) instead of making its first
visitors wait for the plan's run (seconds at 100k submissions, benchmarks/dashboard.md). The file is a zip of
Parquet tables (every frame, series and array) and one JSON manifest saying what they are: reading it back runs no
code from the file (a pickle would run whatever a tampered file says), and anything it does not describe is ignored
and the snapshot recomputed. It is written 0600 in the private data folder (collect.private).
"""

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import compare, errors, pipeline, quality
from analysis.errors import AnalysisError
from analysis.plan import Plan
from collect.private import write_private
from collect.store import StoreVersion

T = TypeVar("T")
Round = tuple[str, str, str]  # (column, low, high): interview `day` or `form_version` within [low, high]
ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"
# What computed a saved snapshot: results saved by other code (an upgrade) are not shown as current ones.
CODE = hashlib.sha256(
    b"".join(path.read_bytes() for path in sorted([*ANALYSIS.rglob("*.py"), Path(__file__)]))
).hexdigest()
MANIFEST = "snapshot.json"
SAVED_RESULT_FIELDS = ("estimates", "diagnostics", "recode_log", "analysis_data", "eligible", "warnings", "margins")
# The errors a saved run may have ended in, by name: loading makes only these, never a class the file names.
ERRORS = {
    cls.__name__: cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, AnalysisError)
}


def plan_fingerprint(plan: Plan) -> str:
    """What identifies a plan in a saved snapshot: its full description (frozen dataclasses of plain values)."""
    return hashlib.sha256(repr(plan).encode()).hexdigest()


class _Writer:
    """Puts a snapshot's parts into a zip: tables as Parquet members, everything else described in JSON."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive, self.count = archive, 0

    def table(self, frame: pd.DataFrame) -> dict:
        self.count += 1
        name = f"part{self.count}.parquet"
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame), buffer)
        self.archive.writestr(name, buffer.getvalue())
        # Parquet gives text back as pandas' str dtype: note which columns were plain objects, to give them back so.
        return {"file": name, "object": [str(c) for c in frame.columns if frame[c].dtype == object]}

    def value(self, value: object) -> dict:
        if value is None or isinstance(value, str | int | float | bool):
            return {"kind": "value", "value": value}
        if isinstance(value, pd.DataFrame):
            return {"kind": "frame", **self.table(value)}
        if isinstance(value, pd.Series):
            return {"kind": "series", "name": value.name, **self.table(value.to_frame(name="values"))}
        if isinstance(value, np.ndarray):
            return {"kind": "array", **self.table(pd.DataFrame({"values": value}))}
        if isinstance(value, list):
            return {"kind": "list", "items": [self.value(item) for item in value]}
        if isinstance(value, AnalysisError) and type(value).__name__ in ERRORS:
            return {"kind": "error", "class": type(value).__name__, "message": str(value)}
        if isinstance(value, pipeline.Result):  # `responses` is the snapshot's own frame, given back on loading
            return {
                "kind": "result",
                "fields": {name: self.value(getattr(value, name)) for name in SAVED_RESULT_FIELDS},
            }
        raise TypeError(f"a snapshot part of type {type(value).__name__} cannot be saved")


class _Reader:
    """Reads back what _Writer wrote; raises ValueError / KeyError on anything else."""

    def __init__(self, archive: zipfile.ZipFile, responses: Callable[[], pd.DataFrame]):
        self.archive, self.responses = archive, responses

    def table(self, described: dict) -> pd.DataFrame:
        table = pq.read_table(io.BytesIO(self.archive.read(described["file"])))
        frame = table.to_pandas()
        for column in [c for c in frame.columns if str(c) in set(described["object"])]:  # missing values as None
            frame[column] = pd.Series(table.column(str(column)).to_pylist(), index=frame.index, dtype=object)
        return frame

    def value(self, described: dict) -> object:
        kind = described["kind"]
        if kind == "value":
            return described["value"]
        if kind == "frame":
            return self.table(described)
        if kind == "series":
            return self.table(described)["values"].rename(described["name"])
        if kind == "array":
            return self.table(described)["values"].to_numpy()
        if kind == "list":
            return [self.value(item) for item in described["items"]]
        if kind == "error":
            return ERRORS[described["class"]](described["message"])
        if kind == "result":
            values = {name: self.value(described["fields"][name]) for name in SAVED_RESULT_FIELDS}
            return pipeline.Result(responses=self.responses().copy(deep=False), **values)
        raise ValueError(f"unknown part kind {kind!r}")


def _part_key(key: object) -> object:
    """A part's key as JSON can hold it (tuples become lists) and back."""
    return list(key) if isinstance(key, tuple) else key


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
        return self._part(
            "current", lambda: self._every[self._every["review_state"] != "rejected"].reset_index(drop=True)
        )

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
                return compare.compare_rounds(
                    self.round_estimates(a).estimates,
                    self.round_estimates(b).estimates,
                    self.round_submissions(a)["instance_id"],
                    self.round_submissions(b)["instance_id"],
                    level=self.plan.estimation.level,
                )
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
        return [
            ("Dating the interviews", lambda: [self.interview_days(rejected) for rejected in (True, False)]),
            ("Running the field checks", self.quality_checks),
            ("Locating the GPS points", self.gps_points),
            ("Weighting and estimating", self.estimates),
        ]

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
        `path`, atomically (a crash leaves the previous file), 0600 in a 0700 folder."""
        with self._lock:
            parts = {
                key: value
                for key, value in self._parts.items()
                if not (isinstance(key, tuple) and key[0] in ("round", "comparison"))
            }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            writer = _Writer(archive)
            manifest = {
                "store": store_identity,
                "code": CODE,
                "plan": plan_fingerprint(self.plan),
                "version": list(self.version),
                "taken_at": self.taken_at.isoformat(),
                "every": writer.value(self._every),
                "parts": [[_part_key(key), writer.value(value)] for key, value in parts.items()],
            }
            archive.writestr(MANIFEST, json.dumps(manifest))
        write_private(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path, store_identity: str, plan: Plan, neighbourhoods: pd.DataFrame) -> "Snapshot | None":
        """The snapshot saved at `path` by this store with this code and plan; None when there is none, it cannot
        be read, or another store, code or plan made it (then it is recomputed)."""
        try:
            with zipfile.ZipFile(path) as archive:
                manifest = json.loads(archive.read(MANIFEST))
                if (manifest.get("store"), manifest.get("code"), manifest.get("plan")) != (
                    store_identity,
                    CODE,
                    plan_fingerprint(plan),
                ):
                    return None
                snapshot = None
                reader = _Reader(archive, lambda: snapshot.submissions())
                snapshot = cls(
                    StoreVersion(*manifest["version"]), reader.value(manifest["every"]), plan, neighbourhoods
                )
                snapshot.taken_at = datetime.fromisoformat(manifest["taken_at"])
                for key, described in manifest["parts"]:
                    snapshot._parts[tuple(key) if isinstance(key, list) else key] = reader.value(described)
        except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError, pa.ArrowException):
            return None
        return snapshot

    def _run(self, frame: pd.DataFrame) -> pipeline.Result | AnalysisError | None:
        if frame.empty:
            return None
        try:
            return pipeline.run(self.plan, frame)
        except AnalysisError as error:
            return error
