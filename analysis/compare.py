"""The change of each estimate between two survey rounds, with its confidence interval and significance.

A round is a set of submissions (a date range or a form version) weighted and estimated on its own with the same
plan (`pipeline.run`), giving two tidy tables. The rounds are independent samples: different respondents, each
round calibrated to the margins separately, so the two estimates have no covariance and

    var(change) = se_a² + se_b²,   change = estimate_b − estimate_a   (percentage points when × 100).

That holds only if no respondent is in both rounds, so `compare_rounds` refuses rounds that share a submission
(overlapping date ranges would count one interview twice and understate the variance). The same formula is
what R gives for the difference of two `svymean`/`svyciprop` results from separate designs (no `svycontrast`
covariance term to add). Rounds that revisit the same blocks (PSUs) are usually positively correlated through
them; leaving that covariance out then makes the interval of the change wider, not narrower.

Reference distribution: Student's t with the smaller of the two rounds' design degrees of freedom (the tidy
table's `df`, R's `degf` of the domain) — the conservative choice of the usual Welch-type approximations, since
each round's variance is estimated from its own PSUs. Where either df is missing (a table without `df`) the
standard normal is used. The test is the two-sided Wald test of change = 0 on the proportion scale, and the
interval is change ± t·se_change, so "significant" and "the interval excludes 0" always agree.

Reliability carries over honestly: where either round's estimate is suppressed (too few respondents) or the
row exists in one round only, or a round has no degrees of freedom left for it (all its respondents in one PSU:
no variance can be estimated, and falling back to the normal would pretend to precision), the change and
everything derived from it are NaN and `flag` says why; where either is unreliable (below the plan's min_n)
the change is computed but flagged `unreliable`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError

KEYS = ["indicator", "by", "area", "group"]
SIDE = ["estimate", "se", "df", "n", "flag"]
COLUMNS = [
    "indicator",
    "series",
    "name",
    "by",
    "area",
    "group",
    "estimate_a",
    "se_a",
    "n_a",
    "flag_a",
    "estimate_b",
    "se_b",
    "n_b",
    "flag_b",
    "change",
    "se_change",
    "ci_low",
    "ci_high",
    "df",
    "p_value",
    "significant",
    "flag",
]


def compare_rounds(
    a: pd.DataFrame, b: pd.DataFrame, ids_a: pd.Series, ids_b: pd.Series, level: float = 0.95
) -> pd.DataFrame:
    """One row per estimate (indicator × by × area × group) of either round: both estimates and the change B − A.

    `a`, `b`: tidy tables of the two rounds (pipeline's TIDY_COLUMNS; `series`, `name`, `df` optional).
    `ids_a`, `ids_b`: the submissions (instance ids) each round was estimated from; rounds sharing one are
    refused, because the variance formula assumes disjoint samples.
    Returns COLUMNS: `change` (B − A), `se_change`, `ci_low`/`ci_high` of the change at `level`, `df` used (NaN =
    normal reference), two-sided `p_value`, `significant` (p < 1 − level; NA where it cannot be tested) and
    `flag`: ok, referencial, unreliable, suppressed, only_in_a, only_in_b, no_df (a round's df < 1).
    """
    if not 0 < level < 1:
        raise AnalysisError(f"confidence level must be between 0 and 1, got {level}")
    _check_disjoint(ids_a, ids_b)
    for name, table in (("round A", a), ("round B", b)):
        missing = [c for c in KEYS + ["estimate", "se", "n", "flag"] if c not in table.columns]
        if missing:
            raise AnalysisError(f"{name}'s estimate table lacks column(s) {', '.join(missing)}")
    merged = _side(a, "a").merge(_side(b, "b"), on=KEYS, how="outer", indicator=True, sort=False)
    labels = [c for c in ("series", "name") if c in a.columns or c in b.columns]
    if labels:
        info = pd.concat([t[["indicator", *[c for c in labels if c in t.columns]]] for t in (a, b)])
        merged = merged.merge(info.drop_duplicates("indicator"), on="indicator", how="left")
    flag = _flag(merged)
    change = merged["estimate_b"] - merged["estimate_a"]
    se = np.sqrt(merged["se_a"] ** 2 + merged["se_b"] ** 2)
    df = np.fmin(merged["df_a"], merged["df_b"]).where(merged["df_a"].notna() & merged["df_b"].notna())
    flag = flag.where(~(df < 1) | ~flag.isin(TESTABLE), "no_df")
    testable = flag.isin(TESTABLE)
    change, se = change.where(testable), se.where(testable)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (change / se).where(se > 0)
    quantile = np.where(df.notna(), stats.t.ppf((1 + level) / 2, df.fillna(1)), stats.norm.ppf((1 + level) / 2))
    p_value = np.where(
        df.notna(), 2 * stats.t.sf(np.abs(statistic), df.fillna(1)), 2 * stats.norm.sf(np.abs(statistic))
    )
    out = merged.assign(
        change=change,
        se_change=se,
        ci_low=change - quantile * se,
        ci_high=change + quantile * se,
        df=df,
        p_value=p_value,
        flag=flag,
        significant=pd.array(np.where(np.isnan(p_value), None, p_value < 1 - level), dtype="boolean"),
    )
    for column in ("series", "name"):
        if column not in out:
            out[column] = ""
    return out[COLUMNS].reset_index(drop=True)


def _check_disjoint(ids_a: pd.Series, ids_b: pd.Series) -> None:
    shared = pd.Index(ids_a).intersection(pd.Index(ids_b))
    if len(shared):
        examples = ", ".join(map(str, shared[:3]))
        raise AnalysisError(
            f"the two rounds share {len(shared)} submission(s) (e.g. {examples}): a round comparison "
            "needs separate respondents (its variance assumes independent samples); choose rounds "
            "that do not overlap"
        )


def _side(table: pd.DataFrame, suffix: str) -> pd.DataFrame:
    side = table[KEYS + [c for c in SIDE if c in table.columns]].copy()
    if "df" not in side:
        side["df"] = np.nan
    side["area"] = side["area"].astype(object).where(side["area"].notna(), None)
    return side.rename(columns={c: f"{c}_{suffix}" for c in SIDE})


TESTABLE = ["ok", "referencial", "unreliable"]  # estimates shown (read with care), so their change is tested


def _flag(merged: pd.DataFrame) -> pd.Series:
    """Why a change is or is not shown: the worse of the two rounds' flags, or the round the row is missing from."""
    flags = merged[["flag_a", "flag_b"]]
    return pd.Series(
        np.select(
            [
                merged["_merge"] == "right_only",
                merged["_merge"] == "left_only",
                (flags == "suppressed").any(axis=1),
                (flags == "unreliable").any(axis=1),
                (flags == "referencial").any(axis=1),
            ],
            ["only_in_b", "only_in_a", "suppressed", "unreliable", "referencial"],
            "ok",
        ),
        index=merged.index,
    )
