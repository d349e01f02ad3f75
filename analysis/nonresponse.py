"""Design weights from the recorded selection probabilities, adjusted for unknown eligibility and non-response.

Why a module of its own: this is the step that makes the round a probability sample. Every selected dwelling
ends in a visit record (questionnaire v2; `analysis.fieldwork` gives each its final disposition), so the weight
of the respondents can carry the weight of the dwellings that did not answer, within classes where respondents
and non-respondents are alike — and nothing here is assumed that was not recorded:

1. Base weight of dwelling d in block b: w₀ = 1 / (P(block) · P(dwelling | block)) = dwellings_b / (prob_block_b ·
   take_b), from the values the form recorded (`[selection]` fields). Selected dwellings of a block never visited
   (take_b minus the dwellings with a record) are added as unknown-eligibility cases: the sample does not shrink
   silently when a volunteer stops early.
2. Weighting classes (`[nonresponse] classes`, finest first, e.g. block then neighbourhood, each crossed with
   `by`): a class with fewer than `min_respondents` respondents or a factor above `max_factor` is merged with an
   adjacent class (code order: neighbouring blocks) of the same next-level group, until none is thin; what is
   still thin when its whole group is one class is kept with a warning, and a class without any respondent is left
   out (a warning says how many eligible dwellings that leaves unrepresented).
3. Per class, unknown eligibility (AAPOR U) is spread over the known cases, f_U = Σw(all) / Σw(known); the
   ineligible drop out; the eligible non-respondents' weight goes to the respondents, f_NR = Σw(eligible) /
   Σw(respondents). Respondents (complete, partial) get w₀ · f_U · f_NR: R's postStratify of the respondents to the
   class totals of the full sample (tests/golden/nonresponse.R computes it that way).
4. Person weight = dwelling weight × eligible adults (the next-birthday rule picks one of them: P(person | dwelling)
   = 1 / eligible_adults).

Calibration (raking to the margins) follows in the pipeline, on these weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import fieldwork
from analysis.errors import AnalysisError
from analysis.plan import NonresponseSpec, SelectionSpec

NON_PROBABILITY = (
    "muestra no probabilística: las estimaciones descansan en el modelo de calibración / "
    "non-probability sample: estimates rest on the calibration model"
)
PROBABILITY = (
    "muestra probabilística: pesos de las probabilidades de selección registradas, ajustados por no "
    "respuesta y calibrados / probability sample: weights from the recorded selection probabilities, "
    "adjusted for non-response and calibrated"
)
ELIGIBLE = ("I", "P", "R", "NC", "O")
RESPONDED = ("I", "P")


@dataclass(frozen=True)
class Adjusted:
    """Person weights of the respondents (index: their rows in the submissions), their base weights before the
    adjustments, the classes with their factors, and what to tell."""

    weights: pd.Series
    base: pd.Series
    classes: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def has_recorded_sample(responses: pd.DataFrame, selection: SelectionSpec, psu: str | None) -> bool:
    """Whether the submissions record a probability sample: the block, its probability and the dispositions."""
    needed = [psu, selection.prob_block, selection.take, selection.dwellings, selection.dwelling, selection.disposition]
    return all(c and c in responses.columns for c in needed) and responses[selection.prob_block].notna().any()


def adjusted_weights(responses: pd.DataFrame, selection: SelectionSpec, spec: NonresponseSpec, psu: str) -> Adjusted:
    """Steps 1–4 of the module docstring on the submissions (visit records and interviews alike)."""
    final = _final(responses, selection, psu)
    dwellings, warnings = _dwellings(final, responses, selection, spec, psu)
    dwellings, classes, more = _classes(dwellings, spec)
    warnings += more
    respondents = dwellings[dwellings["aapor"].isin(RESPONDED) & dwellings["class"].notna()]
    adults = pd.to_numeric(responses.loc[respondents["row"], selection.eligible_adults], errors="coerce")
    bad = ~(adults >= 1).to_numpy()
    if bad.any():
        warnings.append(f"{bad.sum()} respondent(s) have no valid {selection.eligible_adults}: counted as one adult")
    adults = np.where(bad, 1.0, adults.to_numpy(dtype=float))
    factor = respondents["class"].map(classes.set_index("class")["factor"]).to_numpy()
    index = pd.Index(respondents["row"])
    return Adjusted(
        weights=pd.Series(respondents["w0"].to_numpy() * factor * adults, index=index),
        base=pd.Series(respondents["w0"].to_numpy() * adults, index=index),
        classes=classes,
        warnings=warnings,
    )


def _final(responses: pd.DataFrame, selection: SelectionSpec, psu: str) -> pd.DataFrame:
    """The final visit of every dwelling (analysis.fieldwork), the recorded probabilities checked."""
    visits = responses[responses[selection.disposition].notna()]
    renamed = pd.DataFrame(
        {
            "block": visits[psu],
            "dwelling_number": visits[selection.dwelling],
            "disposition": visits[selection.disposition],
            "visit_number": visits.get(selection.visit, 1),
        },
        index=visits.index,
    )
    for column in ("review_state", "received_at"):
        if column in visits.columns:
            renamed[column] = visits[column]
    final = fieldwork.final_dispositions(renamed)
    recorded = responses.loc[final["row"], [selection.prob_block, selection.take, selection.dwellings]]
    values = {c: pd.to_numeric(recorded[c], errors="coerce").to_numpy(dtype=float) for c in recorded.columns}
    p, take, size = values[selection.prob_block], values[selection.take], values[selection.dwellings]
    with np.errstate(invalid="ignore"):
        bad = ~((p > 0) & (p <= 1) & (take >= 1) & (size >= take))
    if bad.any():
        examples = ", ".join(f"{b}/{d}" for b, d in zip(final["block"][bad][:5], final["dwelling_number"][bad][:5]))
        raise AnalysisError(
            f"{bad.sum()} vivienda(s) sin probabilidades válidas / dwelling(s) without valid recorded probabilities "
            f"(need 0 < {selection.prob_block} ≤ 1 and 1 ≤ {selection.take} ≤ {selection.dwellings}), e.g. block/"
            f"dwelling {examples}"
        )
    return final.assign(prob_block=p, take=take, size=size, w0=size / (p * take))


def _dwellings(final, responses, selection, spec, psu):
    """One row per selected dwelling with its class columns; never-visited ones added as unknown eligibility."""
    columns = list(dict.fromkeys(c for c in (*spec.classes, *spec.by) if c != psu))
    missing = [c for c in columns if c not in responses.columns]
    if missing:
        raise AnalysisError(f"[nonresponse] classes/by column(s) {', '.join(missing)} are not in the submissions")
    attributes = responses.loc[final["row"], columns].reset_index(drop=True)
    dwellings = pd.concat([final.reset_index(drop=True), attributes], axis=1).assign(**{psu: final["block"].to_numpy()})
    per_block = dwellings.groupby("block", sort=True).agg(
        visited=("w0", "size"), take=("take", "first"), w0=("w0", "first")
    )
    warnings = []
    over = per_block[per_block["visited"] > per_block["take"]]
    if len(over):
        warnings.append(
            f"block(s) {', '.join(map(str, over.index[:5]))} have more visited dwellings than their take: "
            "the recorded P(dwelling | block) is too small there; check the dwelling numbers"
        )
    short = per_block[per_block["visited"] < per_block["take"]]
    if len(short):
        first = dwellings.drop_duplicates("block").set_index("block")
        extra = first.loc[short.index.repeat((short["take"] - short["visited"]).astype(int))].reset_index()
        extra = extra.assign(
            aapor="U",
            disposition="not_visited",
            row=np.nan,
            **{c: np.nan for c in spec.by if c not in (*spec.classes, psu)},
        )
        dwellings = pd.concat([dwellings, extra[dwellings.columns]], ignore_index=True)
    return dwellings, warnings


SUMS = (
    "dwellings",
    "unknown",
    "not_eligible",
    "eligible",
    "respondents",
    "w_all",
    "w_known",
    "w_eligible",
    "w_responded",
)


def _classes(dwellings: pd.DataFrame, spec: NonresponseSpec):
    """Each dwelling's weighting class and the factors per class (step 2 of the module docstring).

    Classes start at the finest level (e.g. the block × `by`); within each group of the next level (e.g. the
    neighbourhood × `by`), a thin class is merged with its neighbour in code order (the frame's geographic order:
    adjacent blocks are alike), the neighbour with fewer respondents, until no class of the group is thin or the
    group is one class; a group left as one thin class is merged likewise within the level after, and so on.
    Works on the classes' sums (one groupby), so merging costs nothing per dwelling.
    """
    levels = [[level, *spec.by] for level in spec.classes]
    finest = _labels(dwellings, levels[0])
    sums = _sums(dwellings).groupby(finest.to_numpy()).sum()
    groups = [_labels(dwellings, keys).groupby(finest.to_numpy()).first() for keys in levels[1:]]
    unit = pd.Series(sums.index, index=sums.index)  # finest class → its class now
    classes = {name: row.to_numpy() for name, row in sums.iterrows()}
    for group in groups:
        unit, classes = _merge_within(unit, classes, group.reindex(unit.index), spec)
    rows, warnings, dropped = [], [], []
    for name in sorted(classes):
        row = _row(name, classes[name], "merged" if " + " in name else " × ".join(levels[0]))
        if row["respondents"] == 0:
            warnings.append(
                f"non-response class {name} has no respondent yet: its {row['eligible']} eligible "
                "dwelling(s) are not represented by the weights"
            )
            dropped.append(name)
        else:
            if _thin(row, spec):
                warnings.append(
                    f"non-response class {name} kept although thin ({row['respondents']} "
                    f"respondent(s), factor {row['factor']:.2f}): no coarser class left"
                )
            rows.append(row)
    label = finest.map(unit).where(lambda c: ~c.isin(dropped))
    return dwellings.assign(**{"class": label}), pd.DataFrame(rows), warnings


def _sums(dwellings: pd.DataFrame) -> pd.DataFrame:
    """Per dwelling, the counts and base-weight sums a class adds up (columns SUMS)."""
    group, w = dwellings["aapor"], dwellings["w0"].to_numpy()
    known, eligible, responded = (
        (group != "U").to_numpy(),
        group.isin(ELIGIBLE).to_numpy(),
        group.isin(RESPONDED).to_numpy(),
    )
    return pd.DataFrame(
        {
            "dwellings": 1,
            "unknown": (~known).astype(int),
            "not_eligible": (group == "NE").astype(int),
            "eligible": eligible.astype(int),
            "respondents": responded.astype(int),
            "w_all": w,
            "w_known": w * known,
            "w_eligible": w * eligible,
            "w_responded": w * responded,
        },
        index=dwellings.index,
    )


def _row(name: str, sums: np.ndarray, level: str) -> dict:
    """A class's report row: its counts, f_U = Σw(all)/Σw(known), f_NR = Σw(eligible)/Σw(respondents), factor."""
    values = dict(zip(SUMS, sums))
    with np.errstate(divide="ignore", invalid="ignore"):
        f_unknown = values["w_all"] / values["w_known"] if values["w_known"] else np.inf
        f_nonresponse = values["w_eligible"] / values["w_responded"] if values["w_responded"] else np.inf
    counts = {k: int(values[k]) for k in ("dwellings", "unknown", "not_eligible", "eligible", "respondents")}
    return {
        "class": name,
        "level": level,
        **counts,
        "base_weight_sum": values["w_all"],
        "f_unknown": f_unknown,
        "f_nonresponse": f_nonresponse,
        "factor": f_unknown * f_nonresponse,
    }


