"""Raking and post-stratification against R survey's rake()/postStratify() (golden files in tests/golden/),
with svy as a second reference for the raked weights; margin errors; trimming; diagnostics."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import make_design
from analysis.errors import ConvergenceError, MarginError
from analysis.weights import diagnostics, poststratify, rake

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "survey.csv")


@pytest.fixture(scope="module")
def margins() -> list[pd.DataFrame]:
    return [pd.read_csv(GOLDEN / "margins_sex.csv"), pd.read_csv(GOLDEN / "margins_age.csv")]


@pytest.fixture(scope="module")
def design(survey):
    return make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight")


@pytest.fixture(scope="module")
def r_weights() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "weights.csv")


def test_raked_weights_match_r(design, margins, r_weights):
    raked = rake(design, margins, epsilon=1e-12)
    np.testing.assert_allclose(raked.weights, r_weights["raked"], rtol=1e-12)
    np.testing.assert_allclose(design.weights, r_weights["design"], rtol=1e-15)


def test_poststratified_then_raked_weights_match_r(design, margins, r_weights):
    weights = rake(poststratify(design, margins[0]), [margins[1]], epsilon=1e-12).weights
    np.testing.assert_allclose(weights, r_weights["poststratified_raked"], rtol=1e-12)


def test_raked_weights_hit_every_margin(design, margins):
    raked = rake(design, margins)
    data = design.data.assign(w=raked.weights)
    for margin in margins:
        columns = [c for c in margin.columns if c != "population"]
        got = data.groupby(columns)["w"].sum()
        expected = margin.set_index(columns)["population"]
        np.testing.assert_allclose(got.loc[expected.index], expected, rtol=1e-9)


def test_poststratified_weights_match_r(design, margins, r_weights):
    np.testing.assert_allclose(poststratify(design, margins[0]).weights, r_weights["poststratified"], rtol=1e-13)


def test_raked_weights_match_svy(survey, margins, r_weights):
    """svy 0.35 reproduces R's raked weights; it is the second reference for weights."""
    svy = pytest.importorskip("svy")
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(survey).with_columns(
        (pl.col("neighbourhood") + "|" + pl.col("sex")).alias("nsex"),
        (pl.col("neighbourhood") + "|" + pl.col("age_group")).alias("nage"),
    )
    sample = svy.Sample(frame, svy.Design(stratum="neighbourhood", psu="psu", wgt="design_weight"))
    sex, age = margins
    controls = {
        "nsex": {f"{r.neighbourhood}|{r.sex}": r.population for r in sex.itertuples()},
        "nage": {f"{r.neighbourhood}|{r.age_group}": r.population for r in age.itertuples()},
    }
    raked = sample.weighting.rake(controls=controls, wgt_name="rk", tol=1e-12, max_iter=200)
    np.testing.assert_allclose(raked.data["rk"].to_numpy(), r_weights["raked"], rtol=1e-10)


def test_raking_records_the_last_iteration_for_the_variance(design, margins):
    raked = rake(design, margins, epsilon=1e-12)
    (raking,) = raked.calibration
    assert len(raking.margins) == 2
    np.testing.assert_array_equal(raking.margins[-1].weights, raked.weights)


def test_margins_whose_totals_disagree_are_refused(design, margins):
    sex, age = margins
    age = age.copy()
    age.loc[age["neighbourhood"] == "rio_seco", "population"] += 10
    with pytest.raises(MarginError, match="disagree.*rio_seco"):
        rake(design, [sex, age])


def test_a_margin_category_absent_from_the_sample_is_named(design, margins):
    sex, age = margins
    extra = pd.DataFrame({"neighbourhood": ["rio_seco"], "age_group": ["100_plus"], "population": [0.0]})
    rake(design, [sex, pd.concat([age, extra])])  # population 0 and nobody in the sample: harmless, as in R
    extra["population"] = 5.0
    age_more = pd.concat([age, extra])
    with pytest.raises(MarginError, match="age_group=100_plus.*no respondent"):
        poststratify(design, age_more)


def test_a_sample_cell_absent_from_the_margin_is_named(design, margins):
    sex = margins[0][margins[0]["sex"] == "female"]
    with pytest.raises(MarginError, match="sex=male.*absent from the margin"):
        poststratify(design, sex)


