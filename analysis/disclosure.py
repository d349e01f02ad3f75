"""Statistical disclosure control of the researcher microdata: coarsen the quasi-identifiers, then check k-anonymity.

Block, exact age, sex, education and interview date next to answers on sexual violence made most respondents of a
round unique, so anyone knowing a neighbour's age and block could read her answers. The researcher file therefore
gets, after the direct identifiers are gone (`export.microdata_for_export`):

- exact age → its band (`age_group`, `youth` stay; `age` goes);
- interview date → month (`interview_month`, YYYY-MM, from `start`/`today`/`end`);
- block → neighbourhood: the PSU code is replaced by an arbitrary code (`psu` P001…, in random order, the same
  block always the same code within a file) — the design keeps its clusters for variance estimation, the file no
  longer says which block a respondent lives in; `neighbourhood` (the stratum) stays;
- rare categories top-coded: integer answers are capped where fewer than `k` respondents lie above (household
  size "6" meaning 6 or more), and categories of the quasi-identifiers held by fewer than `k` respondents become
  `other` ("otra");
- a k-anonymity check over the quasi-identifiers (neighbourhood, age band, sex, education, disability, interview
  month): respondents whose combination is shared by fewer than `k` have their most detailed quasi-identifiers
  (interview month, then education, disability, age band, sex) blanked, one at a time, until every class has `k`;
  what remains is reported. Classes are counted with a blank as a value of its own (strict): a respondent left in a
  small class then has only the neighbourhood, and a blank stands for any value, so she matches everyone there.

`Report` says what was done and the k-anonymity before and after; it goes into the file's metadata. Full detail
(no control) is for admins only, chosen explicitly and logged by the caller (dashboard, CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

K = 5
QUASI_IDENTIFIERS = ("neighbourhood", "age_group", "sex", "education", "disability", "interview_month")
# Blanked in this order for respondents still in a class smaller than k (the least used in analysis first).
SUPPRESS_ORDER = ("interview_month", "education", "disability", "age_group", "sex")
DATE_COLUMNS = ("start", "today", "end")
EXACT_COLUMNS = ("age", "start", "end", "today")
OTHER = "other"
DESIGN_COLUMNS = ("weight", "design_weight")


@dataclass
class Report:
    """What disclosure control did, for the file's metadata (key → text)."""

    k: int
    quasi_identifiers: list[str]
    before: dict[str, float]
    after: dict[str, float]
    steps: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, str]:
        def describe(stats: dict[str, float]) -> str:
            return (
                f"k mínimo {stats['min_k']:.0f}; {stats['unique']:.1%} únicos; {stats['below_k']:.1%} en clases < {self.k} / "
                f"minimum k {stats['min_k']:.0f}; {stats['unique']:.1%} unique; {stats['below_k']:.1%} in classes < {self.k}"
            )

        return {
            "disclosure_control": f"nivel investigador, k = {self.k} / researcher level, k = {self.k}",
            "quasi_identifiers": ", ".join(self.quasi_identifiers),
            "k_anonymity_before": describe(self.before),
            "k_anonymity_after": describe(self.after),
            "disclosure_steps": "\n".join(self.steps),
        }


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str], k: int = K) -> dict[str, float]:
    """Size of each respondent's equivalence class over the quasi-identifiers (missing is a value of its own):
    the smallest class, the share of respondents who are unique and the share in classes smaller than k."""
    if frame.empty or not quasi_identifiers:
        return {"min_k": float(len(frame)), "unique": 0.0, "below_k": 0.0}
    sizes = _class_sizes(frame, quasi_identifiers)
    return {"min_k": float(sizes.min()), "unique": float((sizes == 1).mean()), "below_k": float((sizes < k).mean())}


def _class_sizes(frame: pd.DataFrame, quasi_identifiers: list[str]) -> pd.Series:
    keys = frame[quasi_identifiers].astype("string").fillna("\x00")
    return keys.groupby(quasi_identifiers, dropna=False, sort=False)[quasi_identifiers[0]].transform("size")


def interview_month(frame: pd.DataFrame) -> pd.Series:
    """YYYY-MM of the interview, from the first of start/today/end that parses (interviews stay in local time)."""
    month = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column in DATE_COLUMNS:
        if column in frame.columns:
            text = frame[column].astype("string").str.slice(0, 7)
            month = month.fillna(text.where(text.str.fullmatch(r"\d{4}-\d{2}", na=False)))
    return month


