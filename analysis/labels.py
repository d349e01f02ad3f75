"""The plan's indicator names and notes in another language than the plan's English.

They live beside the plan, in `<plan>.<language>.toml` (e.g. plans/sdg16.es.toml: `[indicator."16.1.4"]` with
`name` and `note`), so that the plan stays one file of statistics and its translations can be edited by a
translator without touching it. English (or a missing entry) gives the plan's own text. No Streamlit here: the
dashboard, the methods note and the exports all read the same names.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from analysis.plan import Indicator, Plan


@cache
def _texts(plan_path: Path, language: str) -> dict[str, dict[str, str]]:
    path = plan_path.with_suffix(f".{language}.toml")
    if not path.exists():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8")).get("indicator", {})


def indicator_text(plan: Plan, indicator: Indicator, language: str, key: str = "name") -> str:
    """`key` ("name" or "note") of `indicator` in `language`, falling back to the plan's English."""
    english = getattr(indicator, key)
    if plan.path is None or not english:
        return english
    return _texts(Path(plan.path), language).get(indicator.id, {}).get(key, english)


def missing(plan: Plan, language: str) -> list[str]:
    """Ids of the plan's indicators whose name (or note, when the plan has one) has no `language` text."""
    texts = _texts(Path(plan.path), language) if plan.path else {}
    return [
        i.id
        for i in plan.indicators
        if "name" not in texts.get(i.id, {}) or (i.note and "note" not in texts.get(i.id, {}))
    ]
