"""Downloads page on the demo round: each file is what it says, and microdata carry no direct identifiers."""

import io

import pandas as pd
import pyreadstat

from dashboard import data
from dashboard.views import downloads

IDENTIFIERS = [
    "instance_id",
    "gps",
    "deviceid",
    "device_id",
    "username",
    "start",
    "end",
    "audit",
    "received_at",
    "volunteer_notes",
    "main_problems_other",
    "discrimination_grounds_other",
    "dispute_mechanisms_other",
]


def test_page_offers_every_file_and_says_the_data_are_synthetic(demo_data, app_as):
    at = app_as("researcher", "downloads")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Tidy table (CSV)",
        "Tidy table with metadata sheets (XLSX)",
        "SDMX-CSV (SDG series, for UN SDG data exchange)",
        "CSV",
        "Stata (.dta)",
        "SPSS (.sav)",
        "Disclosure report (Markdown)",
        "Codebook (CSV)",
        "Methods note (Markdown)",
    ]
    assert not any("Full detail" in e.proto.label for e in at.expander)  # researchers never see the full level


def test_full_detail_is_for_admins_after_a_reason_and_is_logged(demo_data, app_as, tmp_path, monkeypatch):
    from collect import access_log

    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    at = app_as("admin", "downloads")
    assert [e.proto.label for e in at.expander if "Full detail" in e.proto.label]
    assert not [b for b in at.get("download_button") if "FULL" in b.proto.label or "Full" in b.proto.label]
    at.text_input(key="full_detail_reason").input("re-contact for the panel wave").run()
    at.checkbox(key="full_detail_choice").check().run()
    assert [b.proto.label for b in at.get("download_button") if b.proto.label.startswith("Full")] == [
        "Full CSV",
        "Full Stata (.dta)",
        "Full SPSS (.sav)",
    ]
    assert access_log.entries() == []  # offering the buttons logs nothing; making a file does
    full = pd.read_csv(io.BytesIO(downloads._microdata_file(data.estimates(), ".csv", ("admin", "re-contact"))))
    assert {"instance_id", "age"} <= set(full.columns)
    [entry] = access_log.entries()
    assert (entry["user"], entry["reason"], entry["channel"], entry["rows"]) == (
        "admin",
        "re-contact",
        "dashboard",
        len(full),
    )
    assert any("SYNTHETIC DATA" in m.value for m in at.markdown)


def test_estimate_files(demo_data):
    result = data.estimates()
    tidy = pd.read_csv(io.BytesIO(downloads._table_file(result, ".csv")))
    assert len(tidy) == len(result.estimates) and {"estimate", "ci_low", "ci_high", "flag"} <= set(tidy.columns)
    sheets = pd.read_excel(io.BytesIO(downloads._table_file(result, ".xlsx")), sheet_name=None)
    assert {"estimates", "metadata", "weighting"} <= set(sheets)
    assert "SÍ: ronda de demostración generada" in sheets["metadata"]["value"].astype(str).tolist()  # Spanish first
    english = pd.read_excel(io.BytesIO(downloads._table_file(result, ".xlsx", language="en")), sheet_name="metadata")
    assert "YES: generated demo round" in english["value"].astype(str).tolist()
    assert tidy["sample"].str.startswith("muestra probabilística").all()  # the demo round walks the sample plan
    sdmx = pd.read_csv(io.BytesIO(downloads._table_file(result, ".csv", sdmx=True)))
    assert set(sdmx["SERIES"]) >= {"VC_SNS_WALN_DRK", "IU_COR_BRIB"} and (sdmx["UNIT_MEASURE"] == "PT").all()


def test_microdata_are_weighted_labelled_and_carry_no_identifiers(demo_data, tmp_path):
    result = data.estimates()
    csv = pd.read_csv(io.BytesIO(downloads._microdata_file(result, ".csv")), dtype=str)
    assert "weight" in csv.columns and len(csv) == len(result.microdata)
    assert not set(IDENTIFIERS) & set(csv.columns) and "age" not in csv.columns
    assert (
        csv["psu"].str.fullmatch(r"P\d{3,}").all()
        and csv["interview_month"].dropna().str.fullmatch(r"\d{4}-\d{2}").all()
    )
    names = set(data.submissions()["volunteer"])
    assert not names & set(csv["volunteer"]) and csv["volunteer"].str.fullmatch(r"V\d{3}").all()
    for suffix, read in ((".dta", pyreadstat.read_dta), (".sav", pyreadstat.read_sav)):
        path = tmp_path / f"m{suffix}"
        path.write_bytes(downloads._microdata_file(result, suffix))
        frame, meta = read(str(path))
        assert not set(IDENTIFIERS) & set(frame.columns)
        assert "sex" in meta.variable_value_labels


def test_codebook_and_methods_note(demo_data):
    codebook = pd.read_csv(io.BytesIO(downloads._codebook()))
    assert "feels_safe_after_dark" in set(codebook["field"])
    note = downloads.note(data.estimates())
    assert "DATOS SINTÉTICOS" in note and "## Ponderación" in note and "DEFAULT MARGINS" in note
    assert "## Weighting" in downloads.note(data.estimates(), "en")
    assert "| 16.5.1 | IU_COR_BRIB |" in note
