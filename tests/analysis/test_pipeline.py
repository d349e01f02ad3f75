"""End to end: synthetic submissions with the CONTRACT field names → the tidy table of the default plan.

Point estimates are checked against direct weighted shares of the returned microdata; the composites against
R on the raked golden survey (tests/golden/composites.csv) and against a hand-written linearisation on an
uncalibrated design; counts, flags, domains and bad input each on their own.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from synthetic import synthetic_submissions

from analysis.errors import AnalysisError
from analysis.intervals import wilson_ci
from analysis.pipeline import TIDY_COLUMNS, run
from analysis.plan import EstimationSpec, Indicator, PlanError, WeightsSpec, load_plan

PLAN = load_plan(Path(__file__).resolve().parents[2] / "analysis" / "plans" / "sdg16.toml")
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture(scope="module")
def result():
    return run(PLAN, synthetic_submissions(2500, seed=7))


def share(micro: pd.DataFrame, mask: pd.Series, success: pd.Series) -> float:
    w = micro["weight"][mask]
    return float((w * success[mask]).sum() / w.sum())


def row(table, indicator, by="overall", group="all", area=None):
    picked = table[(table["indicator"] == indicator) & (table["by"] == by) & (table["group"] == group)]
    picked = picked[picked["area"].isna()] if area is None else picked[picked["area"] == area]
    assert len(picked) == 1, (indicator, by, group, area)
    return picked.iloc[0]


def test_table_has_the_tidy_columns_and_every_indicator(result):
    table = result.estimates
    assert list(table.columns) == TIDY_COLUMNS
    assert list(table["indicator"].unique()) == [i.id for i in PLAN.indicators]
    assert set(table["by"]) == {"overall", "neighbourhood", "district", "sex", "age_group", "youth", "disability"}
    assert set(table["flag"]) <= {"ok", "referencial", "unreliable", "suppressed"}
    within = table[table["area"].notna()]
    assert set(within["by"]) == {"district", "sex", "age_group", "youth", "disability"}


def test_weights_match_the_margins(result):
    micro = result.microdata
    totals = micro.groupby(["neighbourhood", "sex"])["weight"].sum()
    margin = PLAN.margins[0].table.set_index(["neighbourhood", "sex"])["population"]
    assert np.allclose(totals.drop("poroto", level=0), margin.reindex(totals.index).drop("poroto", level=0))
    assert micro["weight"].sum() == pytest.approx(PLAN.margins[0].table["population"].sum())


def test_share_estimates_equal_weighted_shares_of_the_microdata(result):
    micro, table = result.microdata, result.estimates
    safe = micro["safe_after_dark"].isin(["very_safe", "safe"])
    assert row(table, "16.1.4")["estimate"] == pytest.approx(share(micro, micro["safe_after_dark"].notna(), safe))
    physical = micro["violence_physical_12m"]  # v1 rows: assault (victim_physical_12m) or robbery
    assert (
        (physical == "yes") == ((micro["victim_physical_12m"] == "yes") | (micro["victim_robbery_12m"] == "yes"))
    ).all()
    valid = physical.isin(["yes", "no"])
    assert row(table, "16.1.3.physical")["estimate"] == pytest.approx(share(micro, valid, physical == "yes"))
    women = valid & (micro["sex"] == "female")
    assert row(table, "16.1.3.physical", "sex", "female")["estimate"] == pytest.approx(
        share(micro, women, physical == "yes")
    )
    cell = valid & (micro["sex"] == "male") & (micro["neighbourhood"] == "trujillo")
    assert row(table, "16.1.3.physical", "sex", "male", "trujillo")["estimate"] == pytest.approx(
        share(micro, cell, physical == "yes")
    )


def test_domains_are_subpopulations_with_counts(result):
    micro, table = result.microdata, result.estimates
    contact = micro["contact_official_12m"] == "yes"
    answer = micro["bribe_asked_or_paid"]
    base = contact & answer.isin(["yes", "no"])
    r = row(table, "16.5.1")
    assert r["estimate"] == pytest.approx(share(micro, base, answer == "yes"))
    assert r["n"] == base.sum()
    assert r["n_excluded"] == (contact & ~answer.isin(["yes", "no"])).sum()
    assert r["population"] == pytest.approx(micro["weight"][base].sum())
    # the victims' domain for reporting
    victims = micro["violence_robbery_12m"] == "yes"
    reported = micro["report_competent_robbery"]
    assert row(table, "16.3.1.robbery")["n"] == (victims & reported.isin(["yes", "no"])).sum()


def test_16_1_4_keeps_dk_in_the_base_and_reports_never_beside(result):
    table = result.estimates
    main, dkrf, never = (row(table, i) for i in ("16.1.4", "16.1.4.dkrf", "16.1.4.never"))
    assert main["n"] == dkrf["n"] == never["n"] == len(result.microdata)
    assert main["n_excluded"] == 0 and 0 < dkrf["estimate"] < 0.2


def test_16_3_3_leaves_out_the_voluntarily_self_excluded(result):
    micro = result.microdata
    access = micro["dispute_access"]
    r = row(result.estimates, "16.3.3")
    assert r["n"] == access.isin(["yes", "no"]).sum()
    assert r["n_excluded"] == (access == "self_excluded").sum()


def test_composite_is_the_average_of_the_shares_each_on_its_own_base(result):
    micro, table = result.microdata, result.estimates
    good = ["a_lot", "a_great_deal"]  # the shipped plan's success (reference/sdg16_comparability.md)
    say, influence = micro["say_in_government"], micro["influence_on_politics"]
    valid_say, valid_influence = ~say.isin(["dont_know", "refused"]), ~influence.isin(["dont_know", "refused"])
    expected = (share(micro, valid_say, say.isin(good)) + share(micro, valid_influence, influence.isin(good))) / 2
    r = row(table, "16.7.2")
    assert r["estimate"] == pytest.approx(expected)
    assert r["n"] == (valid_say | valid_influence).sum() and r["series"] == "IU_DMK_ICRS"
    assert r["ci_low"] < r["estimate"] < r["ci_high"]


def test_composite_of_identical_components_reproduces_the_component():
    """mean(p, p) = p with the same variance: the covariance terms must add up exactly."""
    plan = _with(
        PLAN,
        [
            Indicator(id="a", variable="victim_robbery_12m", success=("yes",), exclude=("dont_know", "refused")),
            Indicator(id="b", variable="victim_robbery_12m", success=("yes",), exclude=("dont_know", "refused")),
            Indicator(id="ab", mean_of=("a", "b")),
        ],
    )
    table = run(plan, synthetic_submissions(800, seed=3)).estimates
    a = table[table["indicator"] == "a"].reset_index(drop=True)
    ab = table[table["indicator"] == "ab"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["by", "group", "n"]], ab[["by", "group", "n"]])
    ok = a["flag"] != "suppressed"
    assert np.allclose(a.loc[ok, "estimate"], ab.loc[ok, "estimate"])
    assert np.allclose(a.loc[ok, "se"], ab.loc[ok, "se"], rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("mean_over", ["all", "any"])
def test_composite_variance_matches_a_direct_linearisation(mean_over):
    """Uncalibrated stratified cluster design: Var of the respondent-mean ratio, written out by hand; with
    "any", three components with different bases (scores 0, 1/3, 1/2, 2/3, 1 …)."""
    good = ("some", "a_lot", "a_great_deal")
    dkrf = ("dont_know", "refused")
    plan = dataclasses.replace(
        _with(
            PLAN,
            [
                Indicator(id="say", variable="say_in_government", success=good, exclude=dkrf),
                Indicator(id="influence", variable="influence_on_politics", success=good, exclude=dkrf),
                Indicator(
                    id="bribe",
                    variable="bribe_asked_or_paid",
                    success=("no",),
                    exclude=dkrf,
                    domain="contact_official_12m == 'yes'",
                ),
                Indicator(id="mix", mean_of=("say", "influence", "bribe"), mean_over=mean_over),
            ],
        ),
        weights=WeightsSpec(method="none"),
        margins=(),
    )
    result = run(plan, synthetic_submissions(900, seed=11))
    micro = result.microdata
    answers = pd.DataFrame(
        {
            "say": micro["say_in_government"].isin(good).astype(float).where(~micro["say_in_government"].isin(dkrf)),
            "influence": micro["influence_on_politics"]
            .isin(good)
            .astype(float)
            .where(~micro["influence_on_politics"].isin(dkrf)),
            "bribe": (micro["bribe_asked_or_paid"] == "no")
            .astype(float)
            .where((micro["contact_official_12m"] == "yes") & micro["bribe_asked_or_paid"].isin(["yes", "no"])),
        }
    )
    valid = answers.notna().all(axis=1) if mean_over == "all" else answers.notna().any(axis=1)
    y = answers.mean(axis=1).fillna(0)
    w = micro["weight"].where(valid, 0.0)
    mean = (w * y).sum() / w.sum()
    z = w * (y - mean) / w.sum()
    psu_totals = z.groupby([micro["neighbourhood"], micro["psu"]]).sum()
    variance = 0.0
    for _, totals in psu_totals.groupby(level=0):
        n_h = len(totals)
        if n_h > 1:
            variance += n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
        else:
            variance += (totals**2).sum()  # lonely PSU, "adjust": deviation from the overall mean (0)
    r = row(result.estimates, "mix")
    assert r["n"] == valid.sum()
    assert r["estimate"] == pytest.approx(mean)
    assert r["se"] == pytest.approx(np.sqrt(variance), rel=1e-9)


@pytest.mark.parametrize("indicator", ["16.7.2", "16.6.2.health"])
def test_composites_match_r(indicator):
    """16.7.2 (mean of the say and influence answers, valid on both) and the 16.6.2 health composite (mean of the
    attributes each user rated) on the raked golden survey: estimate, SE, deff, df and n against R's
    svymean(~score, subset(raked, !is.na(score) & group), deff=TRUE) (tests/golden/composites.csv)."""
    table = run(load_plan(GOLDEN / "composites_plan.toml"), pd.read_csv(GOLDEN / "survey.csv")).estimates
    golden = pd.read_csv(GOLDEN / "composites.csv", keep_default_na=False, na_values=["NA"])
    golden = golden[golden["indicator"] == indicator].astype({"area": str, "group": str})
    ours = table[table["indicator"] == indicator]
    ours = ours.assign(area=ours["area"].fillna("").astype(str), group=ours["group"].astype(str))
    both = golden.merge(ours, on=["indicator", "by", "area", "group"], suffixes=("_r", ""), how="left")
    assert len(both) == len(golden) > 20 and both["estimate"].notna().all()
    np.testing.assert_array_equal(both["n"], both["n_r"])
    np.testing.assert_array_equal(both["df"], both["df_r"])
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-8)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(both["deff"], both["deff_r"], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("indicator", ["16.7.2", "16.6.2.health"])
def test_average_of_shares_matches_r(indicator):
    """mean_over = "shares": the average of the component shares, each on its own base, through the plan (the
    health attributes' domain is the users), against R's svycontrast of the domain means
    (tests/golden/composites_shares.csv, make_golden_statistics.R)."""
    plan = load_plan(GOLDEN / "composites_plan.toml")
    plan = dataclasses.replace(
        plan, indicators=tuple(dataclasses.replace(i, mean_over="shares") if i.mean_of else i for i in plan.indicators)
    )
    table = run(plan, pd.read_csv(GOLDEN / "survey.csv")).estimates
    golden = pd.read_csv(GOLDEN / "composites_shares.csv", keep_default_na=False, na_values=["NA"])
    golden = golden[(golden["indicator"] == indicator) & golden["by"].isin(["overall", "neighbourhood", "sex"])]
    ours = table[table["indicator"] == indicator]
    ours = ours.assign(area=ours["area"].fillna("").astype(str), group=ours["group"].astype(str))
    both = golden.astype({"area": str, "group": str}).merge(
        ours, on=["indicator", "by", "area", "group"], suffixes=("_r", "")
    )
    assert len(both) == len(golden) > 8
    np.testing.assert_array_equal(both["n"], both["n_r"])
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-8)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-8)


def test_mean_and_total_statistics_through_the_plan():
    """statistic = "mean" / "total" of a numeric column (numeric codes excluded), equal to the engine's own
    means/totals on the same design (checked against R in test_statistics.py) and to weighted sums."""
    survey = pd.read_csv(GOLDEN / "survey.csv")
    survey["x"] = np.where(survey["id"] % 13 == 0, 99, (survey["id"] * 37) % 101 / 10).astype(str)
    plan = load_plan(GOLDEN / "composites_plan.toml")
    plan = dataclasses.replace(
        plan,
        indicators=(
            Indicator(id="x.mean", variable="x", statistic="mean", exclude=(99,)),
            Indicator(id="x.total", variable="x", statistic="total", exclude=(99,)),
        ),
    )
    result = run(plan, survey)
    micro, table = result.microdata, result.estimates
    x = pd.to_numeric(micro["x"]).where(lambda v: v != 99)
    valid = x.notna()
    total = (micro["weight"][valid] * x[valid]).sum()
    assert row(table, "x.total")["estimate"] == pytest.approx(total, rel=1e-12)
    assert row(table, "x.mean")["estimate"] == pytest.approx(total / micro["weight"][valid].sum(), rel=1e-12)
    assert row(table, "x.mean")["n_excluded"] == (~valid).sum()
    r = row(table, "x.mean")
    from scipy import stats

    half = stats.t.ppf(0.975, r["df"]) * r["se"]
    assert r["ci_low"] == pytest.approx(r["estimate"] - half) and r["ci_high"] == pytest.approx(r["estimate"] + half)


def test_composite_wilson_interval_uses_the_domain_n_like_the_shares():
    """Wilson on a composite is svy's design Wilson (t(n − 1)/t(df) rescaling of the effective n, as for the
    component shares), not the variant without n: the interval must be wilson_ci(…, n=domain n)."""
    composites = {"16.7.2": "all", "16.6.2.health": "any"}  # the per-respondent means (shares have no deff)
    indicators = tuple(dataclasses.replace(i, mean_over=composites.get(i.id, i.mean_over)) for i in PLAN.indicators)
    plan = dataclasses.replace(
        PLAN, indicators=indicators, estimation=dataclasses.replace(PLAN.estimation, ci="wilson")
    )
    table = run(plan, synthetic_submissions(1500, seed=9)).estimates
    for indicator in ("16.7.2", "16.6.2.health", "16.7.2.say"):
        rows = table[(table["indicator"] == indicator) & (table["flag"] != "suppressed")]
        rows = rows[(rows["estimate"] > 0) & (rows["estimate"] < 1)]  # at 0 or 1: the one-sided bound instead
        low, high = wilson_ci(
            rows["estimate"], rows["se"] ** 2, rows["df"], plan.estimation.level, n=rows["n"].to_numpy()
        )
        assert len(rows) > 10
        np.testing.assert_allclose(rows["ci_low"], low, rtol=1e-12)
        np.testing.assert_allclose(rows["ci_high"], high, rtol=1e-12)
        without_n, _ = wilson_ci(rows["estimate"], rows["se"] ** 2, rows["df"], plan.estimation.level)
        assert not np.allclose(rows["ci_low"], without_n, rtol=1e-6)


def test_flags_and_suppression():
    plan = dataclasses.replace(PLAN, estimation=dataclasses.replace(PLAN.estimation, min_n=100, suppress_n=40))
    table = run(plan, synthetic_submissions(1500, seed=5)).estimates
    suppressed = table[table["n"] < 40]
    assert (suppressed["flag"] == "suppressed").all()
    assert suppressed[["estimate", "se", "ci_low", "ci_high", "deff"]].isna().all().all()
    assert (table.loc[(table["n"] >= 40) & (table["n"] < 100), "flag"] == "unreliable").all()
    enough = table[table["n"] >= 100]
    est = plan.estimation
    cv = enough["se"] / enough["estimate"]
    width = enough["ci_high"] - enough["ci_low"]
    effective = enough["n"] / enough["deff"].where(enough["deff"] > 0)
    shaky = (cv > est.max_cv) | (effective < est.min_effective_n) | (width > est.max_ci_width)
    assert shaky.any() and (~shaky).any()
    assert (enough.loc[shaky, "flag"] == "referencial").all() and (enough.loc[~shaky, "flag"] == "ok").all()


def test_a_wide_interval_is_never_ok():
    """The issue's example: a 26–73 % interval from enough respondents was flagged "ok"; the INEI defaults
    (CV above 15 %, interval wider than 30 points) call it referencial, and the thresholds are the plan's."""
    table = run(PLAN, synthetic_submissions(1500, seed=5)).estimates
    wide = table[(table["ci_high"] - table["ci_low"] > 0.3) & (table["n"] >= PLAN.estimation.min_n)]
    assert len(wide) and (wide["flag"] == "referencial").all()
    lenient = dataclasses.replace(
        PLAN, estimation=dataclasses.replace(PLAN.estimation, max_cv=10.0, min_effective_n=0, max_ci_width=1.0)
    )
    table = run(lenient, synthetic_submissions(1500, seed=5)).estimates
    assert set(table["flag"]) <= {"ok", "unreliable", "suppressed"}


