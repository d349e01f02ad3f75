"""File exports as KoboToolbox and ODK Central write them ("XML values and headers"), built from their documented
layouts: Kobo — `;`-separated, groups joined by `/`, select_multiple as one column plus one 0/1 column per
choice, `_uuid`/`_submission_time`/`_validation_status` metadata, `<field>_URL` for media; Central — `,`-separated,
groups joined by `-`, `meta-instanceID`, `KEY`, `SubmissionDate`, `ReviewState`, `FormVersion`."""

import pandas as pd
import pytest
import sqlalchemy as sa

from collect import tables
from collect.errors import ImportRowError, NotFound
from collect.importers.file import import_file

KOBO_CSV = (
    "deviceid;household/psu;household/age;household/main_problems;household/main_problems/robbery;household/main_problems/gangs;photo;photo_URL;"
    "meta/instanceID;_id;_uuid;_submission_time;_validation_status;_notes;_status;_submitted_by;__version__;_tags;_index\n"
    "collect:AAA;B01;34;robbery gangs;1;1;1.jpg;https://kf.example.org/1.jpg;uuid:k1;101;k1;2026-11-20T14:02:11;Approved;;submitted_via_web;ana;vXyz;;1\n"
    "collect:BBB;007;51;;0;0;;;uuid:k2;102;k2;2026-11-21T09:00:00;;;submitted_via_web;luis;vXyz;;2\n"
)

CENTRAL_CSV = (
    "SubmissionDate,deviceid,household-psu,household-age,household-main_problems,photo,meta-instanceID,KEY,SubmitterID,SubmitterName,"
    "AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion\n"
    "2026-11-20T14:02:11.123Z,collect:AAA,B01,34,gangs,,uuid:c1,uuid:c1,5,ana,0,0,,hasIssues,collect:AAA,0,2026112801\n"
    "2026-11-20T15:00:00.000Z,collect:AAA,B02,40,,,uuid:c2,uuid:c2,5,ana,0,0,,,collect:AAA,0,2026112801\n"
)


def stored(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.submissions)).scalar_one()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_kobo_csv_maps_fields_metadata_and_is_idempotent(store, tmp_path):
    path = write(tmp_path, "kobo.csv", KOBO_CSV)
    progress = []
    result = import_file(store, path, "tiny", progress=lambda done, total: progress.append((done, total)))
    assert (result.summary.added, result.ignored_columns, progress) == (2, ["photo_URL"], [(1, 2), (2, 2)])
    frame = store.submissions_frame("tiny", include_rejected=True).set_index("instance_id")
    assert frame.loc["uuid:k1", ["psu", "age", "main_problems", "photo", "volunteer", "device_id", "review_state", "source"]].tolist() == [
        "B01", "34", "robbery gangs", "1.jpg", "ana", "collect:AAA", "approved", "file"
    ]
    assert frame.loc["uuid:k2", "psu"] == "007" and pd.isna(frame.loc["uuid:k2", "main_problems"])
    assert frame.loc["uuid:k1", "received_at"] == pd.Timestamp("2026-11-20T14:02:11", tz="UTC")
    again = import_file(store, path, "tiny")
    assert (again.summary.added, again.summary.unchanged, stored(store)) == (0, 2, 2)


def test_central_csv_with_dash_separated_groups(store, tmp_path):
    result = import_file(store, write(tmp_path, "central.csv", CENTRAL_CSV), "tiny")
    assert result.summary.added == 2 and result.ignored_columns == []
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:c1", ["psu", "main_problems", "review_state", "form_version"]].tolist() == ["B01", "gangs", "has_issues", "2026112801"]
    assert frame.loc["uuid:c2", "review_state"] == "received"


def test_xlsx_with_one_column_per_choice_only(store, tmp_path):
    path = tmp_path / "kobo.xlsx"
    pd.DataFrame(
        {"household/psu": ["B05"], "household/main_problems/robbery": ["0"], "household/main_problems/gangs": ["1"], "_uuid": ["x1"], "_submission_time": ["2026-11-22T10:00:00"]}
    ).to_excel(path, index=False)
    assert import_file(store, path, "tiny").summary.added == 1
    frame = store.submissions_frame("tiny")
    assert frame[["instance_id", "psu", "main_problems"]].values.tolist() == [["uuid:x1", "B05", "gangs"]]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("collect:C;B03;thirty;;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;;;;ana;v;;3", "row 3: age must be a whole number, got 'thirty'"),
        ("collect:C;B03;30;fires;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;;;;ana;v;;3", "row 3: main_problems has 'fires', not a choice name"),
        ("collect:C;B03;30;;0;0;;;;103;;2026-11-22T09:00:00;;;;ana;v;;3", "row 3: no instance ID"),
        ("collect:C;B03;30;;0;0;;;uuid:k3;103;k3;yesterday;;;;ana;v;;3", "row 3: submission time 'yesterday'"),
        ("collect:C;B03;30;;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;Maybe;;;ana;v;;3", "row 3: review state 'Maybe'"),
        ("collect:C;B99;30;;0;0;;;uuid:k1;103;k1;2026-11-22T09:00:00;;;;ana;v;;3", "row 3: instanceID 'uuid:k1' is already stored with different values"),
    ],
    ids=["not-a-number", "not-a-choice", "no-instance-id", "bad-time", "bad-review", "same-id-other-values"],
)
def test_a_bad_row_imports_nothing_and_names_row_and_reason(store, tmp_path, bad_row, message):
    header, first, _second = KOBO_CSV.splitlines()
    path = write(tmp_path, "bad.csv", "\n".join([header, first, bad_row]) + "\n")
    with pytest.raises(ImportRowError, match=message):
        import_file(store, path, "tiny")
    assert stored(store) == 0


def test_unreadable_file_and_unknown_form(store, tmp_path):
    with pytest.raises(ImportRowError, match="only .csv and .xlsx"):
        import_file(store, write(tmp_path, "data.json", "{}"), "tiny")
    with pytest.raises(ImportRowError, match="cannot be read as XLSX"):
        import_file(store, write(tmp_path, "broken.xlsx", "not a zip"), "tiny")
    with pytest.raises(NotFound, match="'ghost'"):
        import_file(store, write(tmp_path, "kobo.csv", KOBO_CSV), "ghost")
