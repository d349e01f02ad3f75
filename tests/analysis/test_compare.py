"""Round comparison: change, its SE, CI and p-value against values computed in R; flags; disjoint rounds.

Expected numbers come from R 4 (stats), e.g. for the first test:
    se <- sqrt(0.02^2 + 0.03^2); 2 * pt(-0.06 / se, 10); 0.06 + c(-1, 1) * qt(0.975, 10) * se
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import synthetic_submissions

from analysis.compare import COLUMNS, compare_rounds
from analysis.errors import AnalysisError
from analysis.pipeline import run
from analysis.plan import load_plan

ROOT = Path(__file__).resolve().parents[2]


def tidy(rows: list[dict]) -> pd.DataFrame:
    """A tidy table with the columns compare_rounds reads; each row gives at least estimate and se."""
    base = {
        "indicator": "x",
        "series": "S",
        "name": "X share",
        "by": "overall",
        "area": None,
        "group": "all",
        "n": 500,
        "flag": "ok",
        "df": 100.0,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


IDS_A, IDS_B = pd.Series(["a1", "a2"]), pd.Series(["b1", "b2"])


def test_change_uses_the_sum_of_variances_and_the_smaller_df():
    a = tidy([{"estimate": 0.30, "se": 0.02, "df": 200.0}])
    b = tidy([{"estimate": 0.36, "se": 0.03, "df": 10.0}])
    row = compare_rounds(a, b, IDS_A, IDS_B).iloc[0]
    assert row["change"] == pytest.approx(0.06)
    assert row["se_change"] == pytest.approx(0.0360555127546399)
    assert row["df"] == 10
    assert row["p_value"] == pytest.approx(0.1270669246965583, rel=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-0.0203366887968998, 0.1403366887968998), rel=1e-9)
    assert not row["significant"] and row["flag"] == "ok"
    assert (row["estimate_a"], row["estimate_b"], row["series"], row["name"]) == (0.30, 0.36, "S", "X share")


def test_without_df_the_reference_is_normal():
    a = tidy([{"estimate": 0.30, "se": 0.02}]).drop(columns="df")
    b = tidy([{"estimate": 0.36, "se": 0.03}]).drop(columns="df")
    row = compare_rounds(a, b, IDS_A, IDS_B).iloc[0]
    assert np.isnan(row["df"])
    assert row["p_value"] == pytest.approx(0.0960923294556733, rel=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-0.0106675064432187, 0.1306675064432187), rel=1e-9)


def test_level_sets_interval_and_significance():
    a = tidy([{"estimate": 0.50, "se": 0.010, "df": 60.0}])
    b = tidy([{"estimate": 0.55, "se": 0.012, "df": 60.0}])
    row = compare_rounds(a, b, IDS_A, IDS_B, level=0.90).iloc[0]
    assert row["se_change"] == pytest.approx(0.01562049935181331)
    assert row["p_value"] == pytest.approx(0.00219128518483035, rel=1e-8)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.02390363048864953, 0.07609636951135056), rel=1e-9)
    assert row["significant"]


def test_suppressed_unreliable_and_missing_rows_are_flagged_not_tested():
    groups = [{"by": "sex", "group": g} for g in ("female", "male", "other")]
    a = tidy(
        [
            {**groups[0], "estimate": np.nan, "se": np.nan, "n": 5, "flag": "suppressed"},
            {**groups[1], "estimate": 0.4, "se": 0.05, "n": 20, "flag": "unreliable"},
        ]
    )
    b = tidy(
        [
            {**groups[0], "estimate": 0.5, "se": 0.04},
            {**groups[1], "estimate": 0.6, "se": 0.05},
            {**groups[2], "estimate": 0.7, "se": 0.05},
        ]
    )
    out = compare_rounds(a, b, IDS_A, IDS_B)
    assert list(out.columns) == COLUMNS
    out = out.set_index("group")
    assert out["flag"].to_dict() == {"female": "suppressed", "male": "unreliable", "other": "only_in_b"}
    for group in ("female", "other"):
        assert out.loc[group, ["change", "se_change", "ci_low", "ci_high", "p_value"]].isna().all()
        assert pd.isna(out.loc[group, "significant"])
    assert out.loc["male", "change"] == pytest.approx(0.2) and out.loc["male", "p_value"] < 0.05


def test_a_round_without_degrees_of_freedom_is_not_tested_with_the_normal():
    a = tidy([{"estimate": 0.30, "se": 0.02, "df": 0.0}])
    b = tidy([{"estimate": 0.40, "se": 0.03, "df": 50.0}])
    row = compare_rounds(a, b, IDS_A, IDS_B).iloc[0]
    assert (
        row["flag"] == "no_df" and np.isnan(row["p_value"]) and np.isnan(row["ci_low"]) and pd.isna(row["significant"])
    )
    assert (row["estimate_a"], row["estimate_b"]) == (0.30, 0.40)


def test_zero_standard_error_cannot_be_tested():
    a = tidy([{"estimate": 0.0, "se": 0.0}])
    b = tidy([{"estimate": 0.0, "se": 0.0}])
    row = compare_rounds(a, b, IDS_A, IDS_B).iloc[0]
    assert row["change"] == 0 and np.isnan(row["p_value"]) and pd.isna(row["significant"])


def test_rounds_sharing_a_submission_are_refused():
    a = tidy([{"estimate": 0.3, "se": 0.02}])
    with pytest.raises(AnalysisError, match="share 1 submission.*a2"):
        compare_rounds(a, a, IDS_A, pd.Series(["a2", "b9"]))


def test_bad_level_is_refused():
    a = tidy([{"estimate": 0.3, "se": 0.02}])
    with pytest.raises(AnalysisError, match="confidence level"):
        compare_rounds(a, a, IDS_A, IDS_B, level=95)


def test_two_rounds_of_the_real_plan_line_up_row_by_row():
    plan = load_plan(ROOT / "analysis" / "plans" / "sdg16.toml")
    subs = synthetic_submissions(1600, seed=3)
    first, second = subs.iloc[::2], subs.iloc[1::2]
    a, b = run(plan, first).estimates, run(plan, second).estimates
    out = compare_rounds(a, b, first["instance_id"], second["instance_id"], level=plan.estimation.level)
    keys = ["indicator", "by", "area", "group"]
    assert len(out) == len(pd.concat([a[keys], b[keys]]).astype(str).drop_duplicates())
    overall = out[out["by"] == "overall"].set_index("indicator")
    expected = (
        b[b["by"] == "overall"].set_index("indicator")["estimate"]
        - a[a["by"] == "overall"].set_index("indicator")["estimate"]
    )
    assert np.allclose(overall["change"], expected.reindex(overall.index), equal_nan=True)
    tested = out[out["significant"].notna()]
    assert len(tested) > 0.9 * (out["flag"] == "ok").sum()
    assert ((tested["ci_low"] > 0) | (tested["ci_high"] < 0)).eq(tested["significant"].astype(bool)).all()
