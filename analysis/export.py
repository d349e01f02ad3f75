"""Writing results: the tidy table (CSV, XLSX with a metadata sheet, SDMX-CSV) and weighted microdata.

SDMX-CSV follows the UN SDG global data structure (agency IAEG-SDGs, dataflow DF_SDG_GLH): one row per
observation keyed by SERIES, REF_AREA and the breakdown dimensions SEX, AGE and DISABILITY_STATUS, with
OBS_VALUE in percent (UNIT_MEASURE "PT") and the confidence interval in LOWER_BOUND / UPPER_BOUND. Codes used:
SEX F / M / _T; AGE Y18T24, Y25T34, Y35T44, Y45T54, Y55T64, Y_GE65, Y18T29, Y_GE30 and Y_GE18 for all adults
(the survey's universe); DISABILITY_STATUS PD / NPD / _T (respondents with unknown status are not coded);
REPORTING_TYPE "N" (national/local data, not UN estimates). The global code list has no sub-national areas, so
REF_AREA is a local code: the one given for the whole survey area (default "PE_TRUJILLO") and
"<that>_<NEIGHBOURHOOD>" for neighbourhoods — replace with official codes when publishing. Only indicators with
an SDG series code are written; suppressed estimates are left out and unreliable ones carry COMMENT_OBS.

Microdata leave out direct identifiers unless asked: device ids, user names, GPS, audit logs, timestamps, free
text (XLSForm `text` questions other than the design's PSU code) and the instance id, replaced by a sequential
`respondent_id`; the volunteer becomes a code (interviewer effects stay analysable).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from analysis.errors import AnalysisError
from analysis.pipeline import Result
from analysis.plan import Plan

DATAFLOW = "IAEG-SDGs:DF_SDG_GLH(1.0)"
SEX_CODES = {"female": "F", "male": "M"}
AGE_CODES = {"18-24": "Y18T24", "25-34": "Y25T34", "35-44": "Y35T44", "45-54": "Y45T54", "55-64": "Y55T64",
             "65+": "Y_GE65", "18-29": "Y18T29", "30+": "Y_GE30"}
DISABILITY_CODES = {"yes": "PD", "no": "NPD"}
BREAKDOWN_DIMENSION = {"sex": ("SEX", SEX_CODES), "age_group": ("AGE", AGE_CODES), "youth": ("AGE", AGE_CODES),
                       "disability": ("DISABILITY_STATUS", DISABILITY_CODES)}
SDMX_COLUMNS = ["DATAFLOW", "FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "DISABILITY_STATUS",
                "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE", "UNIT_MULT", "LOWER_BOUND", "UPPER_BOUND", "NATURE",
                "COMMENT_OBS"]
IDENTIFYING_TYPES = {"text", "geopoint", "geotrace", "geoshape", "deviceid", "username", "phonenumber", "email",
                     "audit", "start", "end", "image", "audio", "video", "file", "barcode", "simserial",
                     "subscriberid", "background-audio", "start-geopoint"}
IDENTIFYING_COLUMNS = {"instance_id", "instanceName", "device_id", "deviceid", "username", "gps", "audit", "start",
                       "end", "received_at"}


def write_table(table: pd.DataFrame, path: str | Path, *, metadata: dict[str, pd.DataFrame | str] | None = None,
                sdmx: bool = False, ref_area: str = "PE_TRUJILLO", time_period: str | None = None) -> Path:
    """Write the tidy table as CSV, XLSX (with `metadata` sheets) or SDMX-CSV, by suffix and `sdmx`."""
    path = Path(path)
    if sdmx:
        to_sdmx(table, ref_area=ref_area, time_period=time_period).to_csv(path, index=False)
    elif path.suffix.lower() == ".csv":
        table.to_csv(path, index=False)
    elif path.suffix.lower() == ".xlsx":
        write_xlsx(table, path, metadata or {})
    else:
        raise AnalysisError(f"cannot write estimates to '{path.name}': use .csv or .xlsx (or --format sdmx)")
    return path


def table_metadata(plan: Plan, result: Result, margin_assumption: str, **extra: str) -> dict[str, pd.DataFrame | str]:
    """What the XLSX metadata sheets say: the plan, margins with their source and assumption, warnings,
    weighting diagnostics and the margins as used (after any collapsing); `extra` adds keys (e.g. methods)."""
    metadata: dict[str, pd.DataFrame | str] = {
        "plan_file": str(plan.path), "plan": plan.path.read_text(encoding="utf-8") if plan.path else "",
        "margins": "\n".join(f"{m.file.name}: {m.source}" for m in plan.margins) or "none",
        "margin_assumption": margin_assumption, "warnings": "\n".join(result.warnings) or "none", **extra,
        "weighting": result.diagnostics, "recode_log": result.recode_log,
    }
    for number, table in enumerate(result.margins, start=1):
        metadata[f"margins_{number}"] = table
    if result.set_aside is not None and len(result.set_aside):  # the submissions left out, by id and line
        metadata["set_aside"] = result.set_aside
    return metadata


def write_xlsx(table: pd.DataFrame, path: Path, metadata: dict[str, pd.DataFrame | str]) -> None:
    """Estimates on the first sheet; then a `metadata` sheet (key/value, text broken into lines) and one sheet
    per DataFrame in `metadata` (e.g. weighting diagnostics, margins)."""
    texts = {k: v for k, v in metadata.items() if isinstance(v, str)}
    texts.setdefault("written_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    rows = [(key, line) for key, text in texts.items() for line in (str(text).splitlines() or [""])]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="estimates", index=False)
        pd.DataFrame(rows, columns=["key", "value"]).to_excel(writer, sheet_name="metadata", index=False)
        for name, frame in metadata.items():
            if isinstance(frame, pd.DataFrame):
                frame.to_excel(writer, sheet_name=name[:31], index=False)


def to_sdmx(table: pd.DataFrame, *, ref_area: str = "PE_TRUJILLO", time_period: str | None = None) -> pd.DataFrame:
    """SDMX-CSV rows (see the module docstring for the codes) for the indicators that have an SDG series."""
    rows = table[(table["series"].fillna("") != "") & (table["flag"] != "suppressed")]
    rows = rows[rows["by"].isin(["overall", "neighbourhood", *BREAKDOWN_DIMENSION])]
    out = pd.DataFrame({
        "DATAFLOW": DATAFLOW, "FREQ": "A", "REPORTING_TYPE": "N", "SERIES": rows["series"],
        "REF_AREA": ref_area, "SEX": "_T", "AGE": "Y_GE18", "DISABILITY_STATUS": "_T",
        "TIME_PERIOD": time_period or str(datetime.now(timezone.utc).year),
        "OBS_VALUE": (100 * rows["estimate"]).round(4), "UNIT_MEASURE": "PT", "UNIT_MULT": 0,
        "LOWER_BOUND": (100 * rows["ci_low"]).round(4), "UPPER_BOUND": (100 * rows["ci_high"]).round(4),
        "NATURE": "C",
        "COMMENT_OBS": np.where(rows["flag"] == "unreliable", "unreliable: fewer respondents than min_n", ""),
    }, index=rows.index)
    neighbourhood = rows["area"].where(rows["area"].notna(), rows["group"].where(rows["by"] == "neighbourhood"))
    out["REF_AREA"] = np.where(neighbourhood.notna(), ref_area + "_" + neighbourhood.astype(str).str.upper(), ref_area)
    keep = pd.Series(True, index=rows.index)
    for by, (dimension, codes) in BREAKDOWN_DIMENSION.items():
        here = rows["by"] == by
        coded = rows["group"].map(codes)
        out.loc[here, dimension] = coded[here]
        keep &= ~(here & coded.isna())
    return out[keep][SDMX_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# microdata


def microdata_for_export(microdata: pd.DataFrame, fields: pd.DataFrame | None = None, *,
                         keep: tuple[str, ...] = ("psu",), include_identifiers: bool = False) -> pd.DataFrame:
    """The weighted respondent file without direct identifiers (unless `include_identifiers`).

    `fields` (name, type[, label]) from the XLSForm says which questions are free text, GPS or device ids;
    `keep` names text fields that are design variables (the PSU code), which stay.
    """
    frame = microdata.drop(columns=[c for c in microdata.columns if c.endswith("__raking")])
    if include_identifiers:
        return frame.reset_index(drop=True)
    identifying = set(IDENTIFYING_COLUMNS)
    if fields is not None:
        identifying |= set(fields.loc[fields["type"].isin(IDENTIFYING_TYPES), "name"])
    identifying -= set(keep)
    frame = frame.drop(columns=[c for c in frame.columns if c in identifying])
    frame.insert(0, "respondent_id", np.arange(1, len(frame) + 1))
    if "volunteer" in frame.columns:
        codes, _ = pd.factorize(frame["volunteer"], sort=True)
        frame["volunteer"] = np.where(codes >= 0, [f"V{c + 1:03d}" for c in codes], None)
    return frame.reset_index(drop=True)


def write_microdata(frame: pd.DataFrame, path: str | Path, choices: pd.DataFrame | None = None,
                    fields: pd.DataFrame | None = None) -> Path:
    """CSV, Stata .dta or SPSS .sav by suffix. For .dta/.sav, select_one answers become integer codes (the
    order of the form's choices) with the choice labels as value labels, and question labels as variable labels;
    select_multiple answers stay space-separated text. CSV keeps the choice names."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
        return path
    if suffix not in (".dta", ".sav"):
        raise AnalysisError(f"cannot write microdata to '{path.name}': use .csv, .dta or .sav")
    coded, value_labels = _coded(frame, choices)
    too_long = [c for c in coded.columns if len(c) > 32 or (suffix == ".dta" and c in value_labels and len(c) > 31)]
    if too_long:
        raise AnalysisError(f"variable name(s) too long for {suffix}: {', '.join(too_long)} (Stata/SPSS allow 32 "
                            "characters, Stata 31 for a labelled variable); rename them or export CSV")
    column_labels = None
    if fields is not None:
        labels = fields.dropna(subset=["label"]).drop_duplicates("name").set_index("name")["label"].astype(str)
        column_labels = {c: labels.get(c, "")[:80] for c in coded.columns}
    if suffix == ".sav":
        pyreadstat.write_sav(coded, str(path), column_labels=column_labels, variable_value_labels=value_labels)
    else:
        pyreadstat.write_dta(coded, str(path), column_labels=column_labels, variable_value_labels=value_labels,
                             version=15)
    return path


def _coded(frame: pd.DataFrame, choices: pd.DataFrame | None) -> tuple[pd.DataFrame, dict]:
    """Integer codes + value labels for columns whose every value is a known choice (select_one)."""
    out = frame.copy()
    value_labels = {}
    if choices is not None:
        for variable, rows in choices.groupby("variable", sort=False):
            if variable not in out.columns:
                continue
            names = rows["value"].astype(str).tolist()
            present = out[variable].dropna().astype(str)
            if not set(present) <= set(names):
                continue  # select_multiple or a variable recoded differently: keep the text
            code = {name: i + 1 for i, name in enumerate(names)}
            out[variable] = present.map(code).reindex(out.index).astype("float64")
            value_labels[variable] = {float(i + 1): str(label) for i, label in enumerate(rows["label"].fillna(""))}
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            numbers = pd.to_numeric(out[column], errors="coerce")
            if numbers.notna().sum() == out[column].notna().sum() and out[column].notna().any():
                out[column] = numbers.astype("float64")   # integer questions arrive as text
            else:
                out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    return out, value_labels
