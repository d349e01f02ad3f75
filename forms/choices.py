"""Choice lists and field types of an XLSForm, read with pandas from its `survey` and `choices` sheets.

Why in `forms/`: they describe the questionnaire, and several readers need them (the analysis plan's checks of
`success` values, microdata labels, the dashboard's downloads). Each workbook is read once per process while it
is unchanged (cached by path, modification time and size): `pd.read_excel` of the shipped form costs a few
hundred milliseconds, which every run and every download paid before. Callers get copies, so the cache cannot be
changed from outside.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd


def _stamp(xlsx: str | Path) -> tuple[str, int, int]:
    """The cache key: a workbook replaced in place (same path) is read again."""
    path = Path(xlsx).resolve()
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def read_form_choices(xlsx: str | Path) -> pd.DataFrame:
    """(variable, value, label) for every select question of an XLSForm (no pyxform needed).

    Used to check `success` values and to label exported microdata. The label is the first `label` column
    (e.g. `label::Español (es)`); select_one_from_file questions have no choices sheet entry and are skipped.
    """
    return _choices(*_stamp(xlsx)).copy()


def read_form_fields(xlsx: str | Path) -> pd.DataFrame:
    """(name, type, label) of every question of an XLSForm's survey sheet: types say which fields are free text,
    GPS or device identifiers (left out of exported microdata), labels become variable labels."""
    return _fields(*_stamp(xlsx)).copy()


@lru_cache(maxsize=8)
def _choices(path: str, _mtime: int, _size: int) -> pd.DataFrame:
    survey = pd.read_excel(path, sheet_name="survey", dtype=str)
    choices = pd.read_excel(path, sheet_name="choices", dtype=str)
    label = next((c for c in choices.columns if c.split("::")[0].strip() == "label"), None)
    choices = choices.dropna(subset=["list_name", "name"])
    choices = choices.assign(label=choices[label] if label else choices["name"])[["list_name", "name", "label"]]
    kinds = survey.dropna(subset=["type", "name"])["type"].str.strip().str.split(r"\s+", n=1, expand=True)
    selects = survey.dropna(subset=["type", "name"]).assign(kind=kinds[0], list_name=kinds.get(1))
    selects = selects[selects["kind"].isin(["select_one", "select_multiple"])]
    merged = selects[["name", "list_name"]].merge(choices, on="list_name", suffixes=("_q", ""))
    return merged.rename(columns={"name_q": "variable", "name": "value"})[["variable", "value", "label"]].reset_index(
        drop=True
    )


@lru_cache(maxsize=8)
def _fields(path: str, _mtime: int, _size: int) -> pd.DataFrame:
    survey = pd.read_excel(path, sheet_name="survey", dtype=str).dropna(subset=["type", "name"])
    label = next((c for c in survey.columns if c.split("::")[0].strip() == "label"), None)
    kind = survey["type"].str.strip().str.split(r"\s+", n=1).str[0]
    return pd.DataFrame(
        {"name": survey["name"].str.strip(), "type": kind, "label": survey[label] if label else survey["name"]}
    ).reset_index(drop=True)
