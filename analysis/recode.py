"""Submissions → analysis variables: who is eligible, typed ages, groups, flags, design weight, derived answers.

Input is the store's frame (CONTRACT.md "Store → analysis frame": every answer a string, select_multiple
space-separated, missing = NaN). Output keeps every original column and adds the analysis variables. Rows are
dropped only for eligibility (rejected, no consent, under age, unusable age): every eligible respondent stays,
so that weights are computed on all of them and each indicator's base is a domain of that one design (as R's
`subset()` after `rake()`), never a frame with rows dropped before weighting.

Don't know / refused stay as categories here; the plan decides per indicator whether they leave the base
(and are then counted in `n_excluded`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.domains import by_unique, selected_any
from analysis.errors import AnalysisError
from analysis.margins import AGE_GROUPS
from analysis.plan import RecodeSpec

DK, RF = "dont_know", "refused"
WG_DOMAINS = ("wg_seeing", "wg_hearing", "wg_walking", "wg_remembering", "wg_selfcare", "wg_communicating")
WG_DISABLED = ("a_lot_of_difficulty", "cannot_do_at_all")
WG_NOT_DISABLED = ("no_difficulty", "some_difficulty")
VIOLENCE_TYPES = ("physical", "sexual", "robbery", "psychological")
COMPETENT_AUTHORITIES = ("police", "prosecutor", "judiciary", "cem", "linea_100", "demuna")
SELF_EXCLUDED = ("not_needed", "resolved_directly")
DERIVED_SOURCES = {  # derived variable → the questions it is made from (made only when all are present)
    "safe_after_dark": ("feels_safe_after_dark", "would_feel_safe_after_dark"),
    "bribe_asked_or_paid": ("bribe_asked_12m", "bribe_paid_12m"),
    **{f"competent_report_{k}": (f"reported_{k}", f"reported_to_{k}") for k in VIOLENCE_TYPES},
    "dispute_access": ("dispute_2y", "dispute_mechanisms", "dispute_no_mechanism_reason"),
    "discriminated_12m": ("discrimination_5y", "discrimination_12m"),
}


@dataclass(frozen=True)
class Recoded:
    """The eligible respondents with analysis variables, and how many rows each eligibility rule removed."""

    data: pd.DataFrame
    log: pd.DataFrame
    eligible: np.ndarray  # per submission row: kept (row i of `data` is the i-th True)


def recode(submissions: pd.DataFrame, spec: RecodeSpec = RecodeSpec(), columns: set[str] | None = None) -> Recoded:
    """Filter to eligible adults and add age groups, disability, design weight and derived indicator variables.

    `columns` limits the submission columns carried into `data` (default: all); the ones recode itself reads are
    always carried. Filtering rows copies every carried column, and at 1M submissions that copy of the form's 89
    text columns took 1–3 s of the pipeline's time (benchmarks/analysis.md), so the pipeline carries only what
    its plan reads and filters the rest when the microdata is asked for.
    """
    steps = [("submissions", len(submissions))]
    keep = np.ones(len(submissions), dtype=bool)  # one row filter at the end: each filter copies every column
    if "review_state" in submissions.columns:
        keep &= (submissions["review_state"] != "rejected").to_numpy(dtype=bool, na_value=True)
        steps.append(("after removing rejected submissions", int(keep.sum())))
    if spec.consent:
        _require(submissions, spec.consent)
        keep &= (submissions[spec.consent] == "yes").to_numpy(dtype=bool, na_value=False)
        steps.append((f"after keeping {spec.consent} = yes", int(keep.sum())))
    if spec.age:
        _require(submissions, spec.age)
        age = pd.to_numeric(submissions[spec.age], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            keep &= (age >= spec.min_age) & (age <= 120)
        steps.append((f"after keeping {spec.min_age} <= {spec.age} <= 120", int(keep.sum())))
    if columns is not None:
        carried = set(columns) | _recode_inputs(spec)
        submissions = submissions[[c for c in submissions.columns if c in carried]]
    frame = submissions[keep]
    if spec.age:
        frame = frame.assign(**{spec.age: age[keep].astype("int64")})
    frame = frame.reset_index(drop=True)  # a new frame: the caller's submissions are never modified below
    if spec.age:
        frame["age_group"] = age_groups(frame[spec.age])
        frame["youth"] = np.where(frame[spec.age] <= 29, "18-29", "30+")
    if all(c in frame.columns for c in WG_DOMAINS):
        frame["disability"] = washington_group(frame[list(WG_DOMAINS)])
    if spec.household_adults:
        _require(frame, spec.household_adults)
        frame["design_weight"] = household_weight(frame[spec.household_adults])
    for name, column in derived_columns(frame).items():
        frame[name] = column
    return Recoded(data=frame, log=pd.DataFrame(steps, columns=["step", "rows"]), eligible=keep)


def _recode_inputs(spec: RecodeSpec) -> set[str]:
    inputs = {spec.consent, spec.age, spec.household_adults, *WG_DOMAINS}
    return inputs.union(*DERIVED_SOURCES.values()) - {""}


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise AnalysisError(f"recode needs the column '{column}' (set it in the plan's [recode] section, or \"\" "
                            f"to skip that step)")


def age_groups(age: pd.Series) -> pd.Series:
    """The SDG 16.7.2 age bands for adults: 18-24 (the '<25' band), 25-34, 35-44, 45-54, 55-64, 65+."""
    bins = [-np.inf, 24, 34, 44, 54, 64, np.inf]
    return pd.cut(age, bins=bins, labels=list(AGE_GROUPS)).astype(object)


def washington_group(domains: pd.DataFrame) -> pd.Series:
    """WG Short Set disability status: 'yes' if any domain is a lot of difficulty or cannot do at all.

    Honest about gaps: 'no' only when all six domains were answered without reaching that level; otherwise
    (a don't know, a refusal or a missing domain and no disabling answer) 'unknown' — never silently 'no'.
    """
    disabled = domains.isin(WG_DISABLED).any(axis=1)
    all_answered = domains.isin(WG_NOT_DISABLED + WG_DISABLED).all(axis=1)
    return pd.Series(np.select([disabled, all_answered], ["yes", "no"], "unknown"), index=domains.index)


def household_weight(adults: pd.Series) -> pd.Series:
    """Design weight for one adult chosen per household: the inverse selection probability, i.e. the adult count.

    A missing or invalid count cannot be guessed from the answer: it gets weight 1 (the most common household
    size would do no better), and the number of such rows is visible via `household_adults` being NaN.
    """
    count = pd.to_numeric(adults, errors="coerce")
    return count.where(count >= 1).fillna(1.0).astype("float64")


def derived_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The derived indicator variables whose source questions are present (names in `derived_choices`)."""
    out = {}
    present = {name for name, sources in DERIVED_SOURCES.items() if set(sources) <= set(frame.columns)}
    if "safe_after_dark" in present:
        never = frame["feels_safe_after_dark"] == "never_alone_after_dark"
        out["safe_after_dark"] = frame["feels_safe_after_dark"].where(~never, frame["would_feel_safe_after_dark"])
    if "bribe_asked_or_paid" in present:
        out["bribe_asked_or_paid"] = any_yes(frame[["bribe_asked_12m", "bribe_paid_12m"]])
    for kind in VIOLENCE_TYPES:
        if f"competent_report_{kind}" in present:
            out[f"competent_report_{kind}"] = competent_report(frame[f"reported_{kind}"],
                                                                   frame[f"reported_to_{kind}"])
    if "dispute_access" in present:
        out["dispute_access"] = dispute_access(frame["dispute_2y"], frame["dispute_mechanisms"],
                                               frame["dispute_no_mechanism_reason"])
    if "discriminated_12m" in present:
        out["discriminated_12m"] = discriminated_12m(frame["discrimination_5y"], frame["discrimination_12m"])
    return out


def any_yes(answers: pd.DataFrame) -> pd.Series:
    """yes_no_dk_rf answers combined with OR: yes if any yes; no if all no; else the DK/RF that blocks a 'no'.

    16.5.1 counts "asked for OR paid a bribe": a 'no' to one and 'don't know' to the other is not a 'no'.
    """
    yes = (answers == "yes").any(axis=1)
    no = (answers == "no").all(axis=1)
    refused = (answers == RF).any(axis=1)
    dk = (answers == DK).any(axis=1)
    return _choose([yes, no, refused, dk], ["yes", "no", RF, DK], answers.index)


def competent_report(reported: pd.Series, reported_to: pd.Series) -> pd.Series:
    """16.3.1: the most recent incident reported to a competent authority (serenazgo and 'other' are not).

    Not reported, or reported only to non-competent bodies → 'no'; DK/RF pass through; 'yes' with no
    authority recorded stays missing (unknown) rather than being guessed.
    """
    competent = selected_any(reported_to, COMPETENT_AUTHORITIES)
    said_yes = reported == "yes"
    return _choose([said_yes & (competent == True), said_yes & (competent == False), reported == "no",  # noqa: E712
                    reported == DK, reported == RF], ["yes", "no", "no", DK, RF], reported.index)


def dispute_access(dispute: pd.Series, mechanisms: pd.Series, reason: pd.Series) -> pd.Series:
    """16.3.3: 'yes' used any mechanism; 'self_excluded' did not need one (not needed / resolved directly);
    'no' otherwise (including an unknown reason: not voluntary as far as we know). Only for people with a dispute.
    """
    used = by_unique(mechanisms, lambda answer: bool(set(answer.split()) - {"none"}))
    had = dispute == "yes"
    return _choose([had & (used == True), had & (used == False) & reason.isin(SELF_EXCLUDED),  # noqa: E712
                    had & (used == False)], ["yes", "self_excluded", "no"], dispute.index)  # noqa: E712


def discriminated_12m(five_years: pd.Series, twelve_months: pd.Series) -> pd.Series:
    """16.b.1 for everyone: the 12-month question is only asked after a 'yes' for 5 years, so a 'no' for 5 years
    is a 'no' for 12 months; DK/RF on either question stays DK/RF."""
    # whole-column where/mask, not np.select on text: 0.23 s → 0.07 s at 1M rows (measured for this change)
    result = twelve_months.where(five_years == "yes")
    result = result.mask(five_years.isin([DK, RF]), five_years).mask(five_years == "no", "no")
    return result.replace("", np.nan)


def _choose(conditions: list, labels: list[str], index: pd.Index) -> pd.Series:
    """Per row, the label of the first condition that holds; missing where none does.

    Selects codes and then picks the text by code: at 1M rows that is ~0.02 s per column where selecting the
    strings themselves (np.select on text, then a text column) took ~0.13 s (measured for benchmarks/analysis.md).
    """
    codes = np.select(conditions, np.arange(len(labels)), -1)
    return pd.Series(pd.array(labels, dtype="str").take(codes, allow_fill=True), index=index)


def derived_choices() -> pd.DataFrame:
    """(variable, value, label) for the variables made here, so plans can be checked and microdata labelled."""
    rows = [("safe_after_dark", v, v.replace("_", " ")) for v in
            ("very_safe", "safe", "unsafe", "very_unsafe", DK, RF)]
    rows += [("bribe_asked_or_paid", v, v.replace("_", " ")) for v in ("yes", "no", DK, RF)]
    rows += [(f"competent_report_{k}", v, v.replace("_", " ")) for k in VIOLENCE_TYPES for v in ("yes", "no", DK, RF)]
    rows += [("dispute_access", v, v.replace("_", " ")) for v in ("yes", "no", "self_excluded")]
    rows += [("discriminated_12m", v, v.replace("_", " ")) for v in ("yes", "no", DK, RF)]
    rows += [("age_group", g, g) for g in AGE_GROUPS]
    rows += [("youth", "18-29", "18-29"), ("youth", "30+", "30+")]
    rows += [("disability", v, v) for v in ("yes", "no", "unknown")]
    return pd.DataFrame(rows, columns=["variable", "value", "label"])
