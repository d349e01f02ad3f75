"""Submissions → analysis variables: who is eligible, typed ages, groups, flags, design weight, derived answers.

Every step is one the plan's `[recode]` declares (a plan that declares none applies none: a CSV of another
questionnaire is never filtered or recoded by defaults meant for this one). The derived-variable steps
(`DERIVE_STEPS`) are the shipped questionnaire's: they read the v2 questions where a submission has them and the v1
question otherwise (`_first_answered`), so one plan analyses both versions; which bodies count as competent
authorities (16.3.1) and which mechanisms are formal or informal (16.3.3) come from the plan, not from here.

Input is the store's frame (docs/DESIGN.md, "Store → analysis frame": every answer a string, select_multiple
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

from analysis.domains import selected_any
from analysis.errors import AnalysisError
from analysis.margins import AGE_GROUPS
from analysis.plan import RecodeSpec

DK, RF = "dont_know", "refused"
SKIPPED = "module_skipped"  # the privacy check skipped the self-completed module: not asked, counted apart
WG_DISABLED = ("a_lot_of_difficulty", "cannot_do_at_all")
WG_NOT_DISABLED = ("no_difficulty", "some_difficulty")
VIOLENCE_TYPES = ("physical", "sexual", "robbery", "psychological")  # the reporting questions (reported_<type>)
GROUNDS = (
    "sex",
    "age",
    "disability",
    "ethnicity",
    "migration",
    "socioeconomic",
    "residence",
    "religion",
    "marital",
    "sexual_orientation",
    "political",
    "other",
)
SELF_EXCLUDED = ("not_needed", "resolved_directly")
# v2 batteries (any yes = yes) and the v1 single question each falls back to, per derived violence variable
BATTERIES = {
    "assault": (("assault_hit_12m", "assault_weapon_12m", "assault_threat_weapon_12m"), "victim_physical_12m"),
    "robbery": (("robbery_force_12m",), "victim_robbery_12m"),
    "psychological": (("threat_12m", "harassment_12m"), "victim_psychological_12m"),
    "sexual": (("sexual_touching_12m", "sexual_forced_12m", "sexual_incapacitated_12m"), "victim_sexual_12m"),
}
# the derived variables' reporting question is asked of the victims of: physical → assault (VC_PRR_PHYV)
REPORT_DOMAIN = {"physical": "assault", "robbery": "robbery", "sexual": "sexual", "psychological": "psychological"}
PRIVATE = ("alone", "others_left")  # privacy_check answers with which the violence module was asked


@dataclass(frozen=True)
class Recoded:
    """The eligible respondents with analysis variables, and how many rows each eligibility rule removed."""

    data: pd.DataFrame
    log: pd.DataFrame
    eligible: np.ndarray  # per submission row: kept (row i of `data` is the i-th True)


def recode(submissions: pd.DataFrame, spec: RecodeSpec = RecodeSpec(), columns: set[str] | None = None) -> Recoded:
    """Apply the plan's declared steps: eligibility, age groups, disability, design weight, derived variables.

    A plan that declares no step gets the submissions as they are (only review rejections removed): nothing here
    is a default that a CSV from another questionnaire would have to switch off.
    `columns` limits the submission columns carried into `data` (default: all); the ones recode itself reads are
    always carried. Filtering rows copies every carried column, and at 1M submissions that copy of the form's 89
    text columns took 1–3 s of the pipeline's time (benchmarks/analysis.md), so the pipeline carries only what
    its plan reads and filters the rest when the microdata is asked for.
    """
    unknown = sorted(set(spec.derive) - set(DERIVE_STEPS))
    if unknown:
        raise AnalysisError(f"[recode] derive: unknown step(s) {', '.join(unknown)} (known: {', '.join(DERIVE_STEPS)})")
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
    if spec.age_groups:
        frame["age_group"] = age_groups(frame[spec.age])
        frame["youth"] = np.where(frame[spec.age] <= 29, "18-29", "30+")
    if spec.disability:
        for column in spec.disability:
            _require(frame, column)
        frame["disability"] = washington_group(frame[list(spec.disability)])
    if spec.household_adults:
        _require(frame, spec.household_adults)
        frame["design_weight"] = household_weight(frame[spec.household_adults])
    derived = {name: column for step in spec.derive for name, column in DERIVE_STEPS[step](frame, spec).items()}
    if derived:  # joined at once: ~60 columns added one by one fragment the frame (pandas PerformanceWarning)
        frame = pd.concat(
            [frame.drop(columns=[c for c in derived if c in frame.columns]), pd.DataFrame(derived)], axis=1
        )
    return Recoded(data=frame, log=pd.DataFrame(steps, columns=["step", "rows"]), eligible=keep)


def _recode_inputs(spec: RecodeSpec) -> set[str]:
    inputs = {spec.consent, spec.age, spec.household_adults, *spec.disability}
    return inputs.union(*(STEP_SOURCES[step] for step in spec.derive if step in STEP_SOURCES)) - {""}


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise AnalysisError(
            f"recode needs the column '{column}' (declared in the plan's [recode] section; "
            f"remove that step if the data has no such column)"
        )


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


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or all-missing when this version of the form did not have it (v1 and v2 rows share one frame)."""
    return frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index, dtype=object)


