"""Default margins: consistent totals, the assumption stated, and the committed files reproducible."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.margins import AGE_GROUPS, SplitAssumption, default_margins
from analysis.plan import load_plan
from sdg16.analysis_commands import write_default_margins

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "analysis" / "plans"
NEIGHBOURHOODS = pd.read_csv(ROOT / "data" / "neighbourhoods.csv")
DISTRICTS = pd.read_csv(ROOT / "data" / "population_trujillo_2017.csv")


def test_margins_agree_per_neighbourhood_and_follow_the_assumption():
    made = default_margins(NEIGHBOURHOODS, DISTRICTS)
    by_sex = made.sex.groupby("neighbourhood")["population"].sum()
    by_age = made.age.groupby("neighbourhood")["population"].sum()
    pd.testing.assert_series_equal(by_sex, by_age)
    assert by_sex.sum() == pytest.approx(DISTRICTS["population_2017"].sum() * 0.68, abs=len(by_sex))
    el_porvenir = by_sex[["ep_centro", "alto_trujillo", "rio_seco", "gran_chimu", "miguel_grau"]].sum()
    assert el_porvenir == pytest.approx(190461 * 0.68, abs=5)
    female = made.sex[made.sex["sex"] == "female"]["population"].sum() / by_sex.sum()
    assert female == pytest.approx(0.515, abs=1e-4)
    assert list(made.age["age_group"].unique()) == list(AGE_GROUPS)
    assert "ASSUMPTION" in made.assumption and "REDATAM" in made.assumption and "51.5%" in made.assumption


def test_committed_files_are_what_the_command_produces(tmp_path):
    written = write_default_margins(tmp_path)
    for path in written:
        assert path.read_text(encoding="utf-8") == (PLANS / path.name).read_text(encoding="utf-8"), path.name


def test_default_plan_accepts_the_committed_margins():
    plan = load_plan(PLANS / "sdg16.toml")
    assert [m.file.name for m in plan.margins] == ["margins_sex.csv", "margins_age.csv"]


@pytest.mark.parametrize(
    "split, message",
    [
        (SplitAssumption(adult_share=1.2), "adult share"),
        (SplitAssumption(female_share=0), "female share"),
        (SplitAssumption(age_shares={g: 0.1 for g in AGE_GROUPS}), "sum to 1"),
    ],
)
def test_impossible_assumptions_are_refused(split, message):
    with pytest.raises(AnalysisError, match=message):
        default_margins(NEIGHBOURHOODS, DISTRICTS, split)


def test_shares_not_summing_to_one_per_district_are_refused():
    bad = NEIGHBOURHOODS.copy()
    bad.loc[bad["name"] == "rio_seco", "population_share"] = 0.5
    with pytest.raises(AnalysisError, match="el_porvenir sums to 1.35"):
        default_margins(bad, DISTRICTS)


def test_unknown_district_is_refused():
    with pytest.raises(AnalysisError, match="no population total: trujillo"):
        default_margins(NEIGHBOURHOODS, DISTRICTS[DISTRICTS["district"] != "trujillo"])
