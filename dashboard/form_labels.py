"""The questionnaire's own words for a submission: question, group and choice labels in the reader's language.

A coordinator reviewing an interview reads "¿Qué tan seguro se siente…? — Seguro", not `safe_after_dark = safe`.
The labels come from the XLSForm (parsed by pyxform, as forms/codebook.py does) in the language whose code matches
the dashboard's (`Español (es)` for `es`), falling back to the form's default language; neighbourhood labels come
from the form's neighbourhood list (data/neighbourhoods.csv). Parsed once per form file and language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from pyxform.xls2json import parse_file_to_json

SKIPPED = {"note", "start", "end", "today", "deviceid", "username", "audit", "calculate"}


@dataclass(frozen=True)
class Question:
    field: str
    group: str  # the enclosing group's label ("" at the top level)
    label: str


@dataclass(frozen=True)
class FormLabels:
    questions: tuple[Question, ...]  # in form order
    choices: dict[str, dict[str, str]]  # field -> choice name -> label

    def answer(self, field: str, value: object) -> str:
        """A stored value in words: choice labels (space-separated for select_multiple), else the value."""
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        names = self.choices.get(field)
        if not names:
            return str(value)
        return ", ".join(names.get(part, part) for part in str(value).split())


@st.cache_resource(show_spinner=False)
def form_labels(xlsform: str, language: str, neighbourhoods: tuple[tuple[str, str], ...] = ()) -> FormLabels:
    """Labels of the XLSForm at `xlsform` in `language` (an i18n code); `neighbourhoods` = (name, label) pairs."""
    survey = parse_file_to_json(str(Path(xlsform)))
    chosen = _language(survey, language)
    questions: list[Question] = []
    choices: dict[str, dict[str, str]] = {}
    _walk(survey, "", chosen, questions, choices)
    if neighbourhoods:
        choices["neighbourhood"] = dict(neighbourhoods)
    return FormLabels(tuple(questions), choices)


def _language(survey: dict, code: str) -> str:
    found = set()

    def collect(element: dict) -> None:
        if isinstance(element.get("label"), dict):
            found.update(element["label"])
        for child in element.get("children", []):
            collect(child)

    collect(survey)
    for name in found:
        if re.search(rf"\({re.escape(code)}\)\s*$", name):
            return name
    return survey.get("default_language", "default")


def _text(label: object, language: str) -> str:
    if isinstance(label, dict):
        return label.get(language) or next(iter(label.values()), "")
    return str(label or "")


def _walk(element: dict, group: str, language: str, questions: list, choices: dict) -> None:
    for child in element.get("children", []):
        if child["type"] in ("group", "repeat"):
            _walk(child, _text(child.get("label"), language) or group, language, questions, choices)
        elif child["type"] not in SKIPPED and child.get("name"):
            questions.append(Question(child["name"], group, _text(child.get("label"), language) or child["name"]))
            if child.get("choices"):
                choices[child["name"]] = {c["name"]: _text(c.get("label"), language) for c in child["choices"]}
