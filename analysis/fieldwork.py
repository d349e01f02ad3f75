"""Visit records → one final outcome per selected dwelling → AAPOR response rates per block and per volunteer.

Why a module of its own (not `quality`): quality flags single submissions; response rates are about the *sample*,
the dwellings the plan selected, each of which may have several visit records (one submission per visit, the
questionnaire's visit section). The dwelling's final disposition is its last visit's (highest `visit_number`,
then latest submission), as AAPOR's final dispositions are.

AAPOR (Standard Definitions, 2023) groups, from the questionnaire's `disposition` choices:
I complete (1.1); P partial (1.2); R refused (2.11), refused_door (2.111); NC noncontact (2.20),
respondent_away (2.25); O other_nonresponse (2.30); U unknown_eligibility (3.10); NE not_eligible (4.70),
vacant (4.60), not_dwelling (4.50).

    RR1 = I / (I + P + R + NC + O + U)        RR3 = I / (I + P + R + NC + O + e·U)
    e = (I + P + R + NC + O) / (I + P + R + NC + O + NE), estimated once from every known case of the round
    (per block it would rest on a handful of dwellings), and shown beside the rates.

During field work a dwelling whose last visit found nobody (noncontact, respondent_away) before the last allowed
visit is still *open* (counted as non-contact meanwhile, and in its own column); selected dwellings with no visit
yet are the plan's `take` minus those visited.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

AAPOR = {  # disposition choice name → (AAPOR group, code)
    "complete": ("I", "1.1"),
    "partial": ("P", "1.2"),
    "refused": ("R", "2.11"),
    "refused_door": ("R", "2.111"),
    "noncontact": ("NC", "2.20"),
    "respondent_away": ("NC", "2.25"),
    "other_nonresponse": ("O", "2.30"),
    "unknown_eligibility": ("U", "3.10"),
    "not_eligible": ("NE", "4.70"),
    "vacant": ("NE", "4.60"),
    "not_dwelling": ("NE", "4.50"),
}
GROUPS = ("I", "P", "R", "NC", "O", "U", "NE")
RESPONDENTS = ("complete", "partial")
NO_CONTACT_YET = ("noncontact", "respondent_away")
VISIT_COLUMNS = ("block", "dwelling_number", "disposition")
MAX_VISITS = 3


def has_visit_records(visits: pd.DataFrame) -> bool:
    """Whether the submissions carry the questionnaire v2's visit section (block, dwelling, disposition)."""
    return set(VISIT_COLUMNS) <= set(visits.columns) and visits["disposition"].notna().any()


def final_dispositions(visits: pd.DataFrame, max_visits: int = MAX_VISITS) -> pd.DataFrame:
    """One row per visited dwelling (block, dwelling_number): its last visit's disposition and AAPOR group, the
    visits made, who made the last one, whether it is still open (nobody found yet, fewer than `max_visits`) and
    `row`, the index label of the final visit in `visits`.
    Rejected submissions (review) are not visits; rows without block or dwelling number cannot be placed and
    are left out (count them with `unplaced`)."""
    missing = [c for c in VISIT_COLUMNS if c not in visits.columns]
    if missing:
        raise AnalysisError(f"faltan columnas de visita / visit records lack column(s) {', '.join(missing)}")
    rows = _placed(visits)
    unknown = sorted(set(rows["disposition"].dropna()) - set(AAPOR))
    if unknown:
        raise AnalysisError(
            f"disposición desconocida / unknown disposition(s): {', '.join(map(str, unknown))} "
            f"(expected {', '.join(AAPOR)})"
        )
    visit = rows["visit_number"] if "visit_number" in rows.columns else pd.Series(1, index=rows.index)
    rows = rows.assign(
        _visit=pd.to_numeric(visit, errors="coerce").fillna(1), _order=np.arange(len(rows)), row=rows.index
    )
    keys = ["block", "dwelling_number"]
    order = ["_visit", "received_at", "_order"] if "received_at" in rows.columns else ["_visit", "_order"]
    last = rows.sort_values(keys + order, kind="stable").groupby(keys, sort=True).tail(1)
    counts = rows.groupby(keys, sort=True).size().rename("visits")
    final = last.set_index(keys).join(counts).reset_index()
    final = final.assign(
        aapor=final["disposition"].map(lambda d: AAPOR[d][0]),
        aapor_code=final["disposition"].map(lambda d: AAPOR[d][1]),
        open=final["disposition"].isin(NO_CONTACT_YET) & (final["_visit"] < max_visits),
    )
    columns = [
        "block",
        "dwelling_number",
        *[c for c in ("neighbourhood", "volunteer") if c in final.columns],
        "visits",
        "disposition",
        "aapor",
        "aapor_code",
        "open",
        "row",
    ]
    return final[columns]


def unplaced(visits: pd.DataFrame) -> int:
    """Visit records that name no block or no dwelling number (they cannot count for any dwelling)."""
    return int(len(_not_rejected(visits)) - len(_placed(visits)))


def response_rates(final: pd.DataFrame, by: str | None = None, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts per AAPOR group, RR1, RR3 (and the e used) per value of `by` (`block`, `volunteer`, `neighbourhood`;
    None = the whole round), with the plan's dwellings to visit (`planned`) and completes wanted when `plan` (the
    blocks.csv of the round: name, neighbourhood, take, volunteer) is given."""
    key = final[by] if by else pd.Series("all", index=final.index, name="all")
    counts = pd.crosstab(key, final["aapor"]).reindex(columns=list(GROUPS), fill_value=0)
    counts.columns.name = None
    counts["visited"] = counts[list(GROUPS)].sum(axis=1)
    counts["open"] = final.groupby(key)["open"].sum().reindex(counts.index).fillna(0).astype(int)
    known_eligible = counts[["I", "P", "R", "NC", "O"]].to_numpy().sum()
    e = known_eligible / (known_eligible + counts["NE"].sum()) if known_eligible + counts["NE"].sum() else 1.0
    eligible = counts[["I", "P", "R", "NC", "O"]].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        counts["RR1"] = counts["I"] / (eligible + counts["U"])
        counts["RR3"] = counts["I"] / (eligible + e * counts["U"])
    counts["e"] = e
    if plan is not None and by in (None, "block", "volunteer", "neighbourhood"):
        planned = plan.assign(block=plan["name"], all="all").groupby(by or "all")["take"].sum()
        counts = counts.join(planned.rename("planned"), how="outer").fillna(
            {g: 0 for g in (*GROUPS, "visited", "open")}
        )
        counts["not_visited"] = (counts["planned"] - counts["visited"]).clip(lower=0)
    return counts.rename_axis(by or "all").reset_index()


def _not_rejected(visits: pd.DataFrame) -> pd.DataFrame:
    if "review_state" in visits.columns:
        return visits[visits["review_state"].ne("rejected").to_numpy(dtype=bool, na_value=True)]
    return visits


def _placed(visits: pd.DataFrame) -> pd.DataFrame:
    rows = _not_rejected(visits)
    number = pd.to_numeric(rows["dwelling_number"], errors="coerce")
    rows = rows.assign(dwelling_number=number)
    return rows[rows["block"].notna() & number.notna() & rows["disposition"].notna()]
