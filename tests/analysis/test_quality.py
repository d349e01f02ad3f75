"""Field-quality checks on constructed submissions: each check fires on its case and not on a clean one."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.quality import (
    CHECKS,
    check_submissions,
    daily_counts,
    dk_rf_share,
    durations,
    last_submission,
    progress,
    straightlined_batteries,
    volunteer_summary,
)

NEIGHBOURHOODS = pd.read_csv(Path(__file__).resolve().parents[2] / "data" / "neighbourhoods.csv")
NA = np.nan
ATTRS = ("access", "affordability", "quality", "courtesy", "timeliness")


def submission(i: int, **changes) -> dict:
    """A clean interview: 20 minutes mid-morning in Trujillo (cercado), at its centroid, varied answers."""
    row = {
        "instance_id": f"uuid:{i}",
        "form_id": "sdg16_perception",
        "form_version": "2026112802",
        "volunteer": "ana",
        "start": f"2026-11-2{i % 5}T10:00:00.000-05:00",
        "end": f"2026-11-2{i % 5}T10:20:00.000-05:00",
        "consent": "yes",
        "age": str(20 + i),
        "neighbourhood": "trujillo",
        "psu": f"B{i}",
        "sex": "female",
        "education": "secondary",
        "household_adults": "2",
        "years_in_neighbourhood": str(i),
        "gps": f"{-8.1116 + i * 1e-3:.4f} -79.0288 30 5",
        "victim_physical_12m": "no",
    }
    row.update({f"health_{a}": v for a, v in zip(ATTRS, ["agree", "disagree", "agree", "agree", "strongly_agree"])})
    row.update(changes)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), dtype=object)


def clean(n: int = 6) -> list[dict]:
    return [submission(i) for i in range(n)]


def test_clean_submissions_raise_no_flag():
    checks = check_submissions(frame(*clean()), NEIGHBOURHOODS)
    assert not checks[list(CHECKS)].to_numpy().any()
    assert (checks["issues"] == "").all()


@pytest.mark.parametrize(
    "changes, check",
    [
        ({"instance_id": "uuid:0"}, "duplicate_id"),
        ({"psu": "B0", "age": "20", "years_in_neighbourhood": "0"}, "duplicate_respondent"),
        ({"gps": "-8.11160 -79.02880 12 3"}, "duplicate_gps"),
        ({"end": "2026-11-20T10:03:00.000-05:00", "start": "2026-11-20T10:00:00.000-05:00"}, "speeder"),
        ({"form_version": "2026112801"}, "outdated_version"),
        ({"gps": NA}, "gps_missing"),
        ({"gps": "-8.2240 -78.9770 10 5"}, "gps_outside"),  # Salaverry, claimed as Trujillo cercado
        (
            {**{f"health_{a}": "agree" for a in ATTRS}, **{f"gov_services_{a}": "agree" for a in ATTRS}},
            "straightlining",
        ),
        ({"start": "2026-11-20T23:30:00.000-05:00", "end": "2026-11-20T23:55:00.000-05:00"}, "odd_hour"),
    ],
)
def test_each_check_fires_on_its_case(changes, check):
    rows = clean() + [submission(9, **changes)]
    checks = check_submissions(frame(*rows), NEIGHBOURHOODS)
    flagged = checks.index[checks[check]].tolist()
    assert 6 in flagged
    assert check.replace("_", " ") in checks.loc[6, "issues"]
    other = [c for c in CHECKS if c not in (check, "duplicate_id", "duplicate_respondent", "duplicate_gps")]
    assert not checks.loc[6, other].any()


def test_one_battery_answered_alike_is_not_straightlining():
    rows = clean() + [submission(9, **{f"health_{a}": "agree" for a in ATTRS})]
    checks = check_submissions(frame(*rows))
    assert checks.loc[6, "straightlined_batteries"] == 1
    assert not checks["straightlining"].any()


def test_screen_outs_are_never_speeders_or_duration_outliers():
    short = {"start": "2026-11-20T10:00:00.000-05:00", "end": "2026-11-20T10:01:00.000-05:00"}
    rows = clean(20) + [submission(30, consent="no", **short), submission(31, age="16", **short)]
    checks = check_submissions(frame(*rows))
    assert not checks[["speeder", "duration_outlier"]].to_numpy().any()
    rows.append(submission(32, **short))  # the same minute, completed: a speeder
    assert check_submissions(frame(*rows))["speeder"].tolist() == [False] * 22 + [True]


def test_duration_outlier_is_robust_to_the_outlier_itself():
    rows = [submission(i, end=f"2026-11-2{i % 5}T10:{18 + i % 5}:00.000-05:00") for i in range(20)]
    rows.append(submission(30, start="2026-11-20T10:00:00.000-05:00", end="2026-11-20T14:00:00.000-05:00"))
    checks = check_submissions(frame(*rows))
    assert checks["duration_outlier"].tolist() == [False] * 20 + [True]


def test_gps_not_counted_missing_when_consent_refused():
    rows = clean() + [submission(9, consent="no", age=NA, gps=NA)]
    checks = check_submissions(frame(*rows))
    assert not checks.loc[6, "gps_missing"] and checks.loc[6, "consent_refused"]


def test_durations_and_timezones():
    subs = frame(
        submission(1, start="2026-11-21T10:00:00.000-05:00", end="2026-11-21T15:30:00.000Z"),
        submission(2, end=NA),
        submission(3, start="not a date"),
    )
    out = durations(subs)
    assert out.iloc[0] == pytest.approx(30.0)
    assert out.iloc[1:].isna().all()


def test_dk_rf_share_ignores_metadata_and_unanswered():
    subs = frame(submission(1, victim_physical_12m="dont_know", education="refused"))
    questions = [
        c
        for c in subs.columns
        if c not in ("instance_id", "form_id", "form_version", "volunteer", "start", "end", "gps")
    ]
    assert dk_rf_share(subs).iloc[0] == pytest.approx(2 / len(questions))


def test_straightlining_counts_batteries():
    row = submission(1, **{f"health_{a}": "agree" for a in ATTRS}, **{f"gov_services_{a}": "dont_know" for a in ATTRS})
    partial = submission(2, **{f"health_{a}": "agree" for a in ATTRS[:4]}, health_timeliness=NA)
    assert straightlined_batteries(frame(row, partial)).tolist() == [2, 0]


def test_progress_against_targets():
    rows = clean(3) + [submission(7, consent="no", age=NA), submission(8, neighbourhood="moche", age="16")]
    table = progress(frame(*rows), targets={"trujillo": 6, "moche": 2, "laredo": 4}).set_index("neighbourhood")
    assert table.loc["trujillo", ["submitted", "completed", "refused_consent"]].tolist() == [4, 3, 1]
    assert table.loc["trujillo", "pct_of_target"] == pytest.approx(50.0)
    assert table.loc["moche", "completed"] == 0
    assert table.loc["laredo", ["submitted", "remaining"]].tolist() == [0, 4]


def test_daily_counts_in_local_time():
    subs = frame(submission(1, start="2026-11-21T23:30:00.000-05:00"), submission(2, start="2026-11-22T04:30:00.000Z"))
    table = daily_counts(subs)
    assert table["day"].astype(str).tolist() == ["2026-11-21"] and table["submissions"].tolist() == [2]


def test_volunteer_summary_flags_the_outlying_volunteer():
    rows = []
    for v in range(6):
        for i in range(10):
            dk = "dont_know" if v == 5 else "no"
            rows.append(
                submission(
                    100 * v + i,
                    volunteer=f"v{v}",
                    victim_physical_12m=dk,
                    education=dk,
                    age=str(20 + i),
                    psu=f"B{v}{i}",
                    gps=f"{-8.11 + v * 1e-3 + i * 1e-4:.4f} -79.03 1 1",
                )
            )
    table = volunteer_summary(frame(*rows)).set_index("volunteer")
    assert table["outlier_dk_rf_share"].tolist() == [False] * 5 + [True]
    assert table.loc["v5", "dk_rf_share"] > table.loc["v5", "team_dk_rf_share"]
    assert (table["submissions"] == 10).all()


def test_empty_store_and_minimal_frames():
    empty = pd.DataFrame(
        columns=[
            "instance_id",
            "form_id",
            "form_version",
            "volunteer",
            "device_id",
            "received_at",
            "review_state",
            "source",
        ]
    )
    assert check_submissions(empty, NEIGHBOURHOODS).empty
    assert progress(empty).empty and daily_counts(empty).empty and volunteer_summary(empty).empty
    bare = check_submissions(pd.DataFrame({"instance_id": ["a"], "volunteer": ["x"]}))
    assert not bare[list(CHECKS)].to_numpy().any()  # no gps question: nothing is "missing"
    with pytest.raises(AnalysisError, match="progress by 'district'"):
        progress(pd.DataFrame({"instance_id": ["a"]}), by="district")


def test_last_submission_per_volunteer_oldest_first_with_unknown_sender():
    times = pd.to_datetime(["2026-11-02 10:00", "2026-11-05 09:00", "2026-11-03 12:00", "2026-11-04 08:00"], utc=True)
    frame = pd.DataFrame({"volunteer": ["ana", "ana", "beto", None], "received_at": times})
    table = last_submission(frame)
    assert table["volunteer"].tolist() == ["beto", "(unknown)", "ana"]
    assert table["submissions"].tolist() == [1, 1, 2]
    assert table["last_received"].iloc[2] == times[1]
