"""make_design: the design R's svydesign(ids=~psu, strata=~neighbourhood, weights=~w, nest=TRUE) builds, and the
errors bad input gives."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import degf, make_design
from analysis.errors import AnalysisError, DesignError

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.fixture
def survey() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "survey.csv")


def test_nested_psus_are_distinct_per_stratum(survey):
    design = make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight")
    assert design.n_psu == survey.groupby(["neighbourhood", "psu"]).ngroups == 25
    assert list(design.psu_per_stratum) == [6, 4, 6, 3, 5, 1]
    # PSUs are numbered stratum by stratum (the variance relies on it)
    assert np.all(np.diff(design.psu_stratum) >= 0)


def test_psu_codes_shared_across_strata_need_nest(survey):
    with pytest.raises(DesignError, match="psu b01.* more than one stratum"):
        make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight", nest=False)


def test_degf_is_psus_minus_strata(survey):
    design = make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight")
    assert degf(design) == 25 - 6
    women_in_rio_seco = ((survey["neighbourhood"] == "rio_seco") & (survey["sex"] == "female")).to_numpy()
    assert degf(design, women_in_rio_seco) == survey.loc[women_in_rio_seco, "psu"].nunique() - 1


def test_no_psu_means_each_respondent_is_a_psu_and_no_weight_means_one(survey):
    design = make_design(survey)
    assert design.n_psu == len(survey) and np.all(design.weights == 1)
    assert degf(design) == len(survey) - 1


def test_lonely_psu_fail_names_the_stratum_as_r_does(survey):
    r_message = (GOLDEN / "lonely_fail.txt").read_text()
    assert "vista_alegre" in r_message  # R: "Stratum (vista_alegre) has only one PSU at stage 1"
    with pytest.raises(DesignError, match="vista_alegre.*only one PSU"):
        make_design(survey, strata="neighbourhood", psu="psu", weight="design_weight", lonely_psu="fail")


def test_unknown_lonely_option_is_refused(survey):
    with pytest.raises(DesignError, match="lonely_psu must be one of"):
        make_design(survey, strata="neighbourhood", psu="psu", lonely_psu="median")


def test_empty_data_is_a_clear_error():
    with pytest.raises(AnalysisError, match="empty"):
        make_design(pd.DataFrame({"w": []}), weight="w")


@pytest.mark.parametrize(
    "weights, message",
    [
        (["1.5", "abc", "2"], "non-numeric.*'abc'"),
        ([1.0, np.nan, 2.0], "missing"),
        ([1.0, 0.0, 2.0], "zero or negative"),
        ([1.0, -3.0, 2.0], "zero or negative"),
        ([1.0, np.inf, 2.0], "infinite"),
    ],
)
def test_bad_weights_name_the_column(weights, message):
    frame = pd.DataFrame({"wt": weights, "s": ["a", "a", "b"]})
    with pytest.raises(DesignError, match=f"weight column 'wt'.*{message}"):
        make_design(frame, strata="s", weight="wt")


def test_numeric_text_weights_are_accepted():
    design = make_design(pd.DataFrame({"wt": ["1.5", "2", "3"]}), weight="wt")
    assert design.weights.tolist() == [1.5, 2.0, 3.0]


@pytest.mark.parametrize("role", ["strata", "psu", "weight"])
def test_missing_column_is_named(survey, role):
    with pytest.raises(DesignError, match=f"{role} column 'nope'"):
        make_design(survey, **{role: "nope"})


def test_missing_stratum_or_psu_values_are_errors(survey):
    broken = survey.copy()
    broken.loc[3, "psu"] = None
    with pytest.raises(DesignError, match="psu column 'psu' is missing for 1"):
        make_design(broken, strata="neighbourhood", psu="psu")
    broken = survey.copy()
    broken.loc[3, "neighbourhood"] = None
    with pytest.raises(DesignError, match="strata column 'neighbourhood' is missing for 1"):
        make_design(broken, strata="neighbourhood", psu="psu")