def test_indicator_with_no_valid_answer_is_an_honest_gap():
    subs = synthetic_submissions(600, seed=2)
    subs["victim_sexual_12m"] = subs["victim_sexual_12m"].where(subs["victim_sexual_12m"].isna(), "refused")
    subs["reported_sexual"] = np.nan
    subs["reported_to_sexual"] = np.nan
    table = run(PLAN, subs).estimates
    r = row(table, "16.1.3.sexual")
    assert r["n"] == 0 and r["flag"] == "suppressed" and np.isnan(r["estimate"])
    assert r["n_excluded"] == subs["victim_sexual_12m"].notna().sum() - _ineligible(subs)


def _ineligible(subs):
    age = pd.to_numeric(subs["age"], errors="coerce")
    eligible = (subs["consent"] == "yes") & (age >= 18) & (subs["review_state"] != "rejected")
    return (subs["victim_sexual_12m"].notna() & ~eligible).sum()


def test_one_respondent_neighbourhood_is_collapsed_with_a_warning(result):
    assert any("poroto" in w and "raked to the neighbourhood total" in w for w in result.warnings)
    r = row(result.estimates, "16.1.4", "neighbourhood", "poroto")
    assert r["n"] == 1 and r["flag"] == "suppressed"


def test_unsurveyed_neighbourhood_leaves_the_weighting_with_a_warning():
    subs = synthetic_submissions(1200, seed=4)
    subs = subs[subs["neighbourhood"] != "simbal"]
    result = run(PLAN, subs)
    assert any("no respondent yet in neighbourhood simbal" in w for w in result.warnings)
    assert "simbal" not in set(result.estimates["group"])


