"""Field monitoring page, on the demo round (AppTest)."""

import json

import pandas as pd

from analysis import fieldwork
from dashboard import data
from forms.build import DATA_DIR


def _texts(at) -> str:
    return " ".join(
        str(e.value)
        for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader")
        for e in getattr(at, kind)
    )


def test_progress_per_neighbourhood_and_volunteer_with_targets(demo_data, app_as):
    at = app_as("coordinator", "monitoring")
    assert not at.exception
    assert "Synthetic data — demo round" in _texts(at)
    per_neighbourhood = at.dataframe[0].value
    assert set(per_neighbourhood["neighbourhood"]) == set(data.neighbourhoods()["label"])
    assert (per_neighbourhood["target"] == 100).all()
    frame = data.submissions(include_rejected=True)
    completed = frame[(frame["consent"] == "yes") & (pd.to_numeric(frame["age"]) >= 18)]
    assert per_neighbourhood["completed"].sum() == len(completed)
    volunteers = at.dataframe[2].value  # after the neighbourhood table and its targets editor
    assert set(volunteers["volunteer"]) == set(frame["volunteer"])


def test_edited_targets_are_stored(demo_data, app_as):
    at = app_as("coordinator", "monitoring")
    row = list(at.data_editor(key="targets_neighbourhood").value["neighbourhood"]).index("trujillo")
    at.session_state["targets_neighbourhood"] = {
        "edited_rows": {row: {"target": 7}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="save_targets_neighbourhood").click().run()
    assert not at.exception
    stored = data.targets().get("neighbourhood", [])
    assert stored.set_index("neighbourhood").loc["trujillo", "target"] == 7
    row = at.dataframe[0].value.set_index("neighbourhood").loc["Trujillo (cercado)"]
    assert row["target"] == 7 and row["progress"] == 1.0


def test_quality_flags_find_the_demo_speeder_and_say_what_each_flag_means(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Quality flags")
    assert "Volunteers against the team" in _texts(at)
    summary = next(d.value for d in at.dataframe if "flags" in d.value.columns)
    assert summary["flags"].str.contains("too fast").any()
    counts = next(d.value for d in at.dataframe if "why" in d.value.columns).set_index("check")
    assert counts.loc["too fast", "why"] == "a completed interview under 8 minutes"
    assert 0 < counts.loc["too fast", "submissions"] < 0.1 * len(data.submissions(include_rejected=True))


def test_map_shows_the_gps_points(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Map")
    assert any("have a GPS point" in c.value for c in at.caption)


def test_response_rates_tab_needs_visit_records(demo_data, app_as, monkeypatch):
    """A round without the visit section (questionnaire v1, an import) is told why there are no rates."""
    shown = data.submissions
    monkeypatch.setattr(
        data,
        "submissions",
        lambda include_rejected=False: shown(include_rejected).drop(
            columns=["block", "dwelling_number", "visit_number", "disposition"]
        ),
    )
    at = app_as("coordinator", "monitoring", "Response rates")
    assert not at.exception
    assert "no visit records" in _texts(at)


def test_response_rates_per_volunteer_from_visit_records(demo_data, app_as):
    """The demo round's own visit records (every visit a submission, revisits included): one row per volunteer,
    the dwellings visited and completed as analysis.fieldwork counts them from the stored submissions, against
    the 3,120 dwellings blocks.csv plans, and realistic rates."""
    at = app_as("coordinator", "monitoring", "Response rates")
    assert not at.exception
    table = at.dataframe[0].value
    frame = data.submissions(include_rejected=True)
    final = fieldwork.final_dispositions(frame)
    assert set(table["volunteer"]) == set(frame["volunteer"])
    assert table["visited"].sum() == len(final) and len(final) < len(frame)  # revisits are not new dwellings
    assert table["I"].sum() == (final["disposition"] == "complete").sum()
    assert (table["RR1"].between(0.3, 1)).all()
    whole = fieldwork.response_rates(final).iloc[0]
    assert 0.6 <= whole["RR1"] <= 0.75
    planned = pd.read_csv(DATA_DIR / "blocks.csv")["take"].sum()
    assert f"{len(final):,} dwellings visited of {planned:,} planned; RR1 {whole['RR1']:.0%}" in _texts(at)


def test_the_field_map_is_coloured_by_volunteer_or_flag_over_the_inei_districts(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Map")
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "El Porvenir" in json.dumps(chart)
    assert chart["layer"][1]["encoding"]["color"]["field"] == "volunteer"
    assert "mapbox" not in json.dumps(chart) and "tile" not in json.dumps(chart)
    at.segmented_control(key="monitoring_map_colour").set_value("flag").run()
    assert json.loads(at.get("vega_lite_chart")[0].proto.spec)["layer"][1]["encoding"]["color"]["field"] == "flag"
