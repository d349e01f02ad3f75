"""The codebook: one row per data field of an XLSForm, for researchers who never open the spreadsheet.

It is read from pyxform's parse of the xlsx (not from the sheet cells), so it describes exactly the form that
phones run: groups resolved, translations by language, choice lists attached to their questions.

Which SDG indicator a field feeds lives in the XLSForm itself, in two extra survey-sheet columns: `sdg_indicator`
(the indicator code, e.g. `16.3.1`) and `analysis_role` (what the field is for it or for the design: `indicator`,
`base`, `attribute`, `competent authority`, `disaggregation: sex`, `design (PSU)`, ...).
pyxform passes unknown columns through to its parse and leaves them out of the XForm, and KoboToolbox and ODK
Central ignore them too, so the mapping sits beside each question, where a coordinator editing the form in Excel
sees it and keeps it up to date, instead of in a second list that would drift from the form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from pyxform.xls2json import parse_file_to_json

# pyxform's parse names select types in words; the codebook shows the XLSForm spelling people write.
XLSFORM_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
NOT_DATA = {"note"}  # notes store nothing worth describing


def codebook_frame(xlsx_path: Path) -> pd.DataFrame:
    """One row per field: field, type, group, label/hint per language, choices, relevance, constraint, calculation,
    indicator, role.

    `relevant` is the field's own condition; `relevant_in_context` joins it with every enclosing group's, i.e.
    who is actually asked (e.g. a reporting question is also behind the consent and age gates).
    """
    survey = parse_file_to_json(str(xlsx_path))
    languages = _languages(survey)
    rows = [_row(element, groups, conditions, languages) for element, groups, conditions in _fields(survey)]
    return pd.DataFrame(rows)


def write_codebook(xlsx_path: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write `<form>.codebook.csv` and `<form>.codebook.md` into `out_dir`; returns both paths."""
    xlsx_path, out_dir = Path(xlsx_path), Path(out_dir)
    frame = codebook_frame(xlsx_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{xlsx_path.stem}.codebook.csv"
    md_path = out_dir / f"{xlsx_path.stem}.codebook.md"
    frame.to_csv(csv_path, index=False, encoding="utf-8")
    md_path.write_text(to_markdown(frame, title=f"Codebook: {xlsx_path.name}"), encoding="utf-8")
    return csv_path, md_path


def to_markdown(frame: pd.DataFrame, title: str) -> str:
    """Markdown codebook: the fields behind each SDG indicator first, then the full field table."""
    lines = [f"# {title}", "", "## Fields by SDG indicator", ""]
    for indicator, group in frame[frame["sdg_indicator"] != ""].groupby("sdg_indicator", sort=True):
        fields = [f"`{f}` ({role})" if role else f"`{f}`" for f, role in zip(group["field"], group["analysis_role"])]
        lines.append(f"- **{indicator}**: " + ", ".join(fields))
    lines += ["", "## Fields", "", _md_table(frame), ""]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    """A pipe table; DataFrame.to_markdown would need `tabulate`, a dependency for a dozen lines."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", "<br>")

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _fields(element: dict, groups: tuple[str, ...] = (), conditions: tuple[str, ...] = ()):
    """Yield (field, enclosing group names, enclosing relevance conditions) in form order."""
    for child in element.get("children", []):
        relevant = child.get("bind", {}).get("relevant", "")
        if child["type"] in ("group", "repeat"):
            yield from _fields(child, groups + (child["name"],), conditions + ((relevant,) if relevant else ()))
        elif child["type"] not in NOT_DATA:
            yield child, groups, conditions


def _languages(survey: dict) -> list[str]:
    """The form's languages, default first (pyxform keys translated text by language name)."""
    found: list[str] = []

    def collect(element: dict) -> None:
        for key in ("label", "hint"):
            if isinstance(element.get(key), dict):
                found.extend(lang for lang in element[key] if lang not in found)
        for child in element.get("children", []):
            collect(child)

    collect(survey)
    default = survey.get("default_language", "default")
    return sorted(found, key=lambda lang: lang != default) or [default]


def _text(value: object, language: str) -> str:
    if isinstance(value, dict):
        return value.get(language, "")
    return str(value or "")


def _suffix(language: str) -> str:
    """`Español (es)` → `es`, so columns read `label_es`; a language without a code keeps its name."""
    code = re.search(r"\((\w+)\)\s*$", language)
    return code.group(1) if code else language


def _row(element: dict, groups: tuple[str, ...], conditions: tuple[str, ...], languages: list[str]) -> dict:
    bind = element.get("bind", {})
    relevant = bind.get("relevant", "")
    in_context = [*conditions, relevant] if relevant else list(conditions)
    row = {
        "field": element["name"],
        "type": _xlsform_type(element),
        "group": "/".join(groups),
    }
    for language in languages:
        row[f"label_{_suffix(language)}"] = _text(element.get("label"), language)
    for language in languages:
        row[f"hint_{_suffix(language)}"] = _text(element.get("hint"), language)
    row["choices"] = _choices(element, languages)
    row["required"] = "yes" if str(bind.get("required", "")).lower() in ("yes", "true", "true()") else ""
    row["relevant"] = relevant
    row["relevant_in_context"] = " and ".join(f"({c})" for c in in_context) if len(in_context) > 1 else relevant
    row["constraint"] = bind.get("constraint", "")
    row["calculation"] = bind.get("calculate", "")  # e.g. the disposition code, the v1 names v2 computes
    row["sdg_indicator"] = element.get("sdg_indicator", "")
    row["analysis_role"] = element.get("analysis_role", "")
    return row


def _xlsform_type(element: dict) -> str:
    kind = XLSFORM_TYPES.get(element["type"], element["type"])
    itemset = element.get("itemset", "")
    if itemset.endswith((".csv", ".xml", ".geojson")):
        return f"{kind}_from_file {itemset}"
    return f"{kind} {element['list_name']}" if element.get("list_name") else kind


def _choices(element: dict, languages: list[str]) -> str:
    """`name = label / label` per choice; a list read from a file names the file and its filter instead."""
    if element.get("choices"):
        return "; ".join(
            f"{c['name']} = " + " / ".join(_text(c.get("label"), lang) for lang in languages)
            for c in element["choices"]
        )
    itemset = element.get("itemset", "")
    if itemset and "." in itemset:
        condition = element.get("choice_filter")
        return f"from {itemset}" + (f" where {condition}" if condition else "")
    return ""
