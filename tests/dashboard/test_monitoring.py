"""Field monitoring page, on the demo round (AppTest)."""

import pandas as pd

from analysis import fieldwork
from dashboard import data
from forms.build import DATA_DIR


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


def test_response_rates_tab_needs_visit_records(demo_data, app_as, monkeypatch):
    """A round without the visit section (questionnaire v1, an import) is told why there are no rates."""
    shown = data.submissions
    monkeypatch.setattr(data, "submissions", lambda include_rejected=False: shown(include_rejected).drop(
        columns=["block", "dwelling_number", "visit_number", "disposition"]))
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
