"""Field-quality checks coordinators run every day (high-frequency checks), on the submissions frame.

Modelled on IPA's `ipacheck` and DataSure: one row per submission with a boolean column per check
(`check_submissions`), and summaries per volunteer, neighbourhood and day that compare each volunteer with the
team. Input is the store's frame (docs/DESIGN.md, "Store → analysis frame": strings, select_multiple
space-separated); nothing here mutates it.

Everything is vectorised column-wise (no per-row Python) because the dashboard renders 100k submissions in
under 2 s; `benchmarks/` holds the figure.

Neighbourhoods have no polygons (data/neighbourhoods.csv gives a centroid only), so "outside the claimed
neighbourhood" means "farther from its centroid than a radius" — a coarse check: a generous radius avoids
false alarms at the cost of missing near misses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

DK_RF = ("dont_know", "refused")
META_COLUMNS = (
    "instance_id",
    "form_id",
    "form_version",
    "volunteer",
    "device_id",
    "received_at",
    "review_state",
    "source",
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "audit",
    "instanceName",
    "gps",
)
BATTERIES = {
    s: tuple(f"{s}_{a}" for a in ("access", "affordability", "quality", "courtesy", "timeliness"))
    for s in ("health", "school_primary", "school_secondary", "gov_services")
}
RESPONDENT_KEY = ("neighbourhood", "psu", "sex", "age", "education", "household_adults", "years_in_neighbourhood")
CHECKS = (
    "duplicate_id",
    "duplicate_respondent",
    "duplicate_gps",
    "speeder",
    "duration_outlier",
    "outdated_version",
    "gps_missing",
    "gps_outside",
    "straightlining",
    "odd_hour",
)


def durations(submissions: pd.DataFrame) -> pd.Series:
    """Interview length in minutes from the form's `start`/`end` (NaN when either is missing or unparseable)."""
    start = _timestamps(submissions, "start")
    end = _timestamps(submissions, "end")
    return (end - start).dt.total_seconds() / 60.0