def test_a_value_without_population_is_set_aside_and_named():
    """One submission with a sex answer the margins do not have (or no sex) no longer stops every estimate: it is
    named by instance id and spreadsheet line in a warning, kept out of weighting and estimates, and listed."""
    subs = synthetic_submissions(1500, seed=4)
    eligible = subs.index[
        (subs["consent"] == "yes")
        & (pd.to_numeric(subs["age"], errors="coerce") >= 18)
        & (subs["review_state"] != "rejected")
    ]
    subs.loc[eligible[3], "sex"] = "other"
    subs.loc[eligible[7], "sex"] = np.nan
    result = run(PLAN, subs)
    note = next(w for w in result.warnings if "set aside" in w)
    assert note.startswith("2 respuesta(s) apartada(s)")
    for position in (eligible[3], eligible[7]):
        assert f"{subs.loc[position, 'instance_id']} (línea/line {position + 2})" in note
    assert "'other' (1)" in note and list(result.set_aside["line"]) == [eligible[3] + 2, eligible[7] + 2]
    assert len(result.microdata) == len(eligible) - 2
    assert row(result.estimates, "16.1.4")["n"] == result.microdata["safe_after_dark"].notna().sum()


def test_empty_data_gives_a_clear_error():
    subs = synthetic_submissions(50, seed=1)
    subs["consent"] = "no"
    with pytest.raises(PlanError, match="no eligible respondents"):
        run(PLAN, subs)


