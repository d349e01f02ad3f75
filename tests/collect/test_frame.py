"""LiveFrame must always equal a fresh `Store.submissions_frame(include_rejected=True)`, whatever changed."""

import pandas as pd
import sqlalchemy as sa
from collect_samples import tiny_submission, tiny_xform
from pandas.testing import assert_frame_equal

from collect.frame import LiveFrame
from collect.store import ImportRecord


def same_as_a_fresh_read(live: LiveFrame) -> pd.DataFrame:
    frame = live.read()
    assert_frame_equal(frame, live.store.submissions_frame(live.form_id, include_rejected=True), check_dtype=False)
    return frame


def test_reads_only_what_it_has_not_seen_and_follows_every_change(store, monkeypatch):
    live = LiveFrame(store, "tiny")
    assert same_as_a_fresh_read(live).empty
    for n in range(1, 5):
        store.receive(tiny_submission(f"uuid:{n}", psu=f"B{n}"), volunteer="Ana")
    assert same_as_a_fresh_read(live)["psu"].tolist() == ["B1", "B2", "B3", "B4"]

    decoded = []
    original = store.submission_rows
    monkeypatch.setattr(
        store,
        "submission_rows",
        lambda form_id, pks=None, **kw: (
            decoded.append(None if pks is None else list(pks)) or original(form_id, pks, **kw)
        ),
    )
    store.receive(tiny_submission("uuid:5", psu="B5"))
    store.set_review_state("uuid:2", "rejected", "duplicate")
    store.receive(
        tiny_submission("uuid:6", psu="B33", deprecated_id="uuid:3"), volunteer="Ana"
    )  # an edit supersedes uuid:3
    frame = same_as_a_fresh_read(live)
    assert len(decoded[0]) == 2 and decoded[1:] == [None]  # the two new rows' answers, then the fresh read's
    assert frame["instance_id"].tolist() == ["uuid:1", "uuid:2", "uuid:4", "uuid:5", "uuid:6"]
    assert frame.set_index("instance_id").loc["uuid:2", "review_state"] == "rejected"

    store.set_review_state("uuid:2", "approved")  # nothing new: no answers decoded
    assert same_as_a_fresh_read(live).set_index("instance_id").loc["uuid:2", "review_state"] == "approved"
    assert decoded[2:] == [None]  # only the fresh read decoded answers


def test_a_new_form_version_and_imported_fields_appear_as_columns(store):
    live = LiveFrame(store, "tiny")
    store.receive(tiny_submission("uuid:1"))
    live.read()
    store.publish_form(tiny_xform("2026112802", extra_rows="| | integer | rating | Rating |\n"))
    store.import_records(
        [ImportRecord("uuid:k1", "tiny", "2026112802", {"psu": "B7", "rating": "4", "legacy": "x"}, "kobo", {}, row=2)]
    )
    frame = same_as_a_fresh_read(live)
    assert frame["rating"].tolist()[-1] == "4" and frame["legacy"].tolist()[-1] == "x"


def test_saved_rows_survive_a_restart_and_only_newer_rows_are_decoded(store, tmp_path, monkeypatch):
    saved = tmp_path / "cache" / "frame-tiny.parquet"
    for n in range(1, 5):
        store.receive(tiny_submission(f"uuid:{n}", psu=f"B{n}"), volunteer="Ana")
    live = LiveFrame(store, "tiny", saved)
    live.read()
    assert live.save() and not live.save()  # nothing new to write
    store.receive(tiny_submission("uuid:5"))
    store.set_review_state("uuid:1", "approved")

    decoded = []
    original = store.submission_rows
    monkeypatch.setattr(
        store,
        "submission_rows",
        lambda form_id, pks=None, **kw: (
            decoded.append(None if pks is None else list(pks)) or original(form_id, pks, **kw)
        ),
    )
    restarted = LiveFrame(store, "tiny", saved)
    frame = same_as_a_fresh_read(restarted)
    assert [len(pks) for pks in decoded[:-1] if pks] == [1]  # only uuid:5; the last call is the fresh read's
    assert frame.set_index("instance_id").loc["uuid:1", "review_state"] == "approved"
    assert not restarted.save(at_most_every=3600)  # behind by a row, but the file was just read: not yet
    assert restarted.save() and not restarted.save()


def test_a_saved_frame_of_another_store_or_a_store_gone_back_or_a_broken_file_is_not_used(store, engine, tmp_path):
    saved = tmp_path / "frame.parquet"
    store.receive(tiny_submission("uuid:1", psu="B1"))
    store.receive(tiny_submission("uuid:2", psu="B2"))
    live = LiveFrame(store, "tiny", saved)
    live.read()
    live.save()
    assert len(LiveFrame(store, "tiny", saved)._rows) == 2

    other = tmp_path / "other.db"
    from collect.store import Store

    elsewhere = Store.open(f"sqlite:///{other}")
    elsewhere.publish_form(tiny_xform())
    elsewhere.receive(tiny_submission("uuid:9", psu="B9"))
    assert same_as_a_fresh_read(LiveFrame(elsewhere, "tiny", saved))["instance_id"].tolist() == ["uuid:9"]

    with engine.begin() as conn:  # the store restored from an older backup: row keys may be reused
        conn.execute(sa.text("DELETE FROM submissions WHERE instance_id = 'uuid:2'"))
    assert store.version().last_submission == 1
    assert len(LiveFrame(store, "tiny", saved)._rows) == 0

    saved.write_bytes(b"not parquet")
    assert same_as_a_fresh_read(LiveFrame(store, "tiny", saved))["instance_id"].tolist() == ["uuid:1"]