def pseudonymous_psu(psu: pd.Series, seed: int | None = None) -> pd.Series:
    """Arbitrary PSU codes (P001…) in random order: clusters kept for variance estimation, blocks not named."""
    blocks = pd.unique(psu.dropna())
    order = np.random.default_rng(seed).permutation(len(blocks))
    width = max(3, len(str(len(blocks))))
    codes = {block: f"P{rank + 1:0{width}d}" for block, rank in zip(blocks, order)}
    return psu.map(codes).astype(object)


def top_code(values: pd.Series, k: int = K) -> tuple[pd.Series, float | None]:
    """Integer answers capped at the largest value that at least k respondents reach or exceed."""
    numbers = pd.to_numeric(values, errors="coerce")
    present = numbers.dropna().sort_values()
    if len(present) < k:
        return values, None
    cap = present.iloc[-k]
    if (numbers > cap).sum() == 0:
        return values, None
    return numbers.where(~(numbers > cap), cap).where(numbers.notna(), values.where(numbers.isna())), float(cap)


def rare_to_other(values: pd.Series, k: int = K) -> tuple[pd.Series, list[str]]:
    """Categories held by fewer than k respondents become `other`."""
    counts = values.value_counts()
    rare = [str(c) for c in counts[counts < k].index]
    return values.where(~values.astype("string").isin(rare), OTHER), rare


def control(
    frame: pd.DataFrame, *, integer_columns: list[str] = (), k: int = K, seed: int | None = None
) -> tuple[pd.DataFrame, Report]:
    """The researcher-level file and its report (see the module docstring); `frame` is left unchanged.

    `integer_columns` are the form's integer questions (top-coded); `seed` fixes the PSU codes' order (tests)."""
    out = frame.copy()
    out["interview_month"] = interview_month(out)
    quasi = [c for c in QUASI_IDENTIFIERS if c in out.columns]
    original = out.assign(age_group=out["age"]) if "age" in out.columns and "age_group" in quasi else out
    before = k_anonymity(_with_day(original, frame), quasi, k)
    steps = ["edad exacta → grupo de edad / exact age → age band", "fecha de entrevista → mes / interview date → month"]
    out = out.drop(columns=[c for c in EXACT_COLUMNS if c in out.columns])
    if "psu" in out.columns:  # keyed with the stratum: blocks are nested in neighbourhoods (nest=TRUE)
        block = (
            out["psu"].astype("string") + "\x00" + out["neighbourhood"].astype("string")
            if "neighbourhood" in out.columns
            else out["psu"]
        )
        out["psu"] = pseudonymous_psu(block.where(out["psu"].notna()), seed)
        steps.append(
            "manzana → código arbitrario de conglomerado; se conserva el barrio / block → arbitrary cluster code; neighbourhood kept"
        )
    for column in integer_columns:
        if column in out.columns and column not in DESIGN_COLUMNS and column != "age":
            out[column], cap = top_code(out[column], k)
            if cap is not None:
                steps.append(
                    f"{column}: recodificado arriba en {cap:g} (= {cap:g} o más) / top-coded at {cap:g} (= {cap:g} or more)"
                )
    for column in quasi:
        if column in ("neighbourhood", "interview_month"):
            continue
        out[column], rare = rare_to_other(out[column], k)
        if rare:
            steps.append(
                f"{column}: categorías con < {k} personas → {OTHER} ({', '.join(rare)}) / rare categories → {OTHER}"
            )
    for column in SUPPRESS_ORDER:
        if column not in quasi:
            continue
        small = _class_sizes(out, quasi) < k
        if not small.any():
            break
        out.loc[small, column] = pd.NA
        steps.append(
            f"{column}: suprimido para {int(small.sum())} personas en clases < {k} / suppressed for {int(small.sum())} respondents in classes < {k}"
        )
    report = Report(k, quasi, before, k_anonymity(out, quasi, k), steps)
    return out, report


def _with_day(coarse: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The file as it would be without control: block instead of neighbourhood, the day instead of the month."""
    exact = coarse.copy()
    if "psu" in frame.columns and "neighbourhood" in exact.columns:
        exact["neighbourhood"] = frame["psu"]
    for column in DATE_COLUMNS:
        if column in frame.columns:
            exact["interview_month"] = frame[column].astype("string").str.slice(0, 10).fillna(exact["interview_month"])
            break
    return exact
