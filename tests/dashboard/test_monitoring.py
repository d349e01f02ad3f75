"""Field monitoring page, on the demo round (AppTest)."""

import pandas as pd

from dashboard import data


def _texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader") for e in getattr(at, kind))


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
    at.session_state["targets_neighbourhood"] = {"edited_rows": {row: {"target": 7}}, "added_rows": [], "deleted_rows": []}
    at.button(key="save_targets_neighbourhood").click().run()
    assert not at.exception
    stored = data.targets().get("neighbourhood", [])
    assert stored.set_index("neighbourhood").loc["trujillo", "target"] == 7
    row = at.dataframe[0].value.set_index("neighbourhood").loc["Trujillo (cercado)"]
    assert row["target"] == 7 and row["progress"] == 1.0


def test_quality_flags_find_the_demo_speeder_and_duplicate(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Quality flags")
    assert "Volunteers against the team" in _texts(at)
    summary = next(d.value for d in at.dataframe if "flags" in d.value.columns)
    assert summary["flags"].str.contains("speeder").any()
    shown = next(d.value for d in at.dataframe if "issues" in d.value.columns)
    assert shown["issues"].str.contains("speeder").any()
    assert shown["issues"].str.contains("duplicate respondent").any()


def test_review_rejects_with_comment_and_the_estimates_frame_drops_it(demo_data, app_as):
    at = app_as("coordinator", "monitoring", "Review")
    instance = at.selectbox(key="review_instance").value
    at.radio[0].set_value("rejected")
    at.text_area[0].input("same household as another interview")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert f"{instance} marked rejected." in _texts(at)
    history = data.store().review_history(instance)
    assert history[["review_state", "comment", "reviewer"]].values.tolist() == [
        ["rejected", "same household as another interview", "the_coordinator"]]
    assert instance not in set(data.submissions()["instance_id"])
    assert instance in set(data.submissions(include_rejected=True)["instance_id"])


def test_a_review_shows_at_once_and_the_page_says_its_figures_are_being_updated(busy_warmer, app_as):
    at = app_as("coordinator", "monitoring", "Review")
    assert "being added" not in _texts(at)
    instance = at.selectbox(key="review_instance").value
    at.radio[0].set_value("rejected")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert "Showing the data as of" in _texts(at) and "1 review decision since then are being added" in _texts(at)
    assert "now **rejected**" in _texts(at)  # the decision itself, read from the store, not from the snapshot
    assert instance in set(data.submissions()["instance_id"])  # the figures wait for the warmer


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
        return frame.assign(block=frame["psu"], dwelling_number=(k + 1).astype(str), visit_number="1",
                            disposition=k.mod(4).map(lambda r: "refused" if r == 0 else "complete"))

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
