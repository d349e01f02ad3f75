"""File exports as KoboToolbox and ODK Central write them ("XML values and headers"), built from their exporters:
Kobo (kobotoolbox/formpack, `src/formpack/export.py` and `schema/fields.py`) — `;`-separated, groups joined by
the chosen separator (`/` by default), select_multiple as one column plus one 0/1 column per choice,
`_uuid`/`_submission_time`/`_validation_status` (its label)/`__version__` metadata, `<field>_URL` for media, typed
cells in XLSX; Central (getodk/central-backend, `lib/data/briefcase.js`, and the column list its tests assert:
`SubmissionDate, meta-instanceID, …, KEY, SubmitterID, SubmitterName, AttachmentsPresent, AttachmentsExpected,
Status, ReviewState, DeviceID, Edits, FormVersion`) — `,`-separated, groups joined by `-`, geopoints as
`-Latitude/-Longitude/-Altitude/-Accuracy`, `KEY` the submission's first instanceID, repeats in
`{form}-{repeat}.csv` with `PARENT_KEY`/`KEY` inside the `.csv.zip`, media under `media/`."""

import pandas as pd
import pytest
import sqlalchemy as sa
from collect_samples import tiny_xform

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
    assert frame.loc[
        "uuid:k1", ["psu", "age", "main_problems", "photo", "volunteer", "device_id", "review_state", "source"]
    ].tolist() == ["B01", "34", "robbery gangs", "1.jpg", "ana", "collect:AAA", "approved", "file"]
    assert frame.loc["uuid:k2", "psu"] == "007" and pd.isna(frame.loc["uuid:k2", "main_problems"])
    assert frame.loc["uuid:k1", "received_at"] == pd.Timestamp("2026-11-20T14:02:11", tz="UTC")
    again = import_file(store, path, "tiny")
    assert (again.summary.added, again.summary.unchanged, stored(store)) == (0, 2, 2)


def test_central_csv_with_dash_separated_groups(store, tmp_path):
    result = import_file(store, write(tmp_path, "central.csv", CENTRAL_CSV), "tiny")
    assert result.summary.added == 2 and result.ignored_columns == []
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:c1", ["psu", "main_problems", "review_state", "form_version"]].tolist() == [
        "B01",
        "gangs",
        "has_issues",
        "2026112801",
    ]
    assert frame.loc["uuid:c2", "review_state"] == "received"


def test_xlsx_with_one_column_per_choice_only(store, tmp_path):
    path = tmp_path / "kobo.xlsx"
    pd.DataFrame(
        {
            "household/psu": ["B05"],
            "household/main_problems/robbery": ["0"],
            "household/main_problems/gangs": ["1"],
            "_uuid": ["x1"],
            "_submission_time": ["2026-11-22T10:00:00"],
        }
    ).to_excel(path, index=False)
    assert import_file(store, path, "tiny").summary.added == 1
    frame = store.submissions_frame("tiny")
    assert frame[["instance_id", "psu", "main_problems"]].values.tolist() == [["uuid:x1", "B05", "gangs"]]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "collect:C;B03;thirty;;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;;;;ana;vXyz;;3",
            "row 3: age must be a whole number, got 'thirty'",
        ),
        (
            "collect:C;B03;30;fires;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;;;;ana;vXyz;;3",
            "row 3: main_problems has 'fires', not a choice name",
        ),
        ("collect:C;B03;30;;0;0;;;;103;;2026-11-22T09:00:00;;;;ana;vXyz;;3", "row 3: no instance ID"),
        ("collect:C;B03;30;;0;0;;;uuid:k3;103;k3;yesterday;;;;ana;vXyz;;3", "row 3: submission time 'yesterday'"),
        (
            "collect:C;B03;30;;0;0;;;uuid:k3;103;k3;2026-11-22T09:00:00;Maybe;;;ana;vXyz;;3",
            "row 3: review state 'Maybe'",
        ),
        (
            "collect:C;B99;30;;0;0;;;uuid:k1;103;k1;2026-11-22T09:00:00;;;;ana;vXyz;;3",
            "row 3: instanceID 'uuid:k1' is already stored with different values",
        ),
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
    with pytest.raises(ImportRowError, match="only .csv, .xlsx and ODK Central"):
        import_file(store, write(tmp_path, "data.json", "{}"), "tiny")
    with pytest.raises(ImportRowError, match="cannot be read as XLSX"):
        import_file(store, write(tmp_path, "broken.xlsx", "not a zip"), "tiny")
    with pytest.raises(NotFound, match="'ghost'"):
        import_file(store, write(tmp_path, "kobo.csv", KOBO_CSV), "ghost")


