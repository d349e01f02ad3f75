"""dashboard.data: results are cached per store version, recomputed when the store changes, warmed ahead."""

from analysis import pipeline
from dashboard import data


def test_results_are_cached_until_the_store_changes(demo_data, monkeypatch):
    runs = []
    real_run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda *args: runs.append(1) or real_run(*args))
    data.warm()
    assert len(runs) == 3  # every submission, and each of the Rounds tab's two default rounds
    first = data.estimates()
    assert data.estimates() is first and len(runs) == 3  # pages find the warmed result
    rounds = [("day", str(low), str(high)) for low, high in data.default_day_rounds()]
    comparison = data.round_comparison(*rounds)
    assert data.round_comparison(*rounds) is comparison and len(runs) == 3

    rejected = data.submissions()["instance_id"].iloc[0]
    data.store().set_review_state(rejected, "rejected", "test")
    data.changed()
    second = data.estimates()
    assert len(runs) == 4 and second is not first
    assert rejected not in set(data.submissions()["instance_id"])
    assert rejected in set(data.submissions(include_rejected=True)["instance_id"])


def test_interview_days_come_from_the_phone_not_the_upload(demo_data):
    days = data.interview_days(include_rejected=True)
    frame = data.submissions(include_rejected=True)
    assert len(days) == len(frame)
    assert days.nunique() > 10  # the demo round spans three weeks but was uploaded in one go
    assert frame["received_at"].dt.date.nunique() <= 2