def test_a_populated_cell_with_population_zero_is_refused(design, margins):
    sex = margins[0].copy()
    sex.loc[0, "population"] = 0
    with pytest.raises(MarginError, match="population 0"):
        poststratify(design, sex)


@pytest.mark.parametrize("bad", [-1.0, np.nan, "many"])
def test_bad_population_values_are_refused(design, margins, bad):
    sex = margins[0].astype({"population": object})
    sex.loc[2, "population"] = bad
    with pytest.raises(MarginError, match="non-negative number"):
        poststratify(design, sex)


def test_margin_columns_must_exist_and_be_complete(design, margins, survey):
    with pytest.raises(MarginError, match="column 'ward'"):
        poststratify(design, margins[0].rename(columns={"neighbourhood": "ward"}))
    holes = survey.copy()
    holes.loc[[1, 2], "sex"] = None
    with pytest.raises(MarginError, match="'sex' is missing for 2"):
        poststratify(make_design(holes, weight="design_weight"), margins[0])


def test_numeric_margin_codes_match_numeric_columns():
    frame = pd.DataFrame({"zone": [1, 1, 2, 2], "w": [1.0, 2.0, 1.0, 1.0]})
    design = make_design(frame, weight="w")
    margin = pd.DataFrame({"zone": [1.0, 2.0], "population": [30.0, 10.0]})
    np.testing.assert_allclose(poststratify(design, margin).weights, [10, 20, 5, 5])


def test_non_convergence_is_an_error(design, margins):
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        rake(design, margins, epsilon=1e-14, maxit=1)


def test_trimming_bounds_the_adjustment_factors_and_keeps_the_margins(design, margins):
    untrimmed = rake(design, margins)
    g = untrimmed.weights / design.weights
    low, high = 3.0, 70.0  # design weights here are not scaled to the population: g averages about 6
    assert g.min() < low and g.max() > high
    trimmed = rake(design, margins, trim=(low, high))
    g = trimmed.weights / design.weights
    assert g.min() >= low * (1 - 1e-6) and g.max() <= high * (1 + 1e-6)
    data = design.data.assign(w=trimmed.weights)
    for margin in margins:
        columns = [c for c in margin.columns if c != "population"]
        got = data.groupby(columns)["w"].sum().loc[margin.set_index(columns).index]
        np.testing.assert_allclose(got, margin["population"], rtol=1e-8)


def test_infeasible_trimming_is_an_error(design, margins):
    with pytest.raises(ConvergenceError, match="adjustment factors within"):
        rake(design, margins, trim=(0.99, 1.01), maxit=20)


def test_diagnostics_per_stratum(design, margins):
    raked = rake(design, margins)
    table = diagnostics(raked)
    assert table["group"].tolist() == ["all", *sorted(design.data["neighbourhood"].unique())]
    overall = table.iloc[0]
    w = raked.weights
    assert overall["n"] == len(w)
    assert overall["deff_w"] == pytest.approx(1 + np.var(w) / np.mean(w) ** 2)  # Kish: 1 + CV²
    assert overall["n_eff"] == pytest.approx(len(w) / overall["deff_w"])
    assert overall["weight_ratio"] == pytest.approx(w.max() / w.min())
    assert overall["deff_w"] == pytest.approx(1 + overall["weight_cv"] ** 2)
    assert overall["g_min"] == pytest.approx((w / design.weights).min())
    tiny = table.set_index("group").loc["vista_alegre"]
    assert tiny["n"] == 8 and tiny["weight_sum"] == pytest.approx(3100)


def test_all_weights_equal_gives_kish_deff_one(survey):
    table = diagnostics(make_design(survey, strata="neighbourhood", psu="psu"))
    np.testing.assert_allclose(table["deff_w"], 1.0)
    np.testing.assert_allclose(table["n_eff"], table["n"])


def test_margins_that_cannot_all_be_met_are_an_error_not_silent_weights(survey, margins):
    """R's rake() stops when the weights stop moving and returns weights that miss a margin when sex and age are
    confounded in an area; we refuse."""
    confounded = survey.copy()
    tiny = confounded["neighbourhood"] == "vista_alegre"
    confounded.loc[tiny, "sex"] = np.where(confounded.loc[tiny, "age_group"].isin(["18_29", "45_64"]), "female", "male")
    design = make_design(confounded, strata="neighbourhood", psu="psu", weight="design_weight")
    with pytest.raises(MarginError, match="not met in cell.*vista_alegre"):
        rake(design, margins)
