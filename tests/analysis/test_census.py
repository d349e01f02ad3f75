"""`sdg16 margins import`: INEI Cuadro N° 1 (CSV and XLSX fixture in its layout) → margins per neighbourhood."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.census import CensusError, census_margins, district_code, read_cuadro1
from analysis.margins import margin_assumption
from analysis.plan import load_plan
from sdg16 import analysis_commands

FIXTURES = Path(__file__).parents[1] / "fixtures"
DATA = Path(__file__).parents[2] / "data"
DISTRICTS = ("trujillo", "el_porvenir", "florencia_de_mora", "la_esperanza")


@pytest.fixture(scope="module")
def census():
    return read_cuadro1(FIXTURES / "inei_cuadro1_fixture.csv")


@pytest.fixture(scope="module")
def frame():
    blocks = pd.read_csv(DATA / "frame_trujillo_synthetic.csv")
    return blocks[blocks["district"].isin(DISTRICTS)]


def test_csv_and_xlsx_read_alike_and_skip_totals(census):
    xlsx = read_cuadro1(FIXTURES / "inei_cuadro1_fixture.xlsx")
    pd.testing.assert_frame_equal(census, xlsx)
    assert sorted(census["district"].unique()) == sorted(DISTRICTS)  # not the DEPARTAMENTO / PROVINCIA rows
    assert census.groupby("district")["population"].sum()["la_esperanza"] == 189206
    assert census["age"].min() == 0 and census["age"].max() == 100
    assert len(census) == 4 * 101 * 2  # single years only: "De 1 a 4 años" subtotals skipped
    assert district_code("VÍCTOR LARCO HERRERA") == "victor_larco_herrera"


def test_margins_follow_the_census_and_the_frame(census, frame):
    places = pd.read_csv(DATA / "neighbourhoods.csv")
    made = census_margins(census, frame, places)
    sex, age = made.sex, made.age
    pd.testing.assert_series_equal(
        sex.groupby("neighbourhood")["population"].sum(), age.groupby("neighbourhood")["population"].sum()
    )
    adults = census[census["age"] >= 18]
    # El Porvenir: its adults spread by its neighbourhoods' dwellings in the frame
    hoods = places.loc[places["district"] == "el_porvenir", "name"]
    dwellings = frame[frame["neighbourhood"].isin(hoods)].groupby("neighbourhood")["dwellings"].sum()
    women = adults[(adults["district"] == "el_porvenir") & (adults["sex"] == "female")]["population"].sum()
    got = sex[sex["sex"] == "female"].set_index("neighbourhood")["population"].reindex(dwellings.index)
    np.testing.assert_allclose(got, women * dwellings / dwellings.sum(), atol=1)
    young = adults[(adults["district"] == "trujillo") & adults["age"].between(18, 24)]["population"].sum()
    assert age.set_index(["neighbourhood", "age_group"]).loc[("trujillo", "18-24"), "population"] == young
    assert "ASSUMED: each neighbourhood has its district's age-sex structure" in made.note


def test_bad_tables_are_named(tmp_path, census, frame):
    places = pd.read_csv(DATA / "neighbourhoods.csv")
    with pytest.raises(CensusError, match="lacks district.*huanchaco"):
        census_margins(census, pd.read_csv(DATA / "frame_trujillo_synthetic.csv"), places)
    lines = (FIXTURES / "inei_cuadro1_fixture.csv").read_text(encoding="utf-8").splitlines()
    lost = [line for line in lines if not line.startswith("37 años")]  # a row lost in a PDF conversion
    (tmp_path / "lost.csv").write_text("\n".join(lost), encoding="utf-8")
    with pytest.raises(CensusError, match="do not add up to the district total: trujillo"):
        read_cuadro1(tmp_path / "lost.csv")
    (tmp_path / "empty.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CensusError, match="Cuadro N° 1"):
        read_cuadro1(tmp_path / "empty.csv")


def test_cli_writes_margins_a_plan_can_use(tmp_path, frame):
    frame.to_csv(tmp_path / "frame.csv", index=False)
    result = CliRunner().invoke(
        analysis_commands.margins_app,
        [
            "import",
            "--census",
            str(FIXTURES / "inei_cuadro1_fixture.xlsx"),
            "--frame",
            str(tmp_path / "frame.csv"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert '[[margins]]\nfile = "margins_sex.csv"' in result.output
    shutil.copy(Path(__file__).parents[1] / "golden" / "nonresponse_plan.toml", tmp_path / "plan.toml")
    text = (
        (tmp_path / "plan.toml")
        .read_text()
        .replace("nonresponse_margins_sex.csv", "margins_sex.csv")
        .replace("nonresponse_margins_age.csv", "margins_age.csv")
    )
    (tmp_path / "plan.toml").write_text(text)
    plan = load_plan(tmp_path / "plan.toml")  # the two margins agree on every neighbourhood's total
    assert margin_assumption(plan).startswith("# Raking margins from a census table")