def test_plan_mistake_is_reported_before_any_computation():
    subs = synthetic_submissions(100, seed=1).drop(columns=["psu"])
    with pytest.raises(PlanError, match="column 'psu' used by the plan is not in the data"):
        run(PLAN, subs)


def test_non_numeric_user_weights_are_named():
    plan = dataclasses.replace(
        PLAN,
        design=dataclasses.replace(PLAN.design, weight="my_weight", weight_from="column"),
        weights=WeightsSpec(method="none"),
        margins=(),
    )
    subs = synthetic_submissions(200, seed=1).assign(my_weight="1.5")
    subs.loc[subs.index % 10 == 0, "my_weight"] = "heavy"
    with pytest.raises(AnalysisError, match="weight column 'my_weight' has .* non-numeric value"):
        run(plan, subs)


def _process_settings():
    """Process-wide settings a run must not touch (an earlier version switched them for speed)."""
    return pa.default_memory_pool().backend_name, np._core.multiarray._get_madvise_hugepage()


@pytest.mark.parametrize("hugepage", [True, False])
@pytest.mark.parametrize("failing", [False, True], ids=["ok", "raises"])
def test_run_restores_the_process_settings_it_touches(hugepage, failing):
    """A run leaves process-wide allocator settings alone (numpy's huge pages, pyarrow's pool): a dashboard
    process serves other work on other threads at the same time, also when the run fails."""
    previous_pool = pa.default_memory_pool()
    previous_hugepage = np._core.multiarray._set_madvise_hugepage(hugepage)
    pa.set_memory_pool(pa.mimalloc_memory_pool())  # not the system pool the run switches to
    try:
        before = _process_settings()
        subs = synthetic_submissions(200, seed=1)
        if failing:
            subs["consent"] = "no"
            with pytest.raises(AnalysisError, match="no eligible respondents"):
                run(PLAN, subs)
        else:
            run(PLAN, subs)
        assert _process_settings() == before == ("mimalloc", hugepage)
    finally:
        np._core.multiarray._set_madvise_hugepage(previous_hugepage)
        pa.set_memory_pool(previous_pool)