def _timestamps(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")


def check_submissions(
    submissions: pd.DataFrame,
    neighbourhoods: pd.DataFrame | None = None,
    *,
    current_version: str | None = None,
    min_minutes: float = 8.0,
    outlier_z: float = 3.5,
    working_hours: tuple[int, int] = (7, 21),
    timezone: str = "America/Lima",
    gps_radius_km: float = 2.0,
    gps_precision: int = 4,
    min_straightlined: int = 2,
    respondent_key: tuple[str, ...] = RESPONDENT_KEY,
) -> pd.DataFrame:
    """One row per submission: identifiers, duration, DK/RF share and a True/False column per check in CHECKS.

    - duplicate_id: the instanceID occurs more than once; duplicate_respondent: the same `respondent_key`
      answers (same block, sex, age, education, household size, years in the area) on another submission;
      duplicate_gps: the same point (rounded to `gps_precision` decimals, ~11 m at 4) on another submission.
    - speeder: a completed interview (consented adult) shorter than `min_minutes`; duration_outlier: |robust z|
      of log duration above `outlier_z` among completed interviews (median/MAD, so a few speeders do not hide
      themselves by inflating the SD). A screen-out (no consent, under age) is short by design, never a speeder.
    - outdated_version: older than `current_version` (default: the newest version seen for the form).
    - gps_missing / gps_outside: no point, or farther than `gps_radius_km` from the claimed neighbourhood's
      centroid (needs `neighbourhoods` with name, lat, lon).
    - straightlining: the same answer to all five attributes in `min_straightlined` or more of the 16.6.2 service
      batteries. One battery alone is common in honest answers (a service found good on every count: ~20 % of
      the demo round); two or more flag a few percent.
    - odd_hour: started outside `working_hours` local time (`timezone`).
    """
    frame = submissions
    out = pd.DataFrame(index=frame.index)
    for column in ("instance_id", "volunteer", "neighbourhood", "form_version"):
        out[column] = frame[column] if column in frame.columns else pd.NA
    out["duration_min"] = durations(frame)
    out["dk_rf_share"] = dk_rf_share(frame)
    out["duplicate_id"] = _duplicated(frame, ["instance_id"])
    out["duplicate_respondent"] = _duplicated(frame, list(respondent_key))
    lat, lon = gps_points(frame)
    points = pd.DataFrame({"lat": lat.round(gps_precision), "lon": lon.round(gps_precision)})
    out["duplicate_gps"] = points.duplicated(keep=False).to_numpy() & lat.notna().to_numpy()
    completed = _completed(frame, 18)
    timed = out["duration_min"].where(completed)
    out["speeder"] = (timed < min_minutes).fillna(False)
    out["duration_outlier"] = _robust_outlier(np.log(timed.where(timed > 0)), outlier_z)
    out["outdated_version"] = _outdated(frame, current_version)
    # the point is only asked in a consented adult interview, and only if the form has a gps question at all
    out["gps_missing"] = lat.isna() & completed & ("gps" in frame.columns)
    out["gps_distance_km"] = _distance(frame, lat, lon, neighbourhoods)
    out["gps_outside"] = (out["gps_distance_km"] > gps_radius_km).fillna(False)
    out["straightlined_batteries"] = straightlined_batteries(frame)
    out["straightlining"] = out["straightlined_batteries"] >= min_straightlined
    out["odd_hour"] = _odd_hour(frame, working_hours, timezone)
    out["consent_refused"] = frame["consent"].eq("no") if "consent" in frame.columns else False
    out["issues"] = _issue_text(out[list(CHECKS)])
    return out


def _duplicated(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """True for every row sharing all `columns` with another row; rows missing any of them are never duplicates."""
    if not set(columns) <= set(frame.columns):
        return pd.Series(False, index=frame.index)
    keys = frame[columns]
    return keys.duplicated(keep=False) & keys.notna().all(axis=1)


def dk_rf_share(frame: pd.DataFrame) -> pd.Series:
    """Share of a submission's answered questions that are don't know / refused (metadata columns ignored)."""
    questions = [c for c in frame.columns if c not in META_COLUMNS]
    if not questions:
        return pd.Series(np.nan, index=frame.index)
    answered = np.zeros(len(frame))
    dk = np.zeros(len(frame))
    for column in questions:  # column by column: ~2.5x faster than np.isin on the whole object array at 100k rows
        values = frame[column]
        answered += values.notna().to_numpy()
        dk += values.isin(DK_RF).to_numpy()
    return pd.Series(np.where(answered > 0, dk / np.maximum(answered, 1), np.nan), index=frame.index)


def gps_points(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Latitude and longitude from an ODK geopoint ("lat lon altitude accuracy"); NaN when absent or invalid."""
    if "gps" not in frame.columns:
        nan = pd.Series(np.nan, index=frame.index)
        return nan, nan.copy()
    parts = frame["gps"].astype("string").str.extract(r"^\s*(\S+)\s+(\S+)")
    lat = pd.to_numeric(parts[0], errors="coerce")
    lon = pd.to_numeric(parts[1], errors="coerce")
    valid = lat.between(-90, 90) & lon.between(-180, 180)
    return lat.where(valid).astype(float), lon.where(valid).astype(float)


def _distance(frame, lat, lon, neighbourhoods) -> pd.Series:
    """km from the GPS point to the claimed neighbourhood's centroid (NaN without either): why gps_outside."""
    if neighbourhoods is None or "neighbourhood" not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    centre = neighbourhoods.set_index("name")[["lat", "lon"]]
    c_lat = frame["neighbourhood"].map(centre["lat"]).astype(float)
    c_lon = frame["neighbourhood"].map(centre["lon"]).astype(float)
    return haversine_km(lat, lon, c_lat, c_lon).set_axis(frame.index)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (NaN propagates)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return pd.Series(2 * 6371.0088 * np.arcsin(np.sqrt(a)))


def straightlined_batteries(frame: pd.DataFrame) -> pd.Series:
    """How many 16.6.2 service batteries got the same answer on all five attributes (all answered)."""
    count = pd.Series(0, index=frame.index)
    for columns in BATTERIES.values():
        if not set(columns) <= set(frame.columns):
            continue
        block = frame[list(columns)].to_numpy(dtype=object)
        answered = pd.notna(block).all(axis=1)
        same = (block == block[:, :1]).all(axis=1)
        count += (answered & same).astype(int)
    return count


def _robust_outlier(values: pd.Series, z: float) -> pd.Series:
    median = values.median()
    mad = (values - median).abs().median() * 1.4826
    if not np.isfinite(mad) or mad == 0:
        return pd.Series(False, index=values.index)
    return ((values - median).abs() / mad > z).fillna(False)


def _outdated(frame: pd.DataFrame, current: str | None) -> pd.Series:
    """Older than the current version of the same form. Versions are yyyymmddNN strings: compared as numbers
    when they all are, otherwise as text."""
    if "form_version" not in frame.columns:
        return pd.Series(False, index=frame.index)
    version = frame["form_version"].astype("string")
    numeric = pd.to_numeric(version, errors="coerce")
    key = numeric if numeric.notna().sum() == version.notna().sum() else version
    if current is not None:
        target = pd.to_numeric(pd.Series([current]), errors="coerce")[0] if key is numeric else current
        return (key < target).fillna(False).astype(bool)
    groups = frame["form_id"] if "form_id" in frame.columns else pd.Series("form", index=frame.index)
    newest = key.groupby(groups).transform("max")
    return (key < newest).fillna(False).astype(bool)


def _odd_hour(frame: pd.DataFrame, hours: tuple[int, int], timezone: str) -> pd.Series:
    local = _timestamps(frame, "start").dt.tz_convert(timezone)
    hour = local.dt.hour
    return ((hour < hours[0]) | (hour >= hours[1])).fillna(False).astype(bool)


def _issue_text(flags: pd.DataFrame) -> pd.Series:
    """A short, readable list of the checks a submission failed ('' when none)."""
    text = pd.Series("", index=flags.index, dtype=object)
    for column in flags.columns:
        text = text.where(~flags[column], text + column.replace("_", " ") + "; ")
    return text.str.rstrip("; ")


# ---------------------------------------------------------------------------------------------------------
# summaries


def progress(
    submissions: pd.DataFrame, by: str = "neighbourhood", targets: pd.Series | dict | None = None, *, min_age: int = 18
) -> pd.DataFrame:
    """Interviews per `by` value: submitted, completed (consent yes and adult), refusals, target and % of target."""
    frame = submissions
    if by not in frame.columns:
        if frame.empty:
            frame = frame.assign(**{by: pd.Series(dtype=object)})
        else:
            raise AnalysisError(f"progress by '{by}': no such column in the submissions")
    completed = _completed(frame, min_age)
    table = (
        pd.DataFrame(
            {
                by: frame[by].astype("string").fillna("(missing)"),
                "submitted": 1,
                "completed": completed.astype(int),
                "refused_consent": frame["consent"].eq("no").astype(int) if "consent" in frame else 0,
            }
        )
        .groupby(by, sort=True)
        .sum()
    )
    if targets is not None:
        target = pd.Series(targets, dtype=float)
        table = table.reindex(table.index.union(target.index.astype(str)).rename(by), fill_value=0)
        table["target"] = target.reindex(table.index)
        table["pct_of_target"] = 100 * table["completed"] / table["target"]
        table["remaining"] = (table["target"] - table["completed"]).clip(lower=0)
    return table.reset_index()


def _completed(frame: pd.DataFrame, min_age: int) -> pd.Series:
    consent = frame["consent"].eq("yes") if "consent" in frame.columns else pd.Series(True, index=frame.index)
    age = (
        pd.to_numeric(frame["age"], errors="coerce")
        if "age" in frame.columns
        else pd.Series(min_age, index=frame.index)
    )
    return consent & (age >= min_age)


def daily_counts(submissions: pd.DataFrame, by: str | None = None, timezone: str = "America/Lima") -> pd.DataFrame:
    """Submissions per local day of `start` (falling back to `received_at`), optionally per `by` value."""
    when = _timestamps(submissions, "start")
    if "received_at" in submissions.columns:
        when = when.fillna(pd.to_datetime(submissions["received_at"], utc=True, errors="coerce"))
    day = when.dt.tz_convert(timezone).dt.date.rename("day")
    keys = [day] if by is None else [day, submissions[by].rename(by)]
    return submissions.groupby(keys, dropna=False).size().rename("submissions").reset_index()


def volunteer_summary(
    submissions: pd.DataFrame, checks: pd.DataFrame | None = None, *, z: float = 2.0, min_age: int = 18
) -> pd.DataFrame:
    """Per volunteer: counts, consent refusal rate, DK/RF rate, mean duration and each check's rate, with the
    team value beside it and `outlier_*` columns for rates more than `z` SDs (across volunteers) from the team.
    """
    checks = check_submissions(submissions) if checks is None else checks
    frame = checks.assign(
        completed=_completed(submissions, min_age).astype(int).to_numpy(),
        consent_refused=checks["consent_refused"].astype(float),
        volunteer=checks["volunteer"].astype("string").fillna("(unknown)"),
    )
    rates = ["consent_refused", "dk_rf_share"] + [c for c in CHECKS if c != "duplicate_id"]
    table = frame.groupby("volunteer").agg(
        submissions=("volunteer", "size"),
        completed=("completed", "sum"),
        mean_duration_min=("duration_min", "mean"),
        **{c: (c, "mean") for c in rates},
    )
    for column in rates + ["mean_duration_min"]:
        team = frame[column.removeprefix("mean_")].astype(float).mean()
        spread = table[column].std(ddof=1)
        table[f"team_{column}"] = team
        table[f"outlier_{column}"] = ((table[column] - team).abs() > z * spread).fillna(False) if spread > 0 else False
    return table.reset_index()


def last_submission(submissions: pd.DataFrame) -> pd.DataFrame:
    """Per volunteer: when their latest submission reached the server and how many they sent, oldest first.

    Upload time (`received_at`), not interview time: a coordinator uses it to see whose phone has gone quiet,
    e.g. a volunteer who keeps finished interviews on the phone without signal.
    """
    frame = submissions.assign(volunteer=submissions["volunteer"].astype("string").fillna("(unknown)"))
    table = frame.groupby("volunteer")["received_at"].agg(last_received="max", submissions="size")
    return table.reset_index().sort_values("last_received", kind="stable", ignore_index=True)
