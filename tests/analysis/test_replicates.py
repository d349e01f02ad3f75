"""Replicate-weight variance (JK1, JKn, bootstrap), each replicate re-raked, against R survey
(tests/golden/replicates.csv from make_golden_replicates.R), and replicate weights in the microdata."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import make_design
from analysis.errors import DesignError
from analysis.estimate import estimate_many
from analysis.pipeline import run
from analysis.plan import load_plan
from analysis.replicates import replicate
from analysis.weights import rake

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    data = pd.read_csv(GOLDEN / "survey.csv")
    lonely = data.groupby("neighbourhood")["psu"].nunique().loc[lambda n: n == 1].index
    data = data[~data["neighbourhood"].isin(lonely)].reset_index(drop=True)
    x = np.where(data["safe_dark"].isna(), np.nan, ((data["id"] * 37) % 101) / 10)
    return data.assign(x=x, x_total=x, cluster=data["neighbourhood"] + " " + data["psu"])


def margins(survey):
    tables = [pd.read_csv(GOLDEN / "margins_sex.csv"), pd.read_csv(GOLDEN / "margins_age.csv")]
    return [t[t["neighbourhood"].isin(survey["neighbourhood"].unique())] for t in tables]


@pytest.mark.parametrize("kind", ["unraked", "raked"])
@pytest.mark.parametrize("method", ["jk1", "jkn"])
def test_jackknife_matches_r(survey, method, kind):
    design = (
        make_design(survey, psu="cluster", weight="design_weight")
        if method == "jk1"
        else make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight")
    )
    if kind == "raked":
        design = rake(design, margins(survey), epsilon=1e-12)
    reps = replicate(design, method, epsilon=1e-12)
    table = estimate_many(
        design, ["safe_dark"], means=["x"], totals=["x_total"], by=["neighbourhood", "sex"], replicates=reps
    )
    table = table.assign(
        statistic=table["indicator"].map({"safe_dark": "proportion", "x": "mean", "x_total": "total"}),
        group=table["group"].astype(str),
    )
    golden = pd.read_csv(GOLDEN / "replicates.csv")
    golden = golden[(golden["type"] == method.upper().replace("JKN", "JKn")) & (golden["design"] == kind)]
    both = golden.merge(table, on=["statistic", "by", "group"], suffixes=("_r", ""))
    assert len(both) == len(golden) > 20
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-9)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-7)
    assert (both["n"] == both["n_r"]).all()
    if kind == "raked":  # every replicate meets the margins again (to R's iterations: a few only to 1e-5)
        weights = reps.row_weights(design.weights)
        cells = survey.groupby(["neighbourhood", "sex"]).ngroup().to_numpy()
        totals = np.stack([np.bincount(cells, weights=weights[:, r]) for r in range(weights.shape[1])])
        assert np.allclose(totals, np.bincount(cells, weights=design.weights), rtol=1e-4)


def test_bootstrap_is_reproducible_and_close_to_the_linearised_se(survey):
    design = rake(make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight"), margins(survey))
    linear = estimate_many(design, ["safe_dark"])["se"].item()
    boot = [
        estimate_many(design, ["safe_dark"], replicates=replicate(design, "bootstrap", 400, seed=s))["se"].item()
        for s in (1, 1, 2)
    ]
    assert boot[0] == boot[1] != boot[2]
    assert boot[0] == pytest.approx(linear, rel=0.2)


def test_jk1_refuses_a_stratified_design(survey):
    with pytest.raises(DesignError, match="JK1 is for designs without strata"):
        replicate(make_design(survey, strata="neighbourhood", psu="psu"), "jk1")


def test_the_plan_asks_for_replicates_and_the_microdata_carries_them():
    plan = load_plan(GOLDEN / "composites_plan.toml")
    plan = dataclasses.replace(plan, estimation=dataclasses.replace(plan.estimation, variance="jkn"))
    survey = pd.read_csv(GOLDEN / "survey.csv")
    result = run(plan, survey)
    linear = run(load_plan(GOLDEN / "composites_plan.toml"), survey)
    assert result.replicates is not None and result.replicates.method == "jkn"
    micro = result.microdata
    repw = [c for c in micro.columns if c.startswith("repw_")]
    assert len(repw) == result.replicates.count == survey.groupby(["neighbourhood", "psu"]).ngroups
    pd.testing.assert_series_equal(result.estimates["estimate"], linear.estimates["estimate"])
    assert not np.allclose(result.estimates["se"], linear.estimates["se"], equal_nan=True)
    # the replicate weights reproduce the replicate SE of the overall 16.7.2.say share
    y = survey["say_in_government"]
    valid = y.notna() & ~y.isin(["dont_know", "refused"])
    hit = y.isin(["some", "a_lot", "a_great_deal"])
    thetas = np.array([(micro[c][valid] * hit[valid]).sum() / micro[c][valid].sum() for c in repw])
    se = np.sqrt(result.replicates.variance(thetas[:, None])[0])
    row = result.estimates.query("indicator == '16.7.2.say' and by == 'overall'").iloc[0]
    assert row["se"] == pytest.approx(se, rel=1e-9)
