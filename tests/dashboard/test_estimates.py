"""Estimates page on the demo round (AppTest): the table, breakdowns, chart, map, weighting — for a researcher."""

from dashboard import data


def _texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "text", "subheader") for e in getattr(at, kind))


def test_indicator_per_neighbourhood_with_intervals_flags_and_n(demo_data, app_as):
    at = app_as("researcher", "estimates")
    assert not at.exception
    assert "Synthetic data — demo round" in _texts(at)
    table = at.dataframe[0].value
    assert list(table.columns) == ["neighbourhood", "estimate", "ci_low", "ci_high", "se", "deff", "n", "n_excluded", "flag"]
    expected = data.estimates().estimates
    expected = expected[(expected["indicator"] == "16.1.4") & (expected["by"] == "neighbourhood")]
    assert len(table) == len(expected) and table["n"].sum() == expected["n"].sum()
    shown = table[table["flag"] != "suppressed"].dropna(subset=["ci_low", "ci_high"])
    assert len(shown) and ((shown["ci_low"] <= shown["estimate"]) & (shown["estimate"] <= shown["ci_high"])).all()
    assert "95% confidence intervals" in _texts(at)


def test_breakdown_by_sex_within_neighbourhoods(demo_data, app_as):
    at = app_as("researcher", "estimates")
    at.segmented_control(key="estimates_breakdown").set_value("sex").run()
    table = at.dataframe[0].value
    assert set(table["group"]) == {"female", "male"}
    assert "female: **" in _texts(at) and "male: **" in _texts(at)


def test_other_indicator_weighting_and_margins_source(demo_data, app_as):
    at = app_as("researcher", "estimates")
    at.selectbox(key="estimates_indicator").set_value("16.5.1").run()
    assert not at.exception
    texts = _texts(at)
    assert "ASSUMED split of 2017 census district totals" in texts
    assert "DEFAULT MARGINS — AN ASSUMPTION, NOT CENSUS COUNTS" in texts
    assert "Approximate boundaries" in texts
    diagnostics = next(d.value for d in at.dataframe if "deff_w" in d.value.columns or "g_max" in d.value.columns)
    assert len(diagnostics) == 21


def test_rounds_by_date_range_side_by_side(demo_data, app_as):
    at = app_as("researcher", "estimates")
    rounds = next(d.value for d in at.dataframe if "estimate A" in d.value.columns)
    assert {"estimate A", "ci_low A", "n A", "estimate B", "n B"} <= set(rounds.columns)
    assert "all surveyed areas" in rounds.index
    frame = data.submissions()
    assert rounds.loc["all surveyed areas", "n A"] + rounds.loc["all surveyed areas", "n B"] <= len(frame)
