"""Writing results: the tidy table (CSV, XLSX with a metadata sheet, SDMX-CSV) and weighted microdata.

SDMX-CSV follows the SDG global DSD 1.14 and is made by `analysis.sdmx` (codes and what is left out are described
there).

Microdata come at two levels. `researcher_microdata` is what researchers download: no direct identifiers (device
ids, user names, GPS, audit logs, timestamps, free text — XLSForm `text` questions other than the design's PSU
code — and the instance id, replaced by a sequential `respondent_id`; the volunteer becomes a code so interviewer
effects stay analysable), then disclosure control of the quasi-identifiers (`analysis.disclosure`: age bands,
month not day, pseudonymous blocks, top-coding, a k-anonymity check reported in the metadata). `full_microdata`
keeps everything, for admins who choose it explicitly (the caller logs that choice). Both add each
select_multiple answer as 0/1 columns, one per choice, beside the space-separated text.

Stata files are format 115 (Stata 12), which Stata ≥ 12, R's `foreign::read.dta` and `haven` all read
(tests/golden/read_microdata.R checks it with R). Their text is UTF-8, as pyreadstat writes it: R and Stata ≥ 14
show the accents; Stata 12-13, which predate Unicode, show them garbled (the values are right). Variable labels
come from the form's questions, and from `DERIVED_LABELS` for the weights and the variables the analysis derives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from analysis import disclosure, sdmx
from analysis.errors import AnalysisError
from analysis.pipeline import Result
from analysis.plan import Plan

IDENTIFYING_TYPES = {
    "text",
    "geopoint",
    "geotrace",
    "geoshape",
    "deviceid",
    "username",
    "phonenumber",
    "email",
    "audit",
    "start",
    "end",
    "image",
    "audio",
    "video",
    "file",
    "barcode",
    "simserial",
    "subscriberid",
    "background-audio",
    "start-geopoint",
}
IDENTIFYING_COLUMNS = {
    "instance_id",
    "instanceName",
    "device_id",
    "deviceid",
    "username",
    "gps",
    "audit",
    "start",
    "end",
    "received_at",
}
STATA_NAME_BYTES = 32  # Stata 115: variable and label-set names
STATA_VERSION = 12  # format 115: R's foreign::read.dta reads Stata ≤ 12 files, Stata 13+ files it cannot
DERIVED_LABELS = {
    "respondent_id": "Número de encuestado (sin relación con el ID de envío) / respondent number",
    "weight": "Peso final calibrado (diseño × raking) / final calibrated weight (design × raking)",
    "design_weight": "Peso de diseño (inverso de la probabilidad de selección) / design weight",
    "psu": "Conglomerado (código arbitrario de manzana) / cluster (arbitrary block code)",
    "neighbourhood": "Barrio (estrato) / neighbourhood (stratum)",
    "interview_month": "Mes de la entrevista (AAAA-MM) / interview month (YYYY-MM)",
    "age_group": "Grupo de edad (ODS 16.7.2) / age band (SDG 16.7.2)",
    "youth": "Joven 18-29 / youth 18-29",
    "disability": "Discapacidad (Grupo de Washington) / disability (Washington Group short set)",
    "safe_after_dark": "Seguridad al caminar de noche (recodificada) / safety walking after dark (recoded)",
    "bribe_asked_or_paid": "Soborno pedido o pagado, 12 meses / bribe asked or paid, 12 months",
    "dispute_access": "Acceso a mecanismo de disputa / access to a dispute mechanism",
    "discriminated_12m": "Discriminado/a, 12 meses / discriminated against, 12 months",
    "volunteer": "Encuestador/a (código) / interviewer (code)",
}
REPLICATE_PREFIXES = ("repw", "rep_weight", "replicate")


def write_table(
    table: pd.DataFrame,
    path: str | Path,
    *,
    metadata: dict[str, pd.DataFrame | str] | None = None,
    sdmx_csv: bool = False,
    time_period: str | None = None,
    plan: Plan | None = None,
    geo_info_url: str | None = None,
) -> Path:
    """Write the tidy table as CSV, XLSX (with `metadata` sheets) or SDMX-CSV, by suffix and `sdmx_csv`
    (`plan` gives the indicators' comparability to SDMX's COMMENT_OBS)."""
    path = Path(path)
    if sdmx_csv:
        period = time_period or str(datetime.now(UTC).year)
        sdmx.to_sdmx(
            table, time_period=period, comparability=plan_comparability(plan), geo_info_url=geo_info_url
        ).to_csv(path, index=False)
    elif path.suffix.lower() == ".csv":  # the sample statement travels with every row of a CSV (no metadata sheet)
        table.assign(**({"sample": metadata["sample"]} if metadata and "sample" in metadata else {})).to_csv(
            path, index=False
        )
    elif path.suffix.lower() == ".xlsx":
        write_xlsx(table, path, metadata or {})
    else:
        raise AnalysisError(f"cannot write estimates to '{path.name}': use .csv or .xlsx (or --format sdmx)")
    return path


def table_metadata(plan: Plan, result: Result, margin_assumption: str, **extra: str) -> dict[str, pd.DataFrame | str]:
    """What the XLSX metadata sheets say: the plan, margins with their source and assumption, warnings, each
    indicator's comparability with the SDG metadata (exact / comparable / local, with its note),
    weighting diagnostics and the margins as used (after any collapsing); `extra` adds keys (e.g. methods)."""
    metadata: dict[str, pd.DataFrame | str] = {
        "plan_file": plan.path.name if plan.path else "",
        "plan": plan.path.read_text(encoding="utf-8") if plan.path else "",
        "margins": "\n".join(f"{m.file.name}: {m.source}" for m in plan.margins) or "none",
        "sample": result.sample.note,
        "margin_assumption": margin_assumption,
        "warnings": "\n".join(result.warnings) or "none",
        "comparability": "\n".join(
            f"{i.id} [{i.series or 'no series'}]: {i.comparability or 'not stated'}"
            + (f" — {i.comparability_note}" if i.comparability_note else "")
            for i in plan.indicators
        ),
        **extra,
        "weighting": result.diagnostics,
        "recode_log": result.recode_log,
    }
    if result.sample.classes is not None:
        metadata["nonresponse"] = result.sample.classes
    for number, table in enumerate(result.margins, start=1):
        metadata[f"margins_{number}"] = table
    if result.set_aside is not None and len(result.set_aside):  # the submissions left out, by id and line
        metadata["set_aside"] = result.set_aside
    return metadata


def write_xlsx(table: pd.DataFrame, path: Path, metadata: dict[str, pd.DataFrame | str]) -> None:
    """Estimates on the first sheet; then a `metadata` sheet (key/value, text broken into lines) and one sheet
    per DataFrame in `metadata` (e.g. weighting diagnostics, margins)."""
    texts = {k: v for k, v in metadata.items() if isinstance(v, str)}
    texts.setdefault("written_at", datetime.now(UTC).isoformat(timespec="seconds"))
    rows = [(key, line) for key, text in texts.items() for line in (str(text).splitlines() or [""])]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="estimates", index=False)
        pd.DataFrame(rows, columns=["key", "value"]).to_excel(writer, sheet_name="metadata", index=False)
        for name, frame in metadata.items():
            if isinstance(frame, pd.DataFrame):
                frame.to_excel(writer, sheet_name=name[:31], index=False)


def plan_comparability(plan: Plan | None) -> dict[str, tuple[str, str]]:
    """Indicator id → (exact|comparable|local, note), as the plan's `comparability` keys say (absent: none)."""
    if plan is None:
        return {}
    return {
        i.id: (getattr(i, "comparability", "") or "", getattr(i, "comparability_note", "") or "")
        for i in plan.indicators
    }


