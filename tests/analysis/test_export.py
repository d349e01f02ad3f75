"""Exports read back: CSV/XLSX tables, SDMX-CSV codes, microdata without identifiers, labelled .sav/.dta, CLI."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from synthetic import synthetic_submissions
from typer.testing import CliRunner

from analysis import export
from analysis.errors import AnalysisError
from analysis.pipeline import run
from analysis.plan import load_plan
from analysis.recode import derived_choices
from forms.choices import read_form_choices, read_form_fields
from sdg16.cli import app

ROOT = Path(__file__).resolve().parents[2]
PLAN = load_plan(ROOT / "analysis" / "plans" / "sdg16.toml")
CHOICES = pd.concat([read_form_choices(PLAN.form), derived_choices()], ignore_index=True)
FIELDS = read_form_fields(PLAN.form)


@pytest.fixture(scope="module")
def result():
    subs = synthetic_submissions(1500, seed=9)
    subs["volunteer_notes"] = "the lady at the green house, phone 949 000 000"
    return run(PLAN, subs)


def test_csv_and_xlsx_round_trip(result, tmp_path):
    table = result.estimates
    export.write_table(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False, na_values=[""])
    assert np.allclose(back["estimate"], table["estimate"], equal_nan=True)
    export.write_table(table, tmp_path / "t.xlsx", metadata={"plan": "line one\nline two", "weighting": result.diagnostics})
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert list(sheets) == ["estimates", "metadata", "weighting"]
    assert len(sheets["estimates"]) == len(table)
    meta = sheets["metadata"]
    assert meta.loc[meta["key"] == "plan", "value"].tolist() == ["line one", "line two"]
    assert "written_at" in set(meta["key"])
    assert sheets["weighting"]["n"].iloc[0] == len(result.microdata)


def test_unknown_table_format_is_refused(result, tmp_path):
    with pytest.raises(AnalysisError, match="use .csv or .xlsx"):
        export.write_table(result.estimates, tmp_path / "t.json")


def test_sdmx_rows_are_keyed_by_series_area_and_breakdown(result):
    sdmx = export.to_sdmx(result.estimates, ref_area="PE_TRU", time_period="2026")
    assert list(sdmx.columns) == export.SDMX_COLUMNS
    key = ["SERIES", "REF_AREA", "SEX", "AGE", "DISABILITY_STATUS", "TIME_PERIOD"]
    assert not sdmx.duplicated(key).any()
    assert set(sdmx["SEX"]) == {"F", "M", "_T"}
    assert set(sdmx["AGE"]) <= {"Y_GE18", "Y18T24", "Y25T34", "Y35T44", "Y45T54", "Y55T64", "Y_GE65", "Y18T29", "Y_GE30"}
    assert set(sdmx["DISABILITY_STATUS"]) == {"PD", "NPD", "_T"}
    assert "VC_SNS_WALN_DRK" in set(sdmx["SERIES"]) and "" not in set(sdmx["SERIES"])
    overall = sdmx[(sdmx["SERIES"] == "IU_COR_BRIB") & (sdmx["REF_AREA"] == "PE_TRU") & (sdmx["SEX"] == "_T")
                   & (sdmx["AGE"] == "Y_GE18") & (sdmx["DISABILITY_STATUS"] == "_T")]
    table = result.estimates
    expected = table[(table["indicator"] == "16.5.1") & (table["by"] == "overall")]["estimate"].iloc[0]
    assert overall["OBS_VALUE"].iloc[0] == pytest.approx(100 * expected, abs=1e-4)
    women_trujillo = sdmx[(sdmx["REF_AREA"] == "PE_TRU_TRUJILLO") & (sdmx["SEX"] == "F")]
    assert len(women_trujillo) > 0
    published = table[(table["series"] != "") & (table["flag"] != "suppressed")]
    assert (sdmx["SEX"] != "_T").sum() == (published["by"] == "sex").sum()
    coded = published[(published["by"] == "disability") & published["group"].isin(["yes", "no"])]
    assert (sdmx["DISABILITY_STATUS"] != "_T").sum() == len(coded)
    uncoded = (published["by"] == "disability") & ~published["group"].isin(["yes", "no"])
    assert len(sdmx) == (~uncoded).sum()
    assert sdmx["COMMENT_OBS"].astype(bool).sum() == (published[~uncoded]["flag"] == "unreliable").sum()


def test_microdata_leave_out_direct_identifiers(result):
    frame = export.microdata_for_export(result.microdata, FIELDS)
    for column in ("gps", "deviceid", "device_id", "username", "instance_id", "start", "end", "volunteer_notes",
                   "audit", "received_at"):
        assert column not in frame.columns
    assert frame["respondent_id"].tolist() == list(range(1, len(frame) + 1))
    assert frame["volunteer"].str.fullmatch(r"V\d{3}").all()
    assert "psu" in frame.columns and "weight" in frame.columns
    assert not any(c.endswith("__raking") for c in frame.columns)
    full = export.microdata_for_export(result.microdata, FIELDS, include_identifiers=True)
    assert {"gps", "instance_id", "volunteer_notes"} <= set(full.columns)


@pytest.mark.parametrize("suffix, reader", [(".sav", pyreadstat.read_sav), (".dta", pyreadstat.read_dta)])
def test_labelled_microdata_read_back(result, tmp_path, suffix, reader):
    frame = export.microdata_for_export(result.microdata, FIELDS)
    path = export.write_microdata(frame, tmp_path / f"m{suffix}", CHOICES, FIELDS)
    data, meta = reader(str(path), apply_value_formats=True)
    labels = CHOICES[CHOICES["variable"] == "sex"].set_index("value")["label"]
    assert data["sex"].tolist() == frame["sex"].map(labels).tolist()
    assert np.allclose(data["weight"], frame["weight"])
    assert np.allclose(data["age"], frame["age"])
    assert meta.column_names_to_labels["sex"] == FIELDS.set_index("name").loc["sex", "label"]
    safe = CHOICES[CHOICES["variable"] == "feels_safe_after_dark"]
    assert set(meta.variable_value_labels["feels_safe_after_dark"].values()) == set(safe["label"])
    assert data["main_problems"].iloc[0] == frame["main_problems"].iloc[0]   # select_multiple stays text


def test_microdata_format_and_name_errors(result, tmp_path):
    frame = export.microdata_for_export(result.microdata, FIELDS)
    with pytest.raises(AnalysisError, match="use .csv, .dta or .sav"):
        export.write_microdata(frame, tmp_path / "m.parquet")
    long = frame.assign(a_variable_name_longer_than_32_chars=1.0)
    with pytest.raises(AnalysisError, match="too long for .sav: a_variable_name_longer_than_32_chars"):
        export.write_microdata(long, tmp_path / "m.sav")


# ---- the command line ------------------------------------------------------------------------------------

def central_style_export(path: Path) -> Path:
    """A CSV like ODK Central's: group paths joined with '-', meta-instanceID, SubmitterName, ReviewState."""
    subs = synthetic_submissions(700, seed=13)
    groups = {"sex": "consented-interview-respondent-sex", "instance_id": "meta-instanceID",
              "volunteer": "SubmitterName", "review_state": "ReviewState"}
    subs.rename(columns=groups).to_csv(path, index=False)
    return path


