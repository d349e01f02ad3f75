"""Exports read back: CSV/XLSX tables, SDMX-CSV codes, microdata without identifiers, labelled .sav/.dta, CLI."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from synthetic import synthetic_submissions
from typer.testing import CliRunner

from analysis import disclosure, export
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
    export.write_table(
        table, tmp_path / "t.xlsx", metadata={"plan": "line one\nline two", "weighting": result.diagnostics}
    )
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


def test_microdata_leave_out_direct_identifiers(result):  # the step before disclosure control
    frame = export.microdata_for_export(result.microdata, FIELDS)
    for column in (
        "gps",
        "deviceid",
        "device_id",
        "username",
        "instance_id",
        "start",
        "end",
        "volunteer_notes",
        "audit",
        "received_at",
    ):
        assert column not in frame.columns
    assert frame["respondent_id"].tolist() == list(range(1, len(frame) + 1))
    assert frame["volunteer"].str.fullmatch(r"V\d{3}").all()
    assert "psu" in frame.columns and "weight" in frame.columns
    assert not any(c.endswith("__raking") for c in frame.columns)
    full = export.microdata_for_export(result.microdata, FIELDS, include_identifiers=True)
    assert {"gps", "instance_id", "volunteer_notes"} <= set(full.columns)


@pytest.mark.parametrize("suffix, reader", [(".sav", pyreadstat.read_sav), (".dta", pyreadstat.read_dta)])
def test_labelled_microdata_read_back(result, tmp_path, suffix, reader):
    frame, _ = export.researcher_microdata(result.microdata, FIELDS, CHOICES, seed=1)
    path = export.write_microdata(frame, tmp_path / f"m{suffix}", CHOICES, FIELDS)
    data, meta = reader(str(path), apply_value_formats=True, **({"encoding": "utf-8"} if suffix == ".dta" else {}))
    labels = CHOICES[CHOICES["variable"] == "sex"].set_index("value")["label"]
    assert data["sex"].tolist() == frame["sex"].map(labels).tolist()
    assert np.allclose(data["weight"], frame["weight"])
    assert meta.column_names_to_labels["sex"] == FIELDS.set_index("name").loc["sex", "label"]
    assert meta.column_names_to_labels["weight"].startswith("Peso final calibrado")
    assert meta.column_names_to_labels["age_group"].startswith("Grupo de edad")
    problems = CHOICES.loc[CHOICES["variable"] == "main_problems", "value"].tolist()
    robbery = export.choice_columns("main_problems", problems, frozenset(FIELDS["name"]))["robbery"]
    question = FIELDS.set_index("name").loc["main_problems", "label"]
    choice = CHOICES[(CHOICES["variable"] == "main_problems") & (CHOICES["value"] == "robbery")]["label"].iloc[0]
    assert meta.column_names_to_labels[robbery] == f"{question[:40]}: {choice} (0/1)"[:80]
    safe = CHOICES[CHOICES["variable"] == "feels_safe_after_dark"]
    assert set(meta.variable_value_labels["feels_safe_after_dark"].values()) == set(safe["label"])
    assert data["main_problems"].iloc[0] == frame["main_problems"].iloc[0]  # select_multiple stays text, beside 0/1


def test_select_multiple_answers_also_as_0_1_columns(result):
    frame, _ = export.full_microdata(result.microdata, FIELDS, CHOICES)
    values = CHOICES.loc[CHOICES["variable"] == "main_problems", "value"].tolist()
    names = export.choice_columns("main_problems", values, frozenset(FIELDS["name"]))
    assert names["robbery"] == "main_problems_1"  # main_problems_other is the form's free-text question
    columns = [names[v] for v in values]
    assert frame.columns.get_loc(columns[0]) == frame.columns.get_loc("main_problems") + 1
    answered = frame["main_problems"].notna() & (frame["main_problems"] != "")
    for value, column in zip(values, columns):
        expected = frame.loc[answered, "main_problems"].str.split().map(lambda c, v=value: float(v in c))
        assert frame.loc[answered, column].tolist() == expected.tolist()
        assert frame.loc[~answered, column].isna().all()
    long = export.choice_columns("reported_to_psychological", ["prosecutor", "police"])
    assert long == {"prosecutor": "reported_to_psychological_1", "police": "reported_to_psychological_2"}


def test_researcher_level_controls_disclosure_and_reports_k_anonymity(result):
    frame, metadata = export.researcher_microdata(result.microdata, FIELDS, CHOICES, seed=1)
    for column in ("age", "start", "end", "today", "gps", "instance_id"):
        assert column not in frame.columns
    assert frame["interview_month"].dropna().str.fullmatch(r"\d{4}-\d{2}").all()
    blocks = result.microdata["psu"].astype(str) + "|" + result.microdata["neighbourhood"].astype(str)
    assert frame["psu"].str.fullmatch(r"P\d{3,}").all() and frame["psu"].nunique() == blocks.nunique()
    assert not set(frame["psu"]) & set(result.microdata["psu"].astype(str))
    adults = pd.to_numeric(frame["household_adults"], errors="coerce")
    assert (adults == adults.max()).sum() >= 5  # top-coded: at least k respondents at the cap
    quasi = [c for c in disclosure.QUASI_IDENTIFIERS if c in frame.columns]
    sizes = frame[quasi].astype("string").fillna("-").groupby(quasi)[quasi[0]].transform("size")
    small = frame[sizes < 5]  # strict count; those left have nothing but the neighbourhood
    assert small[[c for c in quasi if c != "neighbourhood"]].isna().all().all()
    assert disclosure.k_anonymity(frame, quasi)["below_k"] < 0.02
    assert "90" not in metadata["k_anonymity_after"].split("%")[0]
    assert metadata["quasi_identifiers"] == ", ".join(quasi)
    before = disclosure.k_anonymity(
        result.microdata.assign(interview_month=result.microdata["start"].str[:10]),
        ["psu", "age", "sex", "education", "disability", "interview_month"],
    )
    assert before["unique"] > 0.5 and f"{before['unique']:.1%}" in metadata["k_anonymity_before"]


def test_disclosure_helpers():
    values = pd.Series(["1", "2", "2", "3", "3", "3", "4", "9", "12", None])
    capped, cap = disclosure.top_code(values, k=3)
    assert cap == 4 and capped.dropna().astype(float).max() == 4 and capped.isna().sum() == 1
    grouped, rare = disclosure.rare_to_other(pd.Series(["a"] * 5 + ["b"] * 2 + ["c"]), k=3)
    assert rare == ["b", "c"] and grouped.tolist() == ["a"] * 5 + ["other"] * 3
    month = disclosure.interview_month(
        pd.DataFrame({"start": ["2026-11-20T09:00:00-05:00", None], "today": [None, "2026-12-01"]})
    )
    assert month.tolist() == ["2026-11", "2026-12"]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (the suite does not need it)")
def test_r_foreign_reads_the_stata_file(result, tmp_path):
    frame, _ = export.researcher_microdata(result.microdata, FIELDS, CHOICES, seed=1)
    path = export.write_microdata(frame, tmp_path / "m.dta", CHOICES, FIELDS)
    done = subprocess.run(
        ["Rscript", str(ROOT / "tests" / "golden" / "read_microdata.R"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    read = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    assert (int(read["rows"]), int(read["columns"])) == frame.shape
    assert read["label:weight"] == export.variable_labels(frame, FIELDS, CHOICES)["weight"]
    assert read["levels:sex"] == "|".join(CHOICES.loc[CHOICES["variable"] == "sex", "label"])
    assert float(read["sum:weight"]) == pytest.approx(frame["weight"].sum(), rel=1e-9)


def test_microdata_format_and_name_errors(result, tmp_path):
    frame = export.microdata_for_export(result.microdata, FIELDS)
    with pytest.raises(AnalysisError, match="use .csv, .dta or .sav"):
        export.write_microdata(frame, tmp_path / "m.parquet")
    long = frame.assign(a_variable_name_longer_than_32_chars=1.0)
    with pytest.raises(AnalysisError, match="too long for .dta: a_variable_name_longer_than_32_chars"):
        export.write_microdata(long, tmp_path / "m.dta")
    export.write_microdata(long, tmp_path / "m.sav")  # SPSS takes 64 characters


def test_stata_file_with_more_labelled_variables_than_label_set_names_fit(tmp_path):
    """pyreadstat names the k-th label set `name` + `k` and Stata 115 takes 32 bytes: past the 99th labelled variable
    a 30-character name keeps its choice names as text, and the file is written (it was refused before)."""
    names = [f"v{i:03d}_" + "x" * 25 for i in range(120)]  # 30 characters each
    frame = pd.DataFrame({name: ["yes", "no", None] for name in names})
    choices = pd.DataFrame(
        [(name, value, label) for name in names for value, label in (("yes", "Sí / yes"), ("no", "No"))],
        columns=["variable", "value", "label"],
    )
    path = export.write_microdata(frame, tmp_path / "m.dta", choices)
    back, meta = pyreadstat.read_dta(str(path), encoding="utf-8")  # text is UTF-8, as Stata 14+ reads it
    coded = [name for name in names if name in meta.variable_value_labels]
    assert coded == names[:100]  # label sets 0 … 99 fit
    assert back[names[0]].tolist()[:2] == [1, 2] and back[names[119]].tolist() == ["yes", "no", ""]
    assert meta.variable_value_labels[names[99]] == {1: "Sí / yes", 2: "No"}


# ---- the command line ------------------------------------------------------------------------------------


def central_style_export(path: Path) -> Path:
    """A CSV like ODK Central's: group paths joined with '-', meta-instanceID, SubmitterName, ReviewState."""
    subs = synthetic_submissions(700, seed=13)
    groups = {
        "sex": "consented-interview-respondent-sex",
        "instance_id": "meta-instanceID",
        "volunteer": "SubmitterName",
        "review_state": "ReviewState",
    }
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
    assert {"plan", "margins", "margin_assumption", "comparability", "written_at"} <= keys
    comparability = sheets["metadata"].loc[sheets["metadata"]["key"] == "comparability", "value"].tolist()
    assert (
        "16.3.1.physical.broad [no series]: local — Includes services that are not competent authorities for adult "
        "victims: never report under VC_PRR codes." in comparability
    )
    done = runner.invoke(
        app, ["estimate", str(responses), "--out", str(tmp_path / "s.csv"), "--format", "sdmx", "--time-period", "2026"]
    )
    assert done.exit_code == 0, done.output
    assert set(pd.read_csv(tmp_path / "s.csv")["TIME_PERIOD"]) == {2026}