# ---------------------------------------------------------------------------------------------------------
# microdata


def microdata_for_export(
    microdata: pd.DataFrame,
    fields: pd.DataFrame | None = None,
    *,
    keep: tuple[str, ...] = ("psu",),
    include_identifiers: bool = False,
) -> pd.DataFrame:
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
    numbers = pd.DataFrame({"respondent_id": np.arange(1, len(frame) + 1)}, index=frame.index)
    frame = pd.concat([numbers, frame], axis=1)  # one copy, where insert() warns on a frame of many blocks
    if "volunteer" in frame.columns:
        codes, _ = pd.factorize(frame["volunteer"], sort=True)
        frame["volunteer"] = np.where(codes >= 0, [f"V{c + 1:03d}" for c in codes], None)
    return frame.reset_index(drop=True)


def researcher_microdata(
    microdata: pd.DataFrame,
    fields: pd.DataFrame | None = None,
    choices: pd.DataFrame | None = None,
    *,
    keep: tuple[str, ...] = ("psu",),
    k: int = disclosure.K,
    seed: int | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The researcher download: no direct identifiers, disclosure control, select_multiple as 0/1 columns; with
    the metadata (key → text) that reports the control and its k-anonymity check."""
    dates = microdata[[c for c in disclosure.DATE_COLUMNS if c in microdata.columns]].reset_index(drop=True)
    frame = microdata_for_export(microdata, fields, keep=keep)
    frame = pd.concat([frame, dates.drop(columns=[c for c in dates.columns if c in frame.columns])], axis=1)
    integers = [] if fields is None else fields.loc[fields["type"] == "integer", "name"].tolist()
    frame, report = disclosure.control(frame, integer_columns=integers, k=k, seed=seed)
    return with_choice_columns(frame, fields, choices), {
        "microdata_level": "investigador / researcher",
        **report.as_metadata(),
    }


def full_microdata(
    microdata: pd.DataFrame, fields: pd.DataFrame | None = None, choices: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Everything, identifiers included: for admins who chose it explicitly (the caller logs the choice)."""
    frame = microdata_for_export(microdata, fields, include_identifiers=True)
    level = "completo, con identificadores: uso restringido / full detail with identifiers: restricted use"
    return with_choice_columns(frame, fields, choices), {"microdata_level": level}


def choice_columns(name: str, values: list[str], taken: frozenset[str] = frozenset()) -> dict[str, str]:
    """0/1 column names for a select_multiple: `name_choice`, or `name_1`… where a choice name would make one
    longer than 31 characters (what Stata 115 and SPSS both take), not a valid variable name, or the name of another field in
    `taken` (`main_problems_other` is the form's free-text "other" question)."""
    readable = {v: f"{name}_{v}" for v in values}
    if all(
        len(c) <= 31 and c.replace("_", "a").isalnum() and c.isascii() and c not in taken for c in readable.values()
    ):
        return readable
    return {v: f"{name}_{i}" for i, v in enumerate(values, start=1)}


def with_choice_columns(frame: pd.DataFrame, fields: pd.DataFrame | None, choices: pd.DataFrame | None) -> pd.DataFrame:
    """Each select_multiple answer also as one 0/1 column per choice (missing where the question was not asked),
    right after its space-separated text column."""
    if fields is None or choices is None:
        return frame
    multiple = fields.loc[fields["type"] == "select_multiple", "name"]
    taken = frozenset(fields["name"]) | frozenset(frame.columns)
    out = frame
    for name in [n for n in multiple if n in frame.columns]:
        values = choices.loc[choices["variable"] == name, "value"].astype(str).tolist()
        answered = out[name].notna() & (out[name].astype("string") != "")
        chosen = out[name].astype("string").fillna("").str.split()
        dummies = {
            column: np.where(answered, chosen.map(lambda c, v=value: float(v in c)), np.nan)
            for value, column in choice_columns(name, values, taken).items()
        }
        at = out.columns.get_loc(name) + 1
        out = pd.concat([out.iloc[:, :at], pd.DataFrame(dummies, index=out.index), out.iloc[:, at:]], axis=1)
    return out


def variable_labels(frame: pd.DataFrame, fields: pd.DataFrame | None, choices: pd.DataFrame | None) -> dict[str, str]:
    """A label for every column: the question's, `DERIVED_LABELS`, "question: choice" for 0/1 columns,
    replicate weights by number; the column name otherwise (Stata and SPSS show it)."""
    labels: dict[str, str] = {}
    if fields is not None:
        labels |= (
            fields.dropna(subset=["label"]).drop_duplicates("name").set_index("name")["label"].astype(str).to_dict()
        )
    labels |= DERIVED_LABELS
    if fields is not None and choices is not None:
        taken = frozenset(fields["name"])
        for name in fields.loc[fields["type"] == "select_multiple", "name"]:
            rows = choices[choices["variable"] == name]
            names = choice_columns(name, rows["value"].astype(str).tolist(), taken)
            for value, label in zip(rows["value"].astype(str), rows["label"].fillna("").astype(str)):
                labels[names[value]] = f"{labels.get(name, name)[:40]}: {label or value} (0/1)"
    for column in frame.columns:
        if column not in labels and column.startswith(REPLICATE_PREFIXES):
            labels[column] = f"Peso replicado / replicate weight ({column})"
    return {c: _fit(labels.get(c, c), 80) for c in frame.columns}


def _fit(text: str, size: int) -> str:
    """`text` cut to `size` bytes of UTF-8 (Stata's and SPSS's limit is in bytes), never inside a character."""
    return text.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def metadata_text(metadata: dict[str, str]) -> str:
    """The microdata's metadata as a Markdown note written beside the file (the disclosure report)."""
    lines = ["# Microdatos ODS 16 / SDG 16 microdata", ""]
    for key, value in metadata.items():
        lines += [f"## {key}", "", *str(value).splitlines(), ""]
    return "\n".join(lines)


def write_microdata(
    frame: pd.DataFrame,
    path: str | Path,
    choices: pd.DataFrame | None = None,
    fields: pd.DataFrame | None = None,
    file_label: str = "",
) -> Path:
    """CSV, Stata .dta (format 115) or SPSS .sav by suffix. For .dta/.sav, select_one answers become integer
    codes (the order of the form's choices) with the choice labels as value labels, and every variable gets a
    label (`variable_labels`); select_multiple answers stay space-separated text beside their 0/1 columns. CSV
    keeps the choice names."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
        return path
    if suffix not in (".dta", ".sav"):
        raise AnalysisError(f"cannot write microdata to '{path.name}': use .csv, .dta or .sav")
    coded, value_labels = _coded(frame, choices)
    if suffix == ".dta":
        coded, value_labels = _stata_label_sets(coded, frame, value_labels)
    too_long = [c for c in coded.columns if len(c) > (31 if suffix == ".dta" else 64)]
    if too_long:
        raise AnalysisError(
            f"variable name(s) too long for {suffix}: {', '.join(too_long)} (Stata 115 takes 31 characters, SPSS "
            "64); rename them or export CSV"
        )
    # Stata 115 keeps 80 bytes of a variable label, SPSS 256: longer ones (bilingual question texts) are cut.
    size = 80 if suffix == ".dta" else 256
    column_labels = {name: _fit(label, size) for name, label in variable_labels(coded, fields, choices).items()}
    if suffix == ".sav":
        pyreadstat.write_sav(
            coded,
            str(path),
            column_labels=column_labels,
            variable_value_labels=value_labels,
            file_label=_fit(file_label, 64),
        )
    else:
        pyreadstat.write_dta(
            coded,
            str(path),
            column_labels=column_labels,
            variable_value_labels=value_labels,
            version=STATA_VERSION,
            file_label=_fit(file_label, 80),
        )
    return path


def _stata_label_sets(coded: pd.DataFrame, frame: pd.DataFrame, value_labels: dict) -> tuple[pd.DataFrame, dict]:
    """pyreadstat names the label set of the k-th labelled variable `name` + `k`, and Stata 115 takes 32 bytes for
    that name: a variable whose set name would be longer (a 30-character name past the 99th labelled variable) keeps
    its choice names as text in the .dta, so the file is still written and nothing is lost (Stata's `encode` makes
    codes of them). Which variables keep text depends on the order, as pyreadstat counts in column order.
    `coded` is `_coded`'s own copy, changed in place."""
    kept, count = {}, 0
    for column in coded.columns:
        if column not in value_labels:
            continue
        if len(column.encode("utf-8")) + len(str(count)) > STATA_NAME_BYTES:
            coded[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
            continue
        kept[column] = value_labels[column]
        count += 1
    return coded, kept


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
                out[column] = numbers.astype("float64")  # integer questions arrive as text
            else:
                out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    return out, value_labels
