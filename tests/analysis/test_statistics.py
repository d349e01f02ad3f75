"""Means, totals, the finite population correction, lonely-PSU "average" and domain-lonely handling, and averages
of component shares, against R survey (golden files from tests/golden/make_golden_statistics.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import make_design
from analysis.errors import DesignError
from analysis.estimate import estimate_many
from analysis.weights import rake

GOLDEN = Path(__file__).parents[1] / "golden"
KEYS = ["indicator", "by", "area", "group"]


def close(ours, r, rtol=1e-9, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(r, float), rtol=rtol, atol=atol)


def golden(name) -> pd.DataFrame:
    table = pd.read_csv(GOLDEN / name, keep_default_na=False, na_values=["NA"])
    return table.astype({c: str for c in ("area", "group") if c in table.columns})


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(area=table["area"].fillna("").astype(str), group=table["group"].astype(str))


@pytest.mark.parametrize("name", ["apiclus1", "apistrat"])
def test_fpc_means_and_totals_match_r(name):
    """Lumley's printed apiclus1 result with fpc: mean api00 644.17, SE 23.542; and the stratified apistrat."""
    data = pd.read_csv(GOLDEN / f"{name}.csv")
    design = (
        make_design(data, psu="dnum", weight="pw", fpc="fpc")
        if name == "apiclus1"
        else make_design(data, strata="stype", weight="pw", fpc="fpc")
    )
    table = tidy(_api(design))
    expected = golden("api_estimates.csv")
    expected = expected[expected["design"] == name]
    both = expected.merge(table, on=["statistic", "variable", "by", "group"], suffixes=("_r", ""))
    assert len(both) == len(expected) == 16
    for column in ("estimate", "se", "deff", "ci_low", "ci_high"):
        close(both[column], both[f"{column}_r"])
    assert (both["df"] == both["df_r"]).all()
    if name == "apiclus1":
        overall = both[(both["variable"] == "api00") & (both["statistic"] == "mean") & (both["group"] == "all")]
        assert round(overall["estimate"].item(), 2) == 644.17 and round(overall["se"].item(), 3) == 23.542


def _api(design):
    data = design.data.assign(api00_total=design.data["api00"], enroll_total=design.data["enroll"])
    design = make_design(data, design.strata, design.psu, design.weight, fpc=design.fpc)
    table = estimate_many(design, [], means=["api00", "enroll"], totals=["api00_total", "enroll_total"], by=["stype"])
    total = table["indicator"].str.endswith("_total")
    return table.assign(
        statistic=np.where(total, "total", "mean"), variable=table["indicator"].str.removesuffix("_total")
    )


def test_fpc_is_checked():
    data = pd.read_csv(GOLDEN / "apistrat.csv")
    with pytest.raises(DesignError, match="differs within stratum"):
        make_design(data.assign(fpc=np.arange(len(data)) + 1000), strata="stype", fpc="fpc")
    with pytest.raises(DesignError, match="more sampled PSUs"):
        make_design(data.assign(fpc=10), strata="stype", fpc="fpc")
    with pytest.raises(DesignError, match="must hold numbers"):
        make_design(data.assign(fpc="many"), strata="stype", fpc="fpc")
    census = make_design(data.assign(fpc=1.0), strata="stype", weight="pw", fpc="fpc")  # fractions: all sampled
    assert estimate_many(census, [], means=["api00"])["se"].item() == 0


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    data = pd.read_csv(GOLDEN / "survey.csv")
    return data.assign(
        x=np.where(data["safe_dark"].isna(), np.nan, ((data["id"] * 37) % 101) / 10), x_total=lambda d: d["x"]
    )


def build(survey, kind, lonely, domain_lonely):
    design = make_design(
        survey,
        strata="neighbourhood",
        psu="psu",
        weight="design_weight",
        lonely_psu=lonely,
        adjust_domain_lonely=domain_lonely,
    )
    if kind == "raked":
        margins = [pd.read_csv(GOLDEN / "margins_sex.csv"), pd.read_csv(GOLDEN / "margins_age.csv")]
        return rake(design, margins, epsilon=1e-12)
    return design


