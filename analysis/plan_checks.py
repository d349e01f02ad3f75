"""A plan checked against the recoded responses: what only the data can contradict.

Why apart from the plan model: `analysis.plan.load_plan` checks a plan file on its own (keys, types, methods,
margin files) and needs no data; these checks need the recoded respondents and, when the plan names an XLSForm,
its choice lists: columns the plan uses, `success`/`exclude` values that are not choices (or labels written
instead of choice names) or cannot match the column's type. Errors raise one PlanError listing all; what only
looks odd is returned as warnings. Respondents outside every margin cell are not an error of the plan: they are
found here (`outside_margins`) and set aside by the pipeline, named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.plan import Indicator, Plan, PlanError, as_number, matches


def check_against_data(plan: Plan, data: pd.DataFrame, choices: pd.DataFrame | None = None) -> list[str]:
    """Raise PlanError for what the data contradicts; return warnings for what only looks odd.

    `choices` (columns variable, value[, label], e.g. from `read_form_choices` plus recode's derived choices) is
    the authority for success/exclude values: a value not among the variable's choices is an error. Without it,
    the observed values are used: a value matching an observed one only after normalising case, spaces and
    apostrophes is an error (a label written instead of a choice name, e.g. "very safe" for very_safe); any other
    unobserved value is a warning, since a small sample may simply not contain it.
    """
    if data.empty:
        raise PlanError(["the data has no eligible respondents (empty after recode)"], source="data")
    problems: list[str] = []
    warnings: list[str] = []
    missing = sorted(plan.required_columns() - set(data.columns))
    problems += [f"column '{c}' used by the plan is not in the data" for c in missing]
    by_variable = _choice_sets(choices)
    observed: dict[tuple[str, bool], set] = {}
    for ind in plan.indicators:
        if ind.variable and ind.variable in data.columns:
            key = (ind.variable, ind.multiple)
            allowed = by_variable.get(ind.variable)
            numbers = any(not isinstance(v, str) for v in (*ind.success, *ind.exclude))
            needed = allowed is None or numbers or ind.statistic != "proportion"
            if needed and key not in observed:  # only when needed: ≈ 0.4 s at 1M rows (cProfile)
                observed[key] = _observed(data[ind.variable], ind.multiple)
            if ind.statistic != "proportion":
                problems += _check_numeric(ind, data[ind.variable], observed[key])
                continue
            p, w = _check_values_of(ind, observed.get(key, set()), allowed, data[ind.variable])
            problems += p
            warnings += w
    if problems:
        raise PlanError(problems, source=str(plan.path) if plan.path else "analysis plan")
    return warnings


def _choice_sets(choices: pd.DataFrame | None) -> dict[str, set[str]]:
    if choices is None or choices.empty:
        return {}
    return {v: set(g["value"].astype(str)) for v, g in choices.groupby("variable")}


def _observed(column: pd.Series, multiple: bool) -> set:
    """The distinct answers, as the column holds them (text, or numbers in a numeric column)."""
    values = [v for v in column.unique() if not pd.isna(v)]  # not dropna(): that copies 1M strings first
    return {token for v in values for token in str(v).split()} if multiple else set(values)


def _check_numeric(ind: Indicator, column: pd.Series, observed: set) -> list[str]:
    """A mean or total needs numbers; text that is no number is named (after the `exclude` codes)."""
    odd = [v for v in observed if as_number(v) is None and not matches([v], ind.exclude)[0]]
    if not odd:
        return []
    return [
        f"indicator {ind.id}: statistic = '{ind.statistic}' needs numbers, but {ind.variable} holds "
        f"{', '.join(repr(v) for v in sorted(map(str, odd))[:5])} (list such codes in 'exclude')"
    ]


def _check_values_of(
    ind: Indicator, observed: set, allowed: set[str] | None, column: pd.Series
) -> tuple[list[str], list[str]]:
    where = f"indicator {ind.id}"
    problems, warnings = [], []
    numeric = pd.api.types.is_numeric_dtype(column)
    holds_numbers = numeric or any(as_number(o) is not None for o in observed)
    for kind, values in (("success", ind.success), ("exclude", ind.exclude)):
        for value in values:
            if isinstance(value, str) and numeric and as_number(value) is None:
                problems.append(
                    f"{where}: {kind} value '{value}' cannot match {ind.variable}, which holds numbers "
                    f"(write the numeric code, e.g. {kind} = [1])"
                )
            elif not isinstance(value, str) and not holds_numbers:
                example = next(iter(sorted(map(str, observed))), "")
                problems.append(
                    f"{where}: {kind} value {value!r} cannot match {ind.variable}, which holds text "
                    f"such as '{example}' (write the choice name in quotes)"
                )
            elif not isinstance(value, str) or numeric:
                if observed and not matches(list(observed), [value]).any():
                    warnings.append(f"{where}: {kind} value {value!r} of {ind.variable} does not occur in the data")
            elif allowed is not None:
                if value not in allowed:
                    problems.append(
                        f"{where}: {kind} value '{value}' is not a choice of {ind.variable} "
                        f"(choices: {', '.join(sorted(allowed))})"
                    )
            elif value not in observed:
                near = [o for o in map(str, observed) if _normalise(o) == _normalise(value)]
                if near:
                    problems.append(
                        f"{where}: {kind} value '{value}' is not a value of {ind.variable}; did you mean "
                        f"'{near[0]}'? (plans use choice names, not labels)"
                    )
                else:
                    warnings.append(f"{where}: {kind} value '{value}' of {ind.variable} does not occur in the data")
    return problems, warnings


def _normalise(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def outside_margins(plan: Plan, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Respondents raking has no target for: a margin variable missing, or a value the margin file has no
    population for (a new neighbourhood code, a sex answer the margins do not have). They are set aside by the
    pipeline with a warning naming them, so one odd submission does not stop every estimate; returns the mask
    and, per margin variable, why ("sex = 'other' (2)")."""
    aside = np.zeros(len(data), dtype=bool)
    reasons = []
    for margin in plan.margins:
        if not set(margin.columns) <= set(data.columns):
            continue
        for column in margin.columns:
            values = data[column].astype(object)
            known = set(margin.table[column])
            bad = values.isna().to_numpy() | ~values.astype(str).isin(known).to_numpy()
            if bad.any():
                counts = values[bad].fillna("(sin dato / missing)").astype(str).value_counts()
                listed = ", ".join(f"'{v}' ({n})" for v, n in counts.head(5).items())
                reasons.append(f"{column} = {listed}, not in {margin.file.name}")
                aside |= bad
    return aside, reasons