def _labels(dwellings: pd.DataFrame, keys: list[str]) -> pd.Series:
    values = dwellings[keys[0]].astype(str)
    for key in keys[1:]:
        values = values + " × " + dwellings[key].astype(str)
    return f"{' × '.join(keys)} = " + values


def _thin(row: dict, spec: NonresponseSpec) -> bool:
    return row["respondents"] < spec.min_respondents or row["factor"] > spec.max_factor


def _merge_within(unit: pd.Series, classes: dict, group: pd.Series, spec: NonresponseSpec):
    """Merge thin classes with an adjacent class of the same group (see `_classes`)."""
    classes = dict(classes)
    for _, members in unit.groupby(group, sort=False):
        names = sorted(members.unique())
        while len(names) > 1:
            stats = [_row(n, classes[n], "") for n in names]
            thin = [i for i, row in enumerate(stats) if _thin(row, spec)]
            if not thin:
                break
            i = thin[0]
            if i in (0, len(names) - 1):
                j = 1 if i == 0 else i - 1
            else:
                j = min((i - 1, i + 1), key=lambda k: stats[k]["respondents"])
            a, b = sorted((i, j))
            merged = f"{names[a]} + {names[b]}"
            classes[merged] = classes.pop(names[a]) + classes.pop(names[b])
            unit = unit.replace({names[a]: merged, names[b]: merged})
            names[a : b + 1] = [merged]
    return unit, classes


