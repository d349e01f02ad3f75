"""Proportions by breakdown against R survey (golden files from tests/golden/make_golden.R: svymean deff=TRUE,
degf, svyciprop on subset(design, base & group)), on unraked, raked and post-stratified designs under each
lonely-PSU rule; svy as a second reference; bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import make_design
from analysis.errors import AnalysisError
from analysis.estimate import means_many, proportions, proportions_many
from analysis.weights import poststratify, rake

GOLDEN = Path(__file__).parents[1] / "golden"
INDICATORS = {"safe_dark": None, "victim": None, "reported": None, "bribe": "contact", "rare": None}
BY = ["neighbourhood", "sex", "age_group", "disability", ("neighbourhood", "sex")]
TINY = 1e-12  # R's and our "zero" variances differ in floating noise (1e-17); compare those absolutely


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "survey.csv")


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    table = pd.read_csv(GOLDEN / "estimates.csv", keep_default_na=False, na_values=["NA"])
    return table.astype({"area": str, "group": str})


def build(survey, kind, lonely):
    design = make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight", lonely_psu=lonely)
    margins = [pd.read_csv(GOLDEN / "margins_sex.csv"), pd.read_csv(GOLDEN / "margins_age.csv")]
    if kind == "raked":
        return rake(design, margins, epsilon=1e-12)
    if kind == "poststratified":
        return poststratify(design, margins[0])
    if kind == "poststratified_raked":  # R keeps the earlier post-stratification in front of the raking
        return rake(poststratify(design, margins[0]), [margins[1]], epsilon=1e-12)
    return design


def ours(design, ci):
    tables = [proportions_many(design, [y], domain=domain, by=BY, ci=ci) for y, domain in INDICATORS.items()]
    table = pd.concat(tables, ignore_index=True)
    return table.assign(area=table["area"].fillna("").astype(str), group=table["group"].astype(str))


def matched(golden, kind, lonely, table):
    expected = golden[(golden["design"] == kind) & (golden["lonely"] == lonely)]
    both = expected.merge(table, on=["indicator", "by", "area", "group"], suffixes=("_r", ""), how="left")
    assert len(both) == len(expected) and both["estimate"].notna().all()
    return both


def close(ours_, r, rtol=1e-8):
    ours_, r = np.asarray(ours_, float), np.asarray(r, float)
    assert np.array_equal(np.isnan(ours_), np.isnan(r)), "NaN in different places"
    np.testing.assert_allclose(ours_, r, rtol=rtol, atol=0, equal_nan=True)


def interior(both):
    """Rows R gives an interval for: at p = 0 or 1 R's are NaN, ours the one-sided bound (tested apart)."""
    return both[(both["estimate"] > 0) & (both["estimate"] < 1)]


@pytest.mark.parametrize("ci", ["logit", "beta", "wilson"])
def test_no_empty_interval_at_zero_or_one(survey, ci):
    """A group where nobody (everybody) has the trait gets [0, u] ([l, 1]): Clopper–Pearson on the group's n with
    Korn–Graubard's df factor; with df = n − 1 (every respondent its own PSU) that is exactly Clopper–Pearson."""
    table = ours(build(survey, "raked", "adjust"), ci)
    zero, one = table[table["estimate"] == 0], table[table["estimate"] == 1]
    assert len(zero) > 5 and (zero["ci_low"] == 0).all() and (zero["ci_high"] > 0).all()
    assert (zero["ci_high"] < 1).all() and (one["ci_high"] == 1).all() and (one["ci_low"] < 1).all()
    srs = make_design(pd.DataFrame({"y": [0.0] * 20 + [np.nan] * 3}))
    row = proportions(srs, "y", ci=ci).iloc[0]
    statsmodels = pytest.importorskip("statsmodels.stats.proportion")
    low, high = statsmodels.proportion_confint(0, 20, alpha=0.05, method="beta")
    assert row["ci_low"] == 0 and row["ci_high"] == pytest.approx(high, rel=1e-12) and low == 0
    ones = proportions(make_design(pd.DataFrame({"y": [1.0] * 20})), "y", ci=ci).iloc[0]
    assert ones["ci_high"] == 1 and ones["ci_low"] == pytest.approx(1 - high, rel=1e-12)