def test_cli_full_microdata_is_logged(tmp_path, monkeypatch):
    from collect import access_log

    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path / "data"))
    responses = central_style_export(tmp_path / "export.csv")
    args = ["export", "microdata", str(responses), "--out", str(tmp_path / "full.csv"), "--level", "full"]
    done = CliRunner().invoke(app, [*args, "--user", "ana", "--reason", "panel re-contact"])
    assert done.exit_code == 0, done.output
    assert "instance_id" in pd.read_csv(tmp_path / "full.csv", nrows=1).columns
    [entry] = access_log.entries()
    assert (entry["user"], entry["reason"], entry["channel"], entry["what"]) == (
        "ana",
        "panel re-contact",
        "cli",
        "microdata full.csv",
    )
    assert (access_log.log_path().stat().st_mode & 0o777) == 0o600


def test_cli_microdata_and_errors(tmp_path):
    responses = central_style_export(tmp_path / "export.csv")
    runner = CliRunner()
    done = runner.invoke(app, ["export", "microdata", str(responses), "--out", str(tmp_path / "m.dta")])
    assert done.exit_code == 0, done.output
    data, _ = pyreadstat.read_dta(str(tmp_path / "m.dta"))
    assert "gps" not in data.columns and "age" not in data.columns and len(data) > 0
    assert "k mínimo" in (tmp_path / "m.dta.metadata.md").read_text(encoding="utf-8")
    refused = runner.invoke(
        app, ["export", "microdata", str(responses), "--out", str(tmp_path / "f.csv"), "--level", "full"]
    )
    assert refused.exit_code == 1 and "--reason" in refused.output and not (tmp_path / "f.csv").exists()
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
        store.import_records(
            ImportRecord(
                instance_id=r["instance_id"],
                form_id="sdg16_perception",
                form_version=r["form_version"],
                fields={k: v for k, v in r.items() if k not in meta and isinstance(v, str)},
                source="file",
                source_record={},
                volunteer=r["volunteer"],
                review_state=r["review_state"],
            )
            for r in subs.to_dict("records")
        )
    finally:
        store.close()
    done = CliRunner().invoke(app, ["estimate", "store:sdg16_perception", "--out", str(tmp_path / "e.csv")])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "e.csv")
    overall = table[(table["indicator"] == "16.1.4") & (table["by"] == "overall")]
    eligible = (
        (subs["consent"] == "yes")
        & (pd.to_numeric(subs["age"], errors="coerce") >= 18)
        & (subs["review_state"] != "rejected")
    )
    assert overall["n"].iloc[0] == eligible.sum()