# A version of the tiny form with a geopoint, a date and a repeat group, as Central and Kobo lay them out.
RICH_VERSION = "2026120101"
RICH_ROWS = (
    "| | geopoint | gps | Location |\n| | today | today | |\n| | start | start | |\n"
    "| | begin repeat | visits | Visits |\n| | text | visitor | Visitor |\n| | end repeat | | |\n"
)
# Central's CSV header, as lib/data/briefcase.js writes it: SubmissionDate first, groups joined by "-", a geopoint
# as four columns, repeats left out of the main table, then KEY and Central's metadata.
CENTRAL_RICH_HEADER = (
    "SubmissionDate,deviceid,household-psu,household-age,household-main_problems,photo,gps-Latitude,gps-Longitude,gps-Altitude,gps-Accuracy,"
    "today,start,meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"
)


def central_row(
    n: int, instance: str | None = None, review: str = "", edits: int = 0, psu: str | None = None, photo: str = ""
) -> str:
    lat = "" if n == 3 else f"-8.1{n}"  # a skipped geopoint leaves all four columns empty
    lon, alt, acc = ("", "", "") if n == 3 else ("-79.02", "35.2", "4.5")
    return (
        f"2026-11-2{n}T14:02:11.123Z,collect:AAA,{psu or f'B0{n}'},3{n},gangs,{photo},{lat},{lon},{alt},{acc},2026-11-2{n},2026-11-2{n}T09:00:00.000-05:00,"
        f"{instance or f'uuid:c{n}'},uuid:c{n},5,ana,{1 if photo else 0},{1 if photo else 0},,{review},collect:AAA,{edits},{RICH_VERSION}"
    )


@pytest.fixture
def rich_store(store):
    store.publish_form(tiny_xform(RICH_VERSION, RICH_ROWS))
    return store


def test_central_csv_geopoints_come_back_whole(rich_store, tmp_path):
    text = "\n".join([CENTRAL_RICH_HEADER, *(central_row(n) for n in (1, 2, 3))]) + "\n"
    result = import_file(rich_store, write(tmp_path, "tiny.csv", text), "tiny")
    assert result.summary.added == 3 and result.ignored_columns == []
    gps = rich_store.submissions_frame("tiny").set_index("instance_id")["gps"]
    assert (
        gps["uuid:c1"] == "-8.11 -79.02 35.2 4.5"
        and gps["uuid:c2"] == "-8.12 -79.02 35.2 4.5"
        and pd.isna(gps["uuid:c3"])
    )


def test_central_reimport_after_an_edit_and_a_review_gives_one_submission_each(rich_store, tmp_path):
    first = "\n".join([CENTRAL_RICH_HEADER, central_row(1), central_row(2)]) + "\n"
    import_file(rich_store, write(tmp_path, "first.csv", first), "tiny")
    # Edited in Central: KEY stays the first instanceID, meta-instanceID is the new version's, Edits counts.
    second = (
        "\n".join(
            [
                CENTRAL_RICH_HEADER,
                central_row(1, "uuid:c1-edit", "edited", 1, psu="B55"),
                central_row(2, review="approved"),
            ]
        )
        + "\n"
    )
    result = import_file(rich_store, write(tmp_path, "second.csv", second), "tiny")
    assert (result.summary.added, result.summary.unchanged, result.summary.reviews, stored(rich_store)) == (1, 1, 1, 3)
    frame = rich_store.submissions_frame("tiny")
    assert sorted(frame[["instance_id", "psu", "review_state"]].values.tolist()) == [
        ["uuid:c1-edit", "B55", "received"],
        ["uuid:c2", "B02", "approved"],
    ]