def _first_answered(*columns: pd.Series) -> pd.Series:
    """Per row, the first non-missing answer: a v2 answer where the row is v2, else the v1 one."""
    out = columns[0]
    for column in columns[1:]:
        out = out.where(out.notna(), column)
    return out


def safe_after_dark_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.1.4: those who never go out alone after dark answer how safe they would feel."""
    feels = _column(frame, "feels_safe_after_dark")
    never = feels == "never_alone_after_dark"
    return {"safe_after_dark": feels.where(~never, _column(frame, "would_feel_safe_after_dark"))}


def violence_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.1.3: violence_<type>_12m from the v2 batteries (any act = yes), else the v1 single question.

    Physical violence is assault OR robbery (the metadata: "physical assault and robbery"); `any` is physical,
    psychological or sexual. Where the privacy check skipped the module the answer is `module_skipped`: not a
    'no', and out of every base (counted in n_excluded where the plan excludes it).
    """
    out = {}
    for kind, (battery, v1) in BATTERIES.items():
        v2 = any_yes(pd.concat([_column(frame, c) for c in battery], axis=1))
        out[f"violence_{kind}_12m"] = _first_answered(v2, _column(frame, v1))
    out["violence_physical_12m"] = any_yes(
        pd.concat([out["violence_assault_12m"], out["violence_robbery_12m"]], axis=1)
    )
    out["violence_any_12m"] = any_yes(
        pd.concat([out["violence_physical_12m"], out["violence_psychological_12m"], out["violence_sexual_12m"]], axis=1)
    )
    privacy = _column(frame, "privacy_check")
    skipped = privacy.notna() & ~privacy.isin(PRIVATE)
    return {name: column.astype(object).mask(skipped, SKIPPED) for name, column in out.items()}


def reporting_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.3.1: report_competent_<type> (the plan's strict set, VC_PRR_*) and report_broad_<type> (its broad local
    set, e.g. with Línea 100, CEM and DEMUNA), from the most recent incident's reporting questions."""
    if not spec.competent_strict:
        raise AnalysisError('[recode] derive = "reporting" needs competent_strict (the competent authorities)')
    out = {}
    for kind in VIOLENCE_TYPES:
        reported, told = _column(frame, f"reported_{kind}"), _column(frame, f"reported_to_{kind}")
        out[f"report_competent_{kind}"] = competent_report(reported, told, spec.competent_strict)
        if spec.competent_broad:
            out[f"report_broad_{kind}"] = competent_report(reported, told, spec.competent_broad)
    return out


def bribery_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.5.1: asked for OR paid a bribe."""
    return {
        "bribe_asked_or_paid": any_yes(
            pd.concat([_column(frame, "bribe_asked_12m"), _column(frame, "bribe_paid_12m")], axis=1)
        )
    }


def disputes_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.3.3: dispute_access (any mechanism of the plan's types) and by type (dispute_access_formal / _informal).

    v2 asks what the respondent did (`dispute_mechanisms_self`); v1 asked "you or the other party"
    (`dispute_mechanisms`), used only where the v2 answer is missing.
    """
    if not (spec.dispute_formal or spec.dispute_informal):
        raise AnalysisError('[recode] derive = "disputes" needs dispute_formal and/or dispute_informal')
    dispute, reason = _column(frame, "dispute_2y"), _column(frame, "dispute_no_mechanism_reason")
    mechanisms = _first_answered(_column(frame, "dispute_mechanisms_self"), _column(frame, "dispute_mechanisms"))
    out = {"dispute_access": dispute_access(dispute, mechanisms, reason, spec.dispute_formal + spec.dispute_informal)}
    for kind, types in (("formal", spec.dispute_formal), ("informal", spec.dispute_informal)):
        if types:
            out[f"dispute_access_{kind}"] = dispute_access(dispute, mechanisms, reason, types)
    return out


def discrimination_step(frame: pd.DataFrame, spec: RecodeSpec) -> dict[str, pd.Series]:
    """16.b.1 for everyone, and by ground: discrim_<ground>_12m from the v2 yes/no per ground, else from the
    v1 select_multiple (a ground not ticked = no; nothing ticked = refused, as v1's hint said)."""
    overall = discriminated_12m(_column(frame, "discrimination_5y"), _column(frame, "discrimination_12m"))
    out = {"discriminated_12m": overall}
    v1 = _column(frame, "discrimination_grounds")
    for ground in GROUNDS:
        ticked = selected_any(v1, (ground,)).map({True: "yes", False: "no"})
        ticked = ticked.where(v1.notna() | (overall != "yes"), RF)
        answer = _first_answered(_column(frame, f"discrim_{ground}"), ticked)
        out[f"discrim_{ground}_12m"] = answer.where(overall == "yes", overall)
    return out


