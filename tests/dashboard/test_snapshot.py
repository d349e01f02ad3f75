"""dashboard.snapshot: one store version's data and results, each part computed once, saved for the next start."""

import dataclasses
import json
import os
import pickle
import threading
import zipfile

import pandas as pd
import pytest

from analysis import pipeline
from dashboard import data, snapshot
from dashboard.snapshot import Snapshot


@pytest.fixture
def taken(demo_data) -> Snapshot:
    return Snapshot(
        data.store().version(),
        data.store().submissions_frame(data.FORM_ID, include_rejected=True),
        data.plan(),
        data.neighbourhoods(),
    )


def test_each_part_is_computed_once_even_when_asked_at_the_same_time(taken, monkeypatch):
    runs = []
    real_run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda *args: runs.append(1) or real_run(*args))
    results = []
    askers = [threading.Thread(target=lambda: results.append(taken.estimates())) for _ in range(4)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(runs) == 1 and all(result is results[0] for result in results)
    assert isinstance(results[0], pipeline.Result)


def test_rejected_submissions_leave_the_estimates_but_not_the_field_checks(demo_data):
    store = data.store()
    rejected = store.submissions_frame(data.FORM_ID)["instance_id"].iloc[5]
    store.set_review_state(rejected, "rejected", "test")
    taken = Snapshot(
        store.version(),
        store.submissions_frame(data.FORM_ID, include_rejected=True),
        data.plan(),
        data.neighbourhoods(),
    )
    every, current = taken.submissions(include_rejected=True), taken.submissions()
    assert len(current) == len(every) - 1 and rejected not in set(current["instance_id"])
    assert rejected in set(taken.quality_checks()["instance_id"]) and len(taken.gps_points()) == len(every)
    assert len(taken.interview_days()) == len(current)
    assert taken.estimates().analysis_data.shape[0] <= len(current)


def test_a_saved_snapshot_comes_back_with_its_results_but_not_for_another_store_code_or_plan(
    taken, tmp_path, monkeypatch
):
    path = tmp_path / "snapshot.zip"
    taken.warm()
    taken.warm_rounds()
    taken.save(path, "store-a")
    back = Snapshot.load(path, "store-a", data.plan(), data.neighbourhoods())
    assert back.version == taken.version and back.taken_at == taken.taken_at
    pd.testing.assert_frame_equal(back.estimates().estimates, taken.estimates().estimates)
    pd.testing.assert_frame_equal(back.quality_checks(), taken.quality_checks())
    assert not [key for key in back._parts if isinstance(key, tuple) and key[0] in ("round", "comparison")]

    assert Snapshot.load(path, "store-b", data.plan(), data.neighbourhoods()) is None
    other_plan = dataclasses.replace(data.plan(), title="another plan")
    assert Snapshot.load(path, "store-a", other_plan, data.neighbourhoods()) is None
    monkeypatch.setattr(snapshot, "CODE", "an upgraded analysis")
    assert Snapshot.load(path, "store-a", data.plan(), data.neighbourhoods()) is None
    path.write_bytes(b"not a zip")
    assert Snapshot.load(path, "store-a", data.plan(), data.neighbourhoods()) is None
    assert Snapshot.load(tmp_path / "missing.zip", "store-a", data.plan(), data.neighbourhoods()) is None


def test_the_saved_snapshot_is_parquet_and_json_never_a_pickle_and_private(taken, tmp_path):
    path = tmp_path / "cache" / "snapshot.zip"
    taken.warm()
    taken.save(path, "store-a")
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        json.loads(archive.read(snapshot.MANIFEST))
    assert set(names) - {snapshot.MANIFEST} and all(
        name.endswith(".parquet") for name in names if name != snapshot.MANIFEST
    )
    back = Snapshot.load(path, "store-a", data.plan(), data.neighbourhoods())
    saved, loaded = taken.estimates(), back.estimates()
    for name in ("diagnostics", "recode_log", "analysis_data"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(saved, name))
    assert (loaded.eligible == saved.eligible).all() and loaded.warnings == saved.warnings
    pd.testing.assert_frame_equal(loaded.microdata, saved.microdata)
    pd.testing.assert_series_equal(back.interview_days(), taken.interview_days())


def test_a_planted_pickle_is_never_unpickled(demo_data, tmp_path):
    """A file put where the snapshot is kept (a pickle that runs a command when loaded) is only ignored."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "snapshot.zip"
    path.write_bytes(pickle.dumps(Payload()))
    assert Snapshot.load(path, data.store().identity(), data.plan(), data.neighbourhoods()) is None
    assert not marker.exists()