def test_central_csv_zip_with_repeats_and_media(rich_store, tmp_path):
    import zipfile

    path = tmp_path / "tiny.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:  # Central's "Download all records" with media files
        archive.writestr(
            "tiny.csv", "\n".join([CENTRAL_RICH_HEADER, central_row(1, photo="1.jpg"), central_row(2)]) + "\n"
        )
        archive.writestr(
            "tiny-visits.csv",
            "visitor,PARENT_KEY,KEY\nLuis,uuid:c1,uuid:c1/visits[1]\nRosa,uuid:c1,uuid:c1/visits[2]\n",
        )
        archive.writestr("media/1.jpg", b"\xff\xd8photo")
    result = import_file(rich_store, path, "tiny")
    assert result.summary.added == 2
    frame = rich_store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:c1", "visitor"] == "Luis" and pd.isna(frame.loc["uuid:c2", "visitor"])
    assert [(a.filename, a.content) for a in rich_store.attachments("uuid:c1")] == [("1.jpg", b"\xff\xd8photo")]
    with rich_store.engine.connect() as conn:
        record = conn.execute(
            sa.select(tables.submissions.c.source_record).where(tables.submissions.c.instance_id == "uuid:c1")
        ).scalar_one()
    assert [r["visitor"] for r in record["repeats"]] == ["Luis", "Rosa"]


@pytest.mark.parametrize("separator", [".", ":", "|"])
def test_kobo_group_separator_is_detected(store, tmp_path, separator):
    text = KOBO_CSV.replace("household/", f"household{separator}").replace(
        "main_problems/", f"main_problems{separator}"
    )
    result = import_file(store, write(tmp_path, "kobo.csv", text), "tiny")
    assert result.summary.added == 2 and result.ignored_columns == ["photo_URL"]
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:k1", ["psu", "age", "main_problems"]].tolist() == ["B01", "34", "robbery gangs"]


def test_headers_that_hide_fields_are_refused_not_truncated(store, tmp_path):
    text = KOBO_CSV.replace("household/psu", "household>>psu").replace("household/age", "household>>age")
    with pytest.raises(ImportRowError, match="household>>psu.*unknown group separator"):
        import_file(store, write(tmp_path, "kobo.csv", text), "tiny")
    assert stored(store) == 0


def test_kobo_xlsx_typed_cells_read_as_xml_values(rich_store, tmp_path):
    from datetime import datetime

    path = tmp_path / "kobo.xlsx"  # formpack's XLSX: numbers, `today` a datetime cell, `start` without offset
    pd.DataFrame(
        {
            "today": [datetime(2026, 11, 20)],
            "start": [datetime(2026, 11, 20, 9, 30, 5, 250000)],
            "household/psu": ["007"],
            "household/age": [34],
            "gps": ["-8.11 -79.02 35.2 4.5"],
            "_uuid": ["x1"],
            "_submission_time": [datetime(2026, 11, 20, 14, 2, 11)],
            "__version__": ["vXyz"],
        }
    ).to_excel(path, index=False)
    assert import_file(rich_store, path, "tiny", version=RICH_VERSION).summary.added == 1
    row = rich_store.submissions_frame("tiny").iloc[0]
    assert [row["today"], row["start"], row["psu"], row["age"], row["form_version"]] == [
        "2026-11-20",
        "2026-11-20T09:30:05.250-05:00",
        "007",
        "34",
        RICH_VERSION,
    ]


def test_kobo_export_of_several_deployments_maps_them_to_versions(rich_store, tmp_path):
    header, first, second = KOBO_CSV.splitlines()
    text = "\n".join([header, first, second.replace(";vXyz;", ";vNew;")]) + "\n"
    with pytest.raises(ImportRowError, match="--kobo-version"):
        import_file(rich_store, write(tmp_path, "kobo.csv", text), "tiny")
    result = import_file(
        rich_store,
        write(tmp_path, "kobo.csv", text),
        "tiny",
        kobo_versions={"vXyz": "2026112801", "vNew": RICH_VERSION},
    )
    versions = rich_store.submissions_frame("tiny").set_index("instance_id")["form_version"]
    assert result.summary.added == 2 and versions.to_dict() == {"uuid:k1": "2026112801", "uuid:k2": RICH_VERSION}