@pytest.mark.parametrize("domain_lonely", [False, True])
@pytest.mark.parametrize("lonely", ["adjust", "average", "certainty"])
@pytest.mark.parametrize("kind", ["unraked", "raked"])
def test_means_totals_and_lonely_rules_match_r(survey, kind, lonely, domain_lonely):
    """R's svymean/svytotal (deff, degf) under survey.lonely.psu and survey.adjust.domain.lonely; the synthetic
    survey has a neighbourhood with one PSU and neighbourhood × sex domains inside a single PSU."""
    design = build(survey, kind, lonely, domain_lonely)
    table = tidy(
        estimate_many(
            design,
            ["safe_dark"],
            means=["x"],
            totals=["x_total"],
            by=["neighbourhood", "sex", ("neighbourhood", "sex"), "psu"],
        )
    )
    table["statistic"] = table["indicator"].map({"safe_dark": "proportion", "x": "mean", "x_total": "total"})
    expected = golden("statistics.csv")
    expected = expected[
        (expected["design"] == kind) & (expected["lonely"] == lonely) & (expected["domain_lonely"] == domain_lonely)
    ]
    both = expected.merge(table, on=["statistic", "by", "area", "group"], suffixes=("_r", ""))
    assert len(both) == len(expected) > 60
    close(both["estimate"], both["estimate_r"])
    close(both["se"], both["se_r"], atol=1e-12 * both["estimate_r"].abs().max())
    assert (both["df"] == both["df_r"]).all() and (both["n"] == both["n_r"]).all()
    real = both["deff_r"].notna() & (both["se_r"] > 1e-12)
    close(both.loc[real, "deff"], both.loc[real, "deff_r"], rtol=1e-8)


def test_the_rules_differ_where_r_says(survey):
    """The golden rows are not all alike: "average" and the domain-lonely option change some SEs."""
    expected = golden("statistics.csv")
    pivot = expected.pivot_table(
        index=["design", "statistic", "by", "area", "group"],
        columns=["lonely", "domain_lonely"],
        values="se",
        aggfunc="first",
    )
    assert (pivot[("average", False)] != pivot[("adjust", False)]).sum() > 10
    unraked = pivot.loc["unraked"]
    assert (unraked[("adjust", True)] != unraked[("adjust", False)]).sum() > 0


def test_average_of_shares_matches_r(survey):
    """mean_over = "shares": the average of the components' proportions, each on its own base; SE by the delta
    method in R (svytotal of the numerators and bases jointly, then svycontrast)."""

    def share(column, success, excluded, users=None):
        values = survey[column]
        y = values.isin(success).astype(float).where(values.notna() & ~values.isin(excluded))
        return y if users is None else y.where(survey["used_health_12m"] == "yes")

    agree = ["strongly_agree", "agree"]
    odd = ["dont_know", "not_applicable", "refused"]
    columns = {
        "say": share("say_in_government", ["some", "a_lot", "a_great_deal"], ["dont_know", "refused"]),
        "influence": share("influence_on_politics", ["some", "a_lot", "a_great_deal"], ["dont_know", "refused"]),
    }
    attributes = ["access", "affordability", "quality", "courtesy", "timeliness"]
    columns |= {a: share(f"health_{a}", agree, odd, users=True) for a in attributes}
    design = build(survey.assign(**columns), "raked", "adjust", False)
    table = tidy(
        estimate_many(
            design,
            list(columns),
            averages={"16.7.2": ["say", "influence"], "16.6.2.health": attributes},
            by=["neighbourhood", "sex", ("neighbourhood", "sex")],
        )
    )
    expected = golden("composites_shares.csv")
    both = expected.merge(table, on=KEYS, suffixes=("_r", ""))
    assert len(both) == len(expected) > 30
    close(both["estimate"], both["estimate_r"])
    close(both["se"], both["se_r"])
    assert (both["n"] == both["n_r"]).all()
    with_df = both[both["df"] > 0]
    assert both["deff"].isna().all() and (with_df["ci_low"] < with_df["estimate"]).all()
    shares = table.set_index(KEYS)["estimate"]
    overall = shares.xs(("overall", "", "all"), level=["by", "area", "group"])
    assert overall["16.7.2"] == pytest.approx((overall["say"] + overall["influence"]) / 2, rel=1e-14)