@pytest.mark.parametrize("lonely", ["adjust", "certainty", "remove"])
@pytest.mark.parametrize("kind", ["unraked", "raked", "poststratified", "poststratified_raked"])
def test_estimates_se_deff_df_match_r(survey, golden, kind, lonely):
    both = matched(golden, kind, lonely, ours(build(survey, kind, lonely), "logit"))
    for column in ["estimate", "population"]:
        close(both[column], both[f"{column}_r"])
    for column in ["n", "df"]:
        assert (both[column] == both[f"{column}_r"]).all(), column
    real = both["se_r"] > TINY
    close(both.loc[real, "se"], both.loc[real, "se_r"])
    assert (both.loc[~real, "se"] < TINY).all()
    close(both.loc[real, "deff"], both.loc[real, "deff_r"])
    assert len(both) > 130 and real.sum() > 100  # the rest: p = 0 or 1, or a lone PSU


@pytest.mark.parametrize("kind", ["unraked", "raked", "poststratified"])
def test_logit_intervals_match_r(survey, golden, kind):
    """R's svyciprop(method="logit") fits a GLM (converged to ~1e-9); its closed form ("xlogit") is exact.
    Where p = 0 the GLM diverges and R returns a meaningless interval like [5e-12, 1e-11], and where p is tiny it
    can return a lower bound of exactly 0 (the GLM failure): we give NaN, resp. the closed form, as xlogit does."""
    both = interior(matched(golden, kind, "adjust", ours(build(survey, kind, "adjust"), "logit")))
    close(both["ci_low"], both["xlogit_low"])
    close(both["ci_high"], both["xlogit_high"])
    glm = both["logit_low"].notna() & (both["estimate"] > 0) & (both["estimate"] < 1) & (both["logit_low"] > 0)
    close(both.loc[glm, "ci_low"], both.loc[glm, "logit_low"], rtol=1e-6)
    close(both.loc[glm, "ci_high"], both.loc[glm, "logit_high"], rtol=1e-6)


@pytest.mark.parametrize("kind", ["unraked", "raked", "poststratified"])
def test_korn_graubard_intervals_match_r(survey, golden, kind):
    """Includes R's use of nrow(design): the full sample on calibrated designs, the domain otherwise."""
    both = interior(matched(golden, kind, "adjust", ours(build(survey, kind, "adjust"), "beta")))
    close(both["ci_low"], both["beta_low"])
    close(both["ci_high"], both["beta_high"])
    assert (both["nrow"] == (len(survey) if kind != "unraked" else both["n"])).all()


@pytest.mark.parametrize("kind", ["unraked", "raked"])
def test_matches_svy(survey, kind):
    """svy 0.35 gives R's domain estimates, SEs, deffs, df and logit intervals, raked or not, and is the
    reference for the Wilson interval (R has none). Under R's lonely.psu="remove" (svy "skip") it agrees on
    raked designs too; its "center" differs from R's "adjust" once the design is calibrated (3e-4 relative on
    the SE here), and its Korn–Graubard caps the effective n (R does not), so R is the reference for those."""
    svy = pytest.importorskip("svy")
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(survey).with_columns(
        (pl.col("neighbourhood") + "|" + pl.col("sex")).alias("nsex"),
        (pl.col("neighbourhood") + "|" + pl.col("age_group")).alias("nage"),
    )
    sample = svy.Sample(frame, svy.Design(stratum="neighbourhood", psu="psu", wgt="design_weight", singleton="skip"))
    if kind == "raked":
        sex, age = (pd.read_csv(GOLDEN / f"margins_{m}.csv") for m in ("sex", "age"))
        controls = {
            "nsex": {f"{r.neighbourhood}|{r.sex}": r.population for r in sex.itertuples()},
            "nage": {f"{r.neighbourhood}|{r.age_group}": r.population for r in age.itertuples()},
        }
        sample = sample.weighting.rake(controls=controls, wgt_name="rk", tol=1e-12, max_iter=200)
    result = sample.estimation.prop("safe_dark", by="sex", drop_nulls=True, deff="wor").to_polars().to_pandas()
    result = result[result["safe_dark"] == 1.0]
    table = proportions(build(survey, kind, "remove"), "safe_dark", by=["sex"]).iloc[1:]
    np.testing.assert_allclose(table["estimate"], result["est"], rtol=1e-10)
    np.testing.assert_allclose(table["se"], result["se"], rtol=1e-8)
    np.testing.assert_allclose(table["deff"], result["deff"], rtol=1e-8)
    np.testing.assert_allclose(table["ci_low"], result["lci"], rtol=1e-8)
    np.testing.assert_array_equal(table["df"], result["df"])
    wilson = sample.estimation.prop("safe_dark", by="sex", drop_nulls=True, ci_method="wilson").to_polars().to_pandas()
    wilson = wilson[wilson["safe_dark"] == 1.0]
    table = proportions(build(survey, kind, "remove"), "safe_dark", by=["sex"], ci="wilson").iloc[1:]
    np.testing.assert_allclose(table["ci_low"], wilson["lci"], rtol=1e-8)
    np.testing.assert_allclose(table["ci_high"], wilson["uci"], rtol=1e-8)


