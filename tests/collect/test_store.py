import pandas as pd
import pytest
import sqlalchemy as sa
from collect_samples import tiny_submission, tiny_xform

from collect import tables
from collect.database import migrate
from collect.errors import Conflict, ImportRowError, InvalidSubmission, NotFound, UnknownForm
from collect.store import FRAME_COLUMNS, Attachment, ImportRecord, Store, md5_hex


def count(store: Store, table=tables.submissions) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_opening_migrates_to_head(engine):
    Store(engine)
    Store(engine)  # a second open finds the schema at head and changes nothing
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        assert set(sa.inspect(conn).get_table_names()) >= {
            "forms",
            "form_media",
            "submissions",
            "attachments",
            "volunteers",
            "settings",
            "review_events",
            "dashboard_users",
            "dashboard_targets",
            "dashboard_sessions",
        }
        covering = {index["name"]: index["column_names"] for index in sa.inspect(conn).get_indexes("submissions")}
        assert covering["ix_submissions_form_current"] == ["form_id", "superseded", "review_state", "id"]


def test_an_existing_store_is_upgraded_in_place_keeping_its_data(engine):
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO submissions (instance_id, form_id, form_version, xml, fields, superseded, complete, received_at, source, review_state) "
                "VALUES ('uuid:old', 'tiny', '2026112801', :xml, '{\"psu\": \"B1\"}', false, true, '2026-11-01 10:00:00', 'openrosa', 'received')"
            ),
            {"xml": b"<data/>"},
        )
        assert "review_events" not in sa.inspect(conn).get_table_names()
    store = Store(engine)
    assert store.submission_xml("uuid:old") == b"<data/>"
    assert store.submissions_frame("tiny")["psu"].tolist() == ["B1"]
    store.set_review_state("uuid:old", "approved", reviewer="coordinator")
    assert store.review_history("uuid:old")["reviewer"].tolist() == ["coordinator"]


def test_publish_is_idempotent_and_keeps_every_version(store):
    again = store.publish_form(
        tiny_xform(), xlsform=b"xlsx bytes", media={"neighbourhoods.csv": b"name,label\nn1,One\n"}
    )
    assert (again.form_id, again.version, again.title) == ("tiny", "2026112801", "Tiny form")
    assert again.xform_md5 == md5_hex(tiny_xform())
    store.publish_form(tiny_xform("2026112802"))
    assert [(f.form_id, f.version) for f in store.latest_forms()] == [("tiny", "2026112802")]
    assert [f.version for f in store.form_versions()] == ["2026112801", "2026112802"]
    assert store.form_xml("tiny", "2026112801") == tiny_xform()
    assert store.form_xlsform("tiny", "2026112801") == b"xlsx bytes"
    assert store.media_file("tiny", "2026112801", "neighbourhoods.csv") == b"name,label\nn1,One\n"


@pytest.mark.parametrize(
    "xform, message",
    [
        (b"<h:html", "cannot be parsed"),
        (b"<data id='x'/>", r"no primary instance \(h:head/model/instance\)"),
        (tiny_xform().replace(b' id="tiny"', b""), "primary instance <data> has no id attribute"),
    ],
)
def test_publishing_what_is_not_an_xform_says_why(store, xform, message):
    with pytest.raises(InvalidSubmission, match=message):
        store.publish_form(xform)


def test_republishing_a_version_with_other_content_is_refused(store):
    with pytest.raises(Conflict, match="already published with different content"):
        store.publish_form(tiny_xform().replace(b"Tiny form", b"Renamed"))
    with pytest.raises(Conflict):
        store.publish_form(tiny_xform(), xlsform=b"xlsx bytes", media={"neighbourhoods.csv": b"changed"})


def test_unknown_form_and_media_are_not_found(store):
    with pytest.raises(NotFound, match="'nope'"):
        store.form_xml("nope")
    with pytest.raises(NotFound, match="no media file 'x.csv'"):
        store.media_file("tiny", None, "x.csv")


def test_receive_keeps_raw_xml_and_attachments(store):
    xml = tiny_submission()
    receipt = store.receive(xml, [Attachment("1700000000.jpg", b"\xff\xd8jpeg", "image/jpeg")], volunteer="Ana")
    assert receipt.outcome == "created"
    assert store.submission_xml("uuid:0001") == xml
    assert store.attachments("uuid:0001") == [Attachment("1700000000.jpg", b"\xff\xd8jpeg", "image/jpeg")]


def test_identical_resend_is_a_duplicate_and_different_content_a_conflict(store):
    store.receive(tiny_submission())
    assert store.receive(tiny_submission()).outcome == "duplicate"
    with pytest.raises(Conflict, match="uuid:0001"):
        store.receive(tiny_submission(psu="B13"))
    assert count(store) == 1
    assert store.submission_xml("uuid:0001") == tiny_submission()


