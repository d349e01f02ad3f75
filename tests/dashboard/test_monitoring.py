"""Field monitoring page, on the demo round (AppTest)."""

import json

import pandas as pd

from dashboard import data


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


def test_response_rates_tab_needs_visit_records(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Response rates")
    assert not at.exception
    assert "no visit records" in _texts(at)


def test_response_rates_per_volunteer_from_visit_records(demo_data, app_as, monkeypatch):
    """The demo round (v1 form) given a visit section: every 4th dwelling refused, the rest completed."""
    shown = data.submissions

    def with_visits(include_rejected=False):
        frame = shown(include_rejected)
        k = pd.Series(range(len(frame)), index=frame.index)
        return frame.assign(
            block=frame["psu"],
            dwelling_number=(k + 1).astype(str),
            visit_number="1",
            disposition=k.mod(4).map(lambda r: "refused" if r == 0 else "complete"),
        )

    monkeypatch.setattr(data, "submissions", with_visits)
    at = app_as("coordinator", "monitoring", "Response rates")
    assert not at.exception
    table = at.dataframe[0].value
    frame = with_visits(include_rejected=True)
    assert set(table["volunteer"]) == set(frame["volunteer"])
    visited = frame[frame["review_state"] != "rejected"]
    assert table["visited"].sum() == len(visited)
    assert table["I"].sum() == (visited["disposition"] == "complete").sum()
    assert "RR1" in _texts(at)


def test_the_field_map_is_coloured_by_volunteer_or_flag_over_the_inei_districts(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Map")
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "El Porvenir" in json.dumps(chart)
    assert chart["layer"][1]["encoding"]["color"]["field"] == "volunteer"
    assert "mapbox" not in json.dumps(chart) and "tile" not in json.dumps(chart)
    at.segmented_control(key="monitoring_map_colour").set_value("flag").run()
    assert json.loads(at.get("vega_lite_chart")[0].proto.spec)["layer"][1]["encoding"]["color"]["field"] == "flag"