def _with(plan, indicators):
    return dataclasses.replace(
        plan,
        indicators=tuple(indicators),
        estimation=EstimationSpec(by=("neighbourhood", "sex"), area="neighbourhood", min_n=30, suppress_n=10),
    )


def test_small_cells_collapse_to_the_neighbourhood_total():
    plan = dataclasses.replace(PLAN, weights=dataclasses.replace(PLAN.weights, min_cell=60))
    result = run(plan, synthetic_submissions(1500, seed=8))
    micro = result.microdata
    sex_counts = micro.groupby(["neighbourhood", "sex"]).size().unstack(fill_value=0)
    small = sorted(sex_counts.index[(sex_counts < 60).any(axis=1)])
    assert small and any("fewer than 60 respondents" in w and small[0] in w for w in result.warnings)
    population = PLAN.margins[0].table.groupby("neighbourhood")["population"].sum()
    totals = micro.groupby("neighbourhood")["weight"].sum()
    assert np.allclose(totals, population.reindex(totals.index))  # neighbourhood totals still hold
    margin = PLAN.margins[0].table.set_index(["neighbourhood", "sex"])["population"]
    big = [h for h in sex_counts.index if h not in small]
    by_sex = micro[micro["neighbourhood"].isin(big)].groupby(["neighbourhood", "sex"])["weight"].sum()
    assert np.allclose(by_sex, margin.reindex(by_sex.index))  # full margins where cells are large enough


def test_overall_only_and_poststratification():
    """No breakdowns, no area; post-stratification to one margin (neighbourhood × sex)."""
    plan = dataclasses.replace(
        PLAN, estimation=EstimationSpec(), margins=PLAN.margins[:1], weights=WeightsSpec(method="poststratify")
    )
    result = run(plan, synthetic_submissions(900, seed=6))
    assert set(result.estimates["by"]) == {"overall"}
    assert len(result.estimates) == len(PLAN.indicators)
    micro = result.microdata
    totals = micro.groupby("neighbourhood")["weight"].sum()
    population = PLAN.margins[0].table.groupby("neighbourhood")["population"].sum()
    assert np.allclose(totals, population.reindex(totals.index))