def test_split_upload_assembles_attachments(store):
    store.receive(tiny_submission(), [Attachment("a.jpg", b"a")], complete=False)
    assert not store.submission_index()["complete"].iloc[0]
    store.receive(tiny_submission(), [Attachment("a.jpg", b"a"), Attachment("b.jpg", b"b")], complete=True)
    assert [a.filename for a in store.attachments("uuid:0001")] == ["a.jpg", "b.jpg"]
    assert store.submission_index()["complete"].iloc[0]
    with pytest.raises(Conflict, match="'b.jpg'"):
        store.receive(tiny_submission(), [Attachment("b.jpg", b"other")])


def test_edit_supersedes_the_old_version_which_stays_stored(store):
    store.receive(tiny_submission("uuid:v1"))
    receipt = store.receive(tiny_submission("uuid:v2", psu="B99", deprecated_id="uuid:v1"))
    assert receipt.superseded == "uuid:v1"
    frame = store.submissions_frame("tiny")
    assert frame["instance_id"].tolist() == ["uuid:v2"] and frame["psu"].tolist() == ["B99"]
    index = store.submission_index().set_index("instance_id")
    assert index.loc["uuid:v1", "superseded"] and index.loc["uuid:v1", "superseded_by"] == "uuid:v2"
    assert store.submission_xml("uuid:v1") == tiny_submission("uuid:v1")
    with pytest.raises(Conflict, match="already replaced by edit 'uuid:v2'"):
        store.receive(tiny_submission("uuid:v3", deprecated_id="uuid:v1"))


def test_edit_arriving_before_its_original_still_wins(store):
    store.receive(tiny_submission("uuid:v2", psu="B99", deprecated_id="uuid:v1"))
    store.receive(tiny_submission("uuid:v1"))
    assert store.submissions_frame("tiny")["instance_id"].tolist() == ["uuid:v2"]


def test_unknown_form_or_version_is_refused_and_nothing_stored(store):
    with pytest.raises(UnknownForm, match="form 'other' is not published"):
        store.receive(tiny_submission().replace(b'id="tiny"', b'id="other"'))
    with pytest.raises(UnknownForm, match="no version '1999010101'"):
        store.receive(tiny_submission(version="1999010101"))
    assert count(store) == 0


def test_late_phone_on_an_old_version_still_lands(store):
    store.publish_form(tiny_xform("2026112802"))
    assert store.receive(tiny_submission(version="2026112801")).outcome == "created"


