"""Estimates page on the demo round (AppTest): the table, breakdowns, chart, map, weighting — for a researcher."""

import json

import pytest

from dashboard import data


def _texts(at) -> str:
    return " ".join(
        str(e.value)
        for kind in ("markdown", "caption", "info", "warning", "text", "subheader")
        for e in getattr(at, kind)
    )


def test_indicator_per_neighbourhood_with_intervals_flags_and_n(demo_data, app_as):
    at = app_as("researcher", "estimates")
    assert not at.exception
    assert "Synthetic data — demo round" in _texts(at)
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "neighbourhood",
        "estimate",
        "ci_low",
        "ci_high",
        "se",
        "deff",
        "n",
        "n_excluded",
        "flag",
    ]
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
    at = app_as("researcher", "estimates", "Weighting")
    at.selectbox(key="estimates_indicator").set_value("16.5.1").run()
    assert not at.exception
    texts = _texts(at)
    assert any(
        "ASSUMED split of 2017 census district totals" in " ".join(d.value.astype(str).to_numpy().ravel())
        for d in at.dataframe
    )  # the plan's own words for its sources, shown as data
    assert "DEFAULT MARGINS — AN ASSUMPTION, NOT CENSUS COUNTS" in texts
    diagnostics = next(d.value for d in at.dataframe if "deff_w" in d.value.columns or "g_max" in d.value.columns)
    assert len(diagnostics) == 21
    at.session_state["estimates_tab"] = "Map"
    at.run()
    assert "District estimates on INEI's district limits." in _texts(at)
    chart = json.dumps(json.loads(at.get("vega_lite_chart")[0].proto.spec), ensure_ascii=False)
    assert "Víctor Larco Herrera" in chart and "estimate_text" in chart and "INEI" in chart
    at.segmented_control(key="estimates_map_kind").set_value("neighbourhood").run()
    assert "drawn as points at their approximate centre" in _texts(at)


def test_rounds_by_date_range_with_change_and_significance(demo_data, app_as):
    at = app_as("researcher", "estimates", "Rounds")
    rounds = next(d.value for d in at.dataframe if "estimate A" in d.value.columns)
    assert {
        "estimate A",
        "estimate B",
        "change",
        "change CI low",
        "change CI high",
        "p-value",
        "significance",
        "n A",
        "n B",
        "flag",
    } <= set(rounds.columns)
    assert "all surveyed areas" in rounds.index
    frame = data.submissions()
    overall = rounds.loc["all surveyed areas"]
    assert overall["n A"] + overall["n B"] <= len(frame)
    assert overall["change"] == pytest.approx(overall["estimate B"] - overall["estimate A"])
    assert overall["change CI low"] < overall["change"] < overall["change CI high"]
    assert set(rounds["significance"]) <= {
        "▲ significant increase",
        "▼ significant decrease",
        "no significant change",
        "not tested",
    }
    tested = rounds[rounds["significance"] != "not tested"]
    excludes_zero = (tested["change CI low"] > 0) | (tested["change CI high"] < 0)
    assert (excludes_zero == tested["significance"].str.contains("significant (?:increase|decrease)")).all()
    charts = [c for c in at.get("vega_lite_chart") if "yOffset" in c.proto.spec and "round" in c.proto.spec]
    assert charts, "no chart of the two rounds"


def test_overlapping_rounds_are_refused(demo_data, app_as):
    at = app_as("researcher", "estimates", "Rounds")
    days = data.interview_days()
    at.date_input(key="round_a_days").set_value((days.min(), days.max())).run()
    assert any("cannot be compared" in e.value and "share" in e.value for e in at.error)
    assert not [d for d in at.dataframe if "change" in d.value.columns]


def test_rounds_by_form_version_need_two_different_versions(demo_data, app_as):
    at = app_as("researcher", "estimates", "Rounds")
    at.radio(key="rounds_kind").set_value("version").run()
    versions = at.selectbox(key="round_a_version").options
    at.selectbox(key="round_b_version").set_value(at.selectbox(key="round_a_version").value).run()
    assert "Choose two different rounds to compare." in [i.value for i in at.info]
    assert not at.error and len(versions) >= 1


def test_rounds_follow_the_breakdown(demo_data, app_as):
    at = app_as("researcher", "estimates", "Rounds")
    at.segmented_control(key="estimates_breakdown").set_value("sex").run()
    rounds = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert set(rounds.index) == {"all surveyed areas", "female", "male"} and rounds.index.name == "sex"
    assert (rounds["change"] - (rounds["estimate B"] - rounds["estimate A"])).abs().max() < 1e-12