DERIVE_STEPS = {
    "safe_after_dark": safe_after_dark_step,
    "violence": violence_step,
    "reporting": reporting_step,
    "bribery": bribery_step,
    "disputes": disputes_step,
    "discrimination": discrimination_step,
}
STEP_SOURCES = {  # the submission columns each step reads (carried through the row filter)
    "safe_after_dark": {"feels_safe_after_dark", "would_feel_safe_after_dark"},
    "violence": {c for battery, v1 in BATTERIES.values() for c in (*battery, v1)} | {"privacy_check"},
    "reporting": {f"reported{t}_{k}" for k in VIOLENCE_TYPES for t in ("", "_to")},
    "bribery": {"bribe_asked_12m", "bribe_paid_12m"},
    "disputes": {"dispute_2y", "dispute_mechanisms_self", "dispute_mechanisms", "dispute_no_mechanism_reason"},
    "discrimination": {
        "discrimination_5y",
        "discrimination_12m",
        "discrimination_grounds",
        *(f"discrim_{g}" for g in GROUNDS),
    },
}


def any_yes(answers: pd.DataFrame) -> pd.Series:
    """yes_no_dk_rf answers combined with OR: yes if any yes; no if all no; else the DK/RF that blocks a 'no'.

    16.5.1 counts "asked for OR paid a bribe": a 'no' to one and 'don't know' to the other is not a 'no'.
    """
    yes = (answers == "yes").any(axis=1)
    no = (answers == "no").all(axis=1)
    refused = (answers == RF).any(axis=1)
    dk = (answers == DK).any(axis=1)
    return _choose([yes, no, refused, dk], ["yes", "no", RF, DK], answers.index)


def competent_report(reported: pd.Series, reported_to: pd.Series, competent: tuple[str, ...]) -> pd.Series:
    """16.3.1: the most recent incident reported to one of the `competent` bodies (declared in the plan).

    Not reported, or told only other bodies → 'no'; DK/RF pass through; a refusal or don't know on whom they
    told is that answer, and so is v1's blank list ("leave blank if the person prefers not to say"): a refusal,
    counted as such, never a blank that silently leaves the base.
    """
    hit = selected_any(reported_to, competent)
    said_yes = reported == "yes"
    refused_whom = said_yes & (reported_to.isna() | (reported_to == RF))
    return _choose(
        [
            said_yes & (hit == True) & ~refused_whom,
            refused_whom,
            said_yes & (reported_to == DK),
            said_yes & (hit == False),
            reported == "no",
            reported == DK,
            reported == RF,
        ],
        ["yes", RF, DK, "no", "no", DK, RF],
        reported.index,
    )


def dispute_access(dispute: pd.Series, mechanisms: pd.Series, reason: pd.Series, counted: tuple[str, ...]) -> pd.Series:
    """16.3.3: 'yes' used a mechanism of the `counted` types; 'self_excluded' used none of them because none was
    needed (not needed / resolved directly); 'refused' would not say; 'no' otherwise (an unknown reason is not
    voluntary as far as we know). Only for people with a dispute."""
    used = selected_any(mechanisms, counted)
    had = dispute == "yes"
    return _choose(
        [
            had & (used == True),
            had & (mechanisms == RF),
            had & (used == False) & reason.isin(SELF_EXCLUDED),
            had & (used == False),
        ],
        ["yes", RF, "self_excluded", "no"],
        dispute.index,
    )


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
    yes_no = ("yes", "no", DK, RF)
    rows = [("safe_after_dark", v, v.replace("_", " ")) for v in ("very_safe", "safe", "unsafe", "very_unsafe", DK, RF)]
    rows += [("bribe_asked_or_paid", v, v.replace("_", " ")) for v in yes_no]
    rows += [
        (f"violence_{k}_12m", v, v.replace("_", " "))
        for k in (*BATTERIES, "physical", "any")
        for v in (*yes_no, SKIPPED)
    ]
    rows += [
        (f"report_{s}_{k}", v, v.replace("_", " "))
        for s in ("competent", "broad")
        for k in VIOLENCE_TYPES
        for v in yes_no
    ]
    rows += [
        (f"dispute_access{t}", v, v.replace("_", " "))
        for t in ("", "_formal", "_informal")
        for v in ("yes", "no", "self_excluded", RF)
    ]
    rows += [
        (name, v, v.replace("_", " "))
        for name in ("discriminated_12m", *(f"discrim_{g}_12m" for g in GROUNDS))
        for v in yes_no
    ]
    rows += [("age_group", g, g) for g in AGE_GROUPS]
    rows += [("youth", "18-29", "18-29"), ("youth", "30+", "30+")]
    rows += [("disability", v, v) for v in ("yes", "no", "unknown")]
    return pd.DataFrame(rows, columns=["variable", "value", "label"])