def test_submissions_frame_contract(store):
    store.receive(tiny_submission("uuid:1"), volunteer="Ana")
    store.receive(tiny_submission("uuid:2").replace(b"<age>34</age>", b"<age/>"), volunteer="Luis")
    store.receive(tiny_submission("uuid:3"), volunteer="Luis")
    store.set_review_state("uuid:3", "rejected", "duplicate interview")
    frame = store.submissions_frame("tiny")
    assert list(frame.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert set(frame.columns[len(FRAME_COLUMNS) :]) == {"deviceid", "psu", "age", "main_problems", "photo"}
    assert frame["instance_id"].tolist() == ["uuid:1", "uuid:2"]
    assert frame["volunteer"].tolist() == ["Ana", "Luis"]
    assert frame["device_id"].tolist() == ["collect:abc123"] * 2
    assert frame["source"].tolist() == ["openrosa"] * 2
    assert frame["main_problems"].iloc[0] == "robbery gangs"
    assert frame["age"].iloc[0] == "34" and pd.isna(frame["age"].iloc[1])
    assert str(frame["received_at"].dt.tz) == "UTC"
    with_rejected = store.submissions_frame("tiny", include_rejected=True)
    assert with_rejected.set_index("instance_id").loc["uuid:3", "review_state"] == "rejected"


def test_every_field_is_a_column_even_unanswered_and_across_versions_but_not_notes(store):
    frame = store.submissions_frame("tiny")
    assert frame.empty and list(frame.columns) == FRAME_COLUMNS + ["deviceid", "psu", "age", "main_problems", "photo"]
    store.publish_form(tiny_xform("2026112802", extra_rows="| | integer | rating | Rating |\n"))
    store.receive(tiny_submission())
    frame = store.submissions_frame("tiny")
    assert list(frame.columns[len(FRAME_COLUMNS) :]) == ["deviceid", "psu", "age", "main_problems", "photo", "rating"]
    assert pd.isna(frame["rating"].iloc[0])


def test_review_states_and_their_history(store):
    store.receive(tiny_submission())
    store.set_review_state("uuid:0001", "has_issues", "age looks wrong", reviewer="Rosa")
    store.set_review_state("uuid:0001", "approved", "checked with the volunteer", reviewer="Rosa")
    row = store.submission_index().iloc[0]
    assert (row["review_state"], row["review_comment"], row["reviewed_by"]) == (
        "approved",
        "checked with the volunteer",
        "Rosa",
    )
    history = store.review_history("uuid:0001")
    assert history[["review_state", "comment"]].values.tolist() == [
        ["has_issues", "age looks wrong"],
        ["approved", "checked with the volunteer"],
    ]
    assert str(history["at"].dt.tz) == "UTC"
    with pytest.raises(ValueError, match="'bogus'"):
        store.set_review_state("uuid:0001", "bogus")
    with pytest.raises(NotFound):
        store.set_review_state("uuid:missing", "approved")


def test_status_counts_per_form_version(store):
    store.publish_form(tiny_xform("2026112802"))
    store.receive(tiny_submission("uuid:1"))
    store.receive(tiny_submission("uuid:2", deprecated_id="uuid:1"))
    store.receive(tiny_submission("uuid:3"))
    store.receive(tiny_submission("uuid:4", version="2026112802"))
    store.set_review_state("uuid:3", "approved")
    status = store.status().set_index("form_version")
    assert status.loc[
        "2026112801", ["stored", "superseded", "received", "approved", "has_issues", "rejected"]
    ].tolist() == [3, 1, 1, 1, 0, 0]
    assert status.loc["2026112802", "stored"] == 1
    assert status["last_received"].notna().all()


def test_version_changes_with_every_write_the_analysis_frame_can_see(store):
    versions = [store.version()]
    assert versions[0].submissions == 0 and versions[0].last_form > 0
    store.receive(tiny_submission("uuid:1"))
    versions.append(store.version())
    store.receive(tiny_submission("uuid:1"))  # a duplicate: nothing the frame shows changes
    assert store.version() == versions[-1]
    store.receive(tiny_submission("uuid:2", deprecated_id="uuid:1"))  # an edit
    versions.append(store.version())
    store.set_review_state("uuid:2", "rejected")
    versions.append(store.version())
    store.publish_form(tiny_xform("2026112802"))
    versions.append(store.version())
    store.import_records([record("uuid:9", 1)])
    versions.append(store.version())
    assert len(set(versions)) == len(versions)
    assert versions[-1].submissions == 3 and versions[-1].reviews == 1


def test_targets_are_replaced_per_kind(store):
    assert store.targets("neighbourhood") == {}
    store.replace_targets("neighbourhood", {"n01": 100, "n02": 80})
    store.replace_targets("volunteer", {"Ana Torres": 40})
    store.replace_targets("neighbourhood", {"n02": 90})
    assert store.targets("neighbourhood") == {"n02": 90}
    assert store.targets("volunteer") == {"Ana Torres": 40}
    store.replace_targets("volunteer", {})
    assert store.targets("volunteer") == {}


def record(instance_id: str, row: int, psu: str = "B1", **overrides) -> ImportRecord:
    values = dict(
        instance_id=instance_id,
        form_id="tiny",
        form_version="2026112801",
        fields={"psu": psu},
        source="file",
        source_record={"psu": psu},
        row=row,
    )
    return ImportRecord(**(values | overrides))


def test_import_is_transactional_and_idempotent(store):
    progress = []
    summary = store.import_records([record("uuid:a", 2), record("uuid:b", 3)], progress=progress.append)
    assert (summary.added, summary.unchanged, progress) == (2, 0, [1, 2])
    again = store.import_records([record("uuid:a", 2), record("uuid:b", 3)])
    assert (again.added, again.unchanged) == (0, 2)
    with pytest.raises(ImportRowError, match="row 4: instanceID 'uuid:b' is already stored with different values"):
        store.import_records([record("uuid:c", 3), record("uuid:b", 4, psu="other")])
    with pytest.raises(ImportRowError, match="row 2: review state 'weird'"):
        store.import_records([record("uuid:d", 2, review_state="weird")])
    assert count(store) == 2
    assert store.submissions_frame("tiny")["source"].tolist() == ["file", "file"]


def test_reading_a_setting_never_creates_it(store):
    assert store.get_setting("demo_round") is None
    assert count(store, tables.settings) == 0  # unlike `setting`, the read added no row
    assert store.setting("demo_round", lambda: "first") == "first"
    assert store.setting("demo_round", lambda: "second") == "first"  # created once, then kept
    assert store.get_setting("demo_round") == "first" and store.get_setting("other") is None
    assert count(store, tables.settings) == 1
