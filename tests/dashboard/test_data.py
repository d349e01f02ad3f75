"""dashboard.data: pages draw from snapshots computed once per store version, shown stale only while the warmer
computes a newer one, and kept up to date by it."""

import time

import pandas as pd
import streamlit as st

from analysis import pipeline
from dashboard import data


def count_runs(monkeypatch) -> list:
    runs = []
    real_run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda *args: runs.append(1) or real_run(*args))
    return runs


def reject_one() -> str:
    rejected = data.submissions()["instance_id"].iloc[0]
    data.store().set_review_state(rejected, "rejected", "test")
    data.changed()
    return rejected


def test_results_are_computed_once_per_store_version(demo_data, monkeypatch):
    runs = count_runs(monkeypatch)
    first = data.refresh()
    assert len(runs) == 3  # every submission, and each of the Rounds tab's two default rounds
    assert data.estimates() is first.estimates() and len(runs) == 3  # pages find the computed result
    rounds = [("day", str(low), str(high)) for low, high in data.default_day_rounds()]
    comparison = data.round_comparison(*rounds)
    assert data.round_comparison(*rounds) is comparison and len(runs) == 3

    rejected = reject_one()  # no warmer runs: the next page computes the new version on the spot
    assert data.shown() is not first and data.estimates() is not first.estimates() and len(runs) == 4
    assert rejected not in set(data.submissions()["instance_id"])
    assert rejected in set(data.submissions(include_rejected=True)["instance_id"])
    assert data.stale_by() is None


def test_while_the_warmer_computes_pages_show_the_last_ready_snapshot_and_say_so(busy_warmer):
    rejected = reject_one()
    assert data.shown() is busy_warmer  # no visitor waits for the new snapshot
    pinned, now = data.stale_by()
    assert pinned is busy_warmer and (now.reviews, busy_warmer.version.reviews) == (1, 0)
    assert rejected in set(data.submissions()["instance_id"])  # not yet counted, as the notice says
    newer = data.refresh()  # what the warmer does
    assert data.shown() is newer and data.stale_by() is None
    assert rejected not in set(data.submissions()["instance_id"])


def test_a_page_says_it_shows_an_older_snapshot_while_the_next_is_computed(busy_warmer, app_as):
    """The notice above the page while the warmer works (it once crashed the page: a tuple unpacked into `_`,
    gettext's name, in dashboard/freshness.py)."""
    reject_one()
    for language, words in (("es", "Datos a las"), ("en", "Showing the data as of")):
        at = app_as("coordinator", "estimates", language=language)
        assert not at.exception
        assert any(words in caption.value for caption in at.caption), [c.value for c in at.caption]


def test_the_warmer_follows_every_change_of_the_store(demo_data):
    data.keep_warm(every_seconds=0.05)
    assert data.keep_warm() is data.keep_warm()  # one warmer per process
    wait_for(lambda: data.shown().version == data.store().version())
    rejected = reject_one()
    wait_for(lambda: data.shown().version == data.store().version())
    assert rejected not in set(data.shown().submissions()["instance_id"])
    assert data.shown().estimates() is not None
    data.stop_warming()
    assert not data._snapshots().warming()


def test_a_restart_shows_the_snapshot_saved_once_the_store_was_quiet(demo_data, monkeypatch):
    first = data.refresh()
    snapshots = data._snapshots()
    assert not snapshots.save_when_quiet(first, quiet_seconds=3600)  # just seen: the field day may go on
    assert snapshots.save_when_quiet(first, quiet_seconds=0) and not snapshots.save_when_quiet(first, quiet_seconds=0)

    data.stop_warming()  # a new server process on the same data folder:
    st.cache_resource.clear()
    st.cache_data.clear()
    runs = count_runs(monkeypatch)
    restored = data.ready()
    assert restored.version == first.version and restored is not first
    assert data.shown() is restored and data.estimates() is restored.estimates() and runs == []
    pd.testing.assert_frame_equal(restored.estimates().estimates, first.estimates().estimates)


def wait_for(condition, seconds: float = 60) -> None:
    """Poll `condition` (the warmer works in the background); fail, not hang, if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the warmer did not catch up"
        time.sleep(0.05)


def test_interview_days_come_from_the_phone_not_the_upload(demo_data):
    days = data.interview_days(include_rejected=True)
    frame = data.submissions(include_rejected=True)
    assert len(days) == len(frame)
    assert days.nunique() > 10  # the demo round spans three weeks but was uploaded in one go
    assert frame["received_at"].dt.date.nunique() <= 2