def test_many_at_once_equals_one_at_a_time(survey):
    design = build(survey, "raked", "adjust")
    together = proportions_many(design, ["safe_dark", "victim", "rare"], by=BY)
    for y in ["safe_dark", "victim", "rare"]:
        alone = proportions(design, y, by=BY)
        part = together[together["indicator"] == y].drop(columns="indicator").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone, rtol=1e-12)


def test_domains_keep_the_full_design(survey):
    """Estimating on rows dropped before calibration gives a different (wrong) SE; ours equals R's subset()."""
    design = build(survey, "raked", "adjust")
    in_domain = proportions(design, "bribe", domain="contact")
    rows_dropped = proportions(
        make_design(survey[survey["contact"]], strata="neighbourhood", psu="psu", weight="design_weight"), "bribe"
    )
    assert in_domain["se"][0] != pytest.approx(rows_dropped["se"][0], rel=1e-3)
    assert in_domain["n"][0] == survey.loc[survey["contact"], "bribe"].notna().sum()


def test_output_columns_and_rows(survey):
    table = proportions(build(survey, "unraked", "adjust"), "safe_dark", by=["sex", ("neighbourhood", "sex")])
    assert list(table.columns) == [
        "by",
        "area",
        "group",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "deff",
        "n",
        "population",
        "df",
    ]
    assert table.iloc[0][["by", "group"]].tolist() == ["overall", "all"]
    assert len(table) == 1 + 2 + survey.groupby(["neighbourhood", "sex"]).ngroups
    area_rows = table[table["area"].notna()]
    assert set(area_rows["area"]) == set(survey["neighbourhood"])


def test_indicator_with_no_valid_answer_gives_honest_nans(survey):
    frame = survey.assign(nobody=np.nan)
    table = proportions(build(frame, "raked", "adjust"), "nobody", by=["sex"])
    assert (table["n"] == 0).all()
    assert table[["estimate", "se", "ci_low", "ci_high", "deff"]].isna().all().all()


def test_neighbourhood_with_one_respondent(survey):
    frame = survey.copy()
    frame["y"] = np.where(frame["neighbourhood"] == "rio_seco", np.nan, frame["safe_dark"])
    first = frame.index[frame["neighbourhood"] == "rio_seco"][0]
    frame.loc[first, "y"] = 1.0
    table = proportions(build(frame, "unraked", "adjust"), "y", by=["neighbourhood"]).set_index("group")
    row = table.loc["rio_seco"]
    assert row["n"] == 1 and row["estimate"] == 1.0 and row["se"] == 0 and row["df"] == 0
    # one respondent: the one-sided Clopper–Pearson bound on n = 1, [α/2, 1]
    assert row["ci_low"] == pytest.approx(0.025) and row["ci_high"] == 1 and np.isnan(row["deff"])