@dataclass(frozen=True)
class SampleWeights:
    """What the pipeline used as design weights: a probability sample or not (the note every output carries), the
    non-response classes with their factors (None without a recorded sample), the warnings, and `eligible`: the
    respondents kept (None: all that recode kept)."""

    probability: bool
    classes: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    eligible: np.ndarray | None = None

    @property
    def note(self) -> str:
        return PROBABILITY if self.probability else NON_PROBABILITY


def design_weights(plan, responses: pd.DataFrame, data: pd.DataFrame, eligible: np.ndarray):
    """The recoded respondents with the plan's design weight column, and how it was made.

    `weight_from = "probabilities"` with a recorded sample: the adjusted weights above, for the respondents recode
    kept. A kept interview that is not the final visit of its dwelling (an interview saved twice, a dwelling
    interviewed again) has no probability of its own: it leaves the estimates with a warning naming it (reject it
    in review), so one duplicate never blocks the round. Without a recorded sample (an imported Kobo export, a
    convenience sample, questionnaire v1) the pipeline still runs, on calibration only: the weight column as
    recoded, else the eligible adults, else 1 — and says "non-probability sample" everywhere. A store holding both
    (v1 interviews beside v2 visit records) is analysed the same way, as one non-probability sample, with a warning
    counting the respondents without recorded probabilities: a weight from probabilities for some respondents and
    from nothing for others would not estimate anything; filter the v1 rows out to get the probability weights.
    """
    design, selection = plan.design, plan.selection
    if design.weight_from != "probabilities":
        return data, SampleWeights(probability=False)
    rows = responses.index[eligible]
    if not has_recorded_sample(responses, selection, design.psu):
        return _calibration_only(
            data,
            selection,
            design.weight,
            [
                (
                    "the responses record no sample (block, prob_block, dispositions): weighted by calibration only, as a "
                    "non-probability sample"
                )
            ],
        )
    unrecorded = int(pd.to_numeric(responses.loc[rows, selection.prob_block], errors="coerce").isna().sum())
    if unrecorded:
        return _calibration_only(
            data,
            selection,
            design.weight,
            [
                (
                    f"{unrecorded} respondent(s) have no recorded selection probability (questionnaire v1 or typed PSU) beside "
                    "the visit records: the whole round is weighted by calibration only, as a non-probability sample; "
                    "analyse the v2 rows alone for probability weights"
                )
            ],
        )
    adjusted = adjusted_weights(responses, selection, plan.nonresponse, design.psu)
    weights = adjusted.weights.reindex(rows).to_numpy()
    lost = np.isnan(weights)
    warnings = list(adjusted.warnings)
    if lost.any():
        ids = responses.loc[rows[lost], "instance_id"] if "instance_id" in responses.columns else pd.Series(rows[lost])
        warnings.append(
            f"{lost.sum()} entrevistado(s) sin peso de diseño, fuera de las estimaciones / respondent(s) without a "
            f"probability weight left out of the estimates: not the final visit of their dwelling (a duplicate to "
            f"reject in review) or in a class left out (e.g. {', '.join(map(str, ids[:3]))})"
        )
    kept = eligible.copy()
    kept[np.flatnonzero(eligible)[lost]] = False
    data = data.loc[~lost].reset_index(drop=True).assign(**{design.weight: weights[~lost]})
    return data, SampleWeights(True, adjusted.classes, warnings, kept)


def _calibration_only(data: pd.DataFrame, selection: SelectionSpec, weight: str, warnings: list[str]):
    """The fallback design weight: the recoded weight column, else the eligible adults, else 1."""
    if weight not in data.columns:
        adults = data[selection.eligible_adults] if selection.eligible_adults in data.columns else 1.0
        count = pd.to_numeric(pd.Series(adults, index=data.index), errors="coerce")
        data = data.assign(**{weight: count.where(count >= 1).fillna(1.0)})
    return data, SampleWeights(probability=False, warnings=warnings)