def test_cli_estimate_tidy_xlsx_and_sdmx(tmp_path):
    responses = central_style_export(tmp_path / "export.csv")
    runner = CliRunner()
    done = runner.invoke(app, ["estimate", str(responses), "--out", str(tmp_path / "e.xlsx")])
    assert done.exit_code == 0, done.output
    sheets = pd.read_excel(tmp_path / "e.xlsx", sheet_name=None)
    assert {"estimates", "metadata", "weighting"} <= set(sheets)
    keys = set(sheets["metadata"]["key"])
    assert {"plan", "margins", "margin_assumption", "written_at"} <= keys
    done = runner.invoke(app, ["estimate", str(responses), "--out", str(tmp_path / "s.csv"), "--format", "sdmx",
                               "--time-period", "2026"])
    assert done.exit_code == 0, done.output
    assert set(pd.read_csv(tmp_path / "s.csv")["TIME_PERIOD"]) == {2026}


def test_cli_microdata_and_errors(tmp_path):
    responses = central_style_export(tmp_path / "export.csv")
    runner = CliRunner()
    done = runner.invoke(app, ["export", "microdata", str(responses), "--out", str(tmp_path / "m.dta")])
    assert done.exit_code == 0, done.output
    data, _ = pyreadstat.read_dta(str(tmp_path / "m.dta"))
    assert "gps" not in data.columns and len(data) > 0
    bad = runner.invoke(app, ["estimate", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "e.csv")])
    assert bad.exit_code == 1 and "responses file not found" in bad.output
    bad = runner.invoke(app, ["estimate", str(responses), "--out", str(tmp_path / "e.json")])
    assert bad.exit_code == 1 and "write .csv or .xlsx" in bad.output
    broken = tmp_path / "broken.toml"
    broken.write_text('[estimation]\nci = "wald"\n')
    bad = runner.invoke(app, ["estimate", str(responses), "--plan", str(broken), "--out", str(tmp_path / "e.csv")])
    assert bad.exit_code == 1 and "ci = 'wald' is not a method" in bad.output


def test_cli_reads_the_store(tmp_path, monkeypatch):
    """`store:FORM_ID` reads current, non-rejected submissions through collect.store (a real SQLite store)."""
    from collect.store import ImportRecord, Store

    monkeypatch.setenv("SDG16_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    subs = synthetic_submissions(1000, seed=17)
    meta = {"instance_id", "form_id", "form_version", "volunteer", "device_id", "review_state", "source"}
    store = Store.open()
    try:
        store.import_records(ImportRecord(
            instance_id=r["instance_id"], form_id="sdg16_perception", form_version=r["form_version"],
            fields={k: v for k, v in r.items() if k not in meta and isinstance(v, str)}, source="file",
            source_record={}, volunteer=r["volunteer"], review_state=r["review_state"]) for r in subs.to_dict("records"))
    finally:
        store.close()
    done = CliRunner().invoke(app, ["estimate", "store:sdg16_perception", "--out", str(tmp_path / "e.csv")])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "e.csv")
    overall = table[(table["indicator"] == "16.1.4") & (table["by"] == "overall")]
    eligible = (subs["consent"] == "yes") & (pd.to_numeric(subs["age"], errors="coerce") >= 18) \
        & (subs["review_state"] != "rejected")
    assert overall["n"].iloc[0] == eligible.sum()