def test_all_weights_equal_and_unit_weights(survey):
    """With weight 1 the population is the sample: R's deff=TRUE (without-replacement SRS) is undefined (R: NA
    and a warning), so deff is NaN; the estimate is the unweighted share."""
    design = make_design(survey, strata="neighbourhood", psu="psu")
    table = proportions(design, "safe_dark")
    assert table["estimate"][0] == pytest.approx(survey["safe_dark"].mean())
    assert np.isnan(table["deff"][0]) and table["se"][0] > 0


@pytest.mark.parametrize("values, message", [([0, 2, 1], "1/0.*2"), (["yes", "no", "yes"], "text")])
def test_non_binary_indicator_is_an_error(values, message):
    design = make_design(pd.DataFrame({"y": values}))
    with pytest.raises(AnalysisError, match=f"indicator column 'y'.*{message}"):
        proportions(design, "y")


def test_means_of_scores_are_the_weighted_means_and_reduce_to_proportions(survey):
    """means_many on a 0/1 column is proportions_many exactly (deff included: the mean of y² is p); on a score
    in [0, 1] the estimate is the weighted mean over the base, and a value outside [0, 1] is an error."""
    design = build(survey, "raked", "adjust")
    shares = proportions_many(design, ["safe_dark", "victim"], by=["sex", ("neighbourhood", "sex")])
    means = means_many(design, ["safe_dark", "victim"], by=["sex", ("neighbourhood", "sex")])
    pd.testing.assert_frame_equal(shares, means, rtol=1e-12)
    score = build(survey.assign(score=(survey["safe_dark"] + survey["victim"]) / 2), "raked", "adjust")
    table = means_many(score, ["score"])
    valid = score.data["score"].notna().to_numpy()
    expected = np.average(score.data["score"][valid], weights=score.weights[valid])
    assert table["estimate"][0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(AnalysisError, match="indicator column 'y'.*scores between 0 and 1.*1.5"):
        means_many(make_design(pd.DataFrame({"y": [0.0, 1.5, 0.5]})), ["y"])


def test_unknown_columns_and_options_are_errors(survey):
    design = build(survey, "unraked", "adjust")
    with pytest.raises(AnalysisError, match="indicator column 'nope'"):
        proportions(design, "nope")
    with pytest.raises(AnalysisError, match="breakdown column 'ward'"):
        proportions(design, "safe_dark", by=["ward"])
    with pytest.raises(AnalysisError, match="domain column 'who'"):
        proportions(design, "safe_dark", domain="who")
    with pytest.raises(AnalysisError, match="ci must be one of"):
        proportions(design, "safe_dark", ci="wald")


def test_empty_domain_and_empty_breakdown_give_rows_without_numbers_not_crashes(survey):
    frame = survey.assign(nobody=False, unknown=np.nan)
    design = build(frame, "raked", "adjust")
    table = proportions(design, "safe_dark", domain="nobody", by=["sex", "unknown"])
    assert list(table["by"]) == ["overall", "sex", "sex"]  # a breakdown with no values has no groups
    assert (table["n"] == 0).all() and table["estimate"].isna().all()


def test_missing_breakdown_values_stay_in_the_design_and_overall(survey):
    frame = survey.copy()
    frame.loc[frame.index[:20], "disability"] = np.nan
    design = build(frame, "raked", "adjust")
    table = proportions(design, "safe_dark", by=["disability"])
    overall = table.iloc[0]
    assert overall["n"] == survey["safe_dark"].notna().sum()
    assert table.iloc[1:]["n"].sum() == frame.loc[frame["disability"].notna(), "safe_dark"].notna().sum()


def test_group_ids_fall_back_to_groupby_when_the_code_would_overflow():
    from analysis.estimate import _group_ids

    rng = np.random.default_rng(3)
    small = [rng.integers(0, 4, 50), rng.integers(0, 3, 50)]
    huge = [small[0] * 2**40, small[1] * 2**40]  # same partition, radices too large for one int64 code
    np.testing.assert_array_equal(_group_ids(small), _group_ids(huge))
