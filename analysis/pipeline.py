"""Responses + plan → the tidy estimate table, weight diagnostics and the weighted microdata.

One pass, in this order, so that nothing is computed on a plan that is wrong: recode (eligible respondents and
analysis variables) → check the plan against the data → design → calibration to the margins → every indicator
of the plan × every breakdown, in a few batched calls of the engine's `proportions_many` (one per distinct
breakdown list) → composites → excluded counts and reliability flags.

Every base is a domain of the one calibrated design: an indicator's y column is 1/0 inside its base and NaN
outside (not in its `domain`, or an `exclude`d answer, or unanswered), never a frame with rows dropped.

Composites (`mean_of`, e.g. 16.7.2 = mean of its two shares) are estimated as the mean, per respondent, of the
component answers over the respondents valid on every component (the common base). Its variance needs the
covariances of the components; the engine estimates proportions of 0/1 variables only, so the respondent score
S = Σ y_k ∈ {0..K} is written as nested 0/1 thresholds T_s = 1{S ≥ s} and every band 1{s ≤ S < t}: since
T_s − T_t is the band (s, t), Cov(T_s, T_t) = (V_s + V_t − V_band)/2, which gives the exact linearised,
calibration-aware variance of mean(S)/K from the engine's own variances. When the components' bases coincide
the composite equals the mean of the component shares; otherwise it is the mean of the shares among
respondents valid on all of them, and those valid on some only are counted in `n_excluded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from analysis import weights as weighting
from analysis.design import Design, make_design
from analysis.estimate import proportions_many
from analysis.intervals import beta_ci, logit_ci, wilson_ci
from analysis.plan import (Indicator, Plan, by_unique, check_against_data, evaluate_domain, read_form_choices,
                           selected_any)
from analysis.recode import derived_choices, recode

TIDY_COLUMNS = ["indicator", "series", "name", "by", "area", "group", "estimate", "se", "ci_low", "ci_high", "deff",
                "df", "n", "n_excluded", "population", "flag"]
WEIGHT = "weight"
ALL = "(all)"


@dataclass(frozen=True)
class Result:
    """What a plan run produces: the tidy table, weight diagnostics, the weighted microdata and what to tell."""

    estimates: pd.DataFrame
    diagnostics: pd.DataFrame
    microdata: pd.DataFrame
    recode_log: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    margins: list[pd.DataFrame] = field(default_factory=list)


def run(plan: Plan, responses: pd.DataFrame, choices: pd.DataFrame | None = None) -> Result:
    """Apply the plan to the submissions frame (strings, as the store gives them)."""
    recoded = recode(responses, plan.recode)
    data = recoded.data
    if choices is None and plan.form is not None:
        choices = pd.concat([read_form_choices(plan.form), derived_choices()], ignore_index=True)
    warnings = check_against_data(plan, data, choices)
    margins, data, margin_warnings = margins_for_sample(plan, data)
    warnings += margin_warnings
    data = expand_to_strata(plan, data, margins)
    ys, base, excluded = indicator_columns(plan, data)
    bands, band_names = band_columns(plan, ys, base)
    design = calibrate(plan, make_design(pd.concat([data, ys, bands], axis=1), plan.design.strata,
                                         plan.design.psu, plan.design.weight, plan.design.lonely_psu), margins)
    raw = _estimate_columns(plan, design, band_names)
    simple = raw[raw["indicator"].str.startswith("__y__")]
    table = pd.concat([simple.assign(indicator=simple["indicator"].str.removeprefix("__y__"))]
                      + [_combine_bands(raw, names, plan.indicator(i), plan, design)
                         for i, names in band_names.items()], ignore_index=True)
    table = _add_counts_and_flags(plan, table, design.data, excluded)
    microdata = data.assign(**{WEIGHT: design.weights})
    return Result(estimates=table, diagnostics=weighting.diagnostics(design), microdata=microdata,
                  recode_log=recoded.log, warnings=warnings, margins=margins)


# ---------------------------------------------------------------------------------------------------------
# margins and calibration


def margins_for_sample(plan: Plan, data: pd.DataFrame) -> tuple[list[pd.DataFrame], pd.DataFrame, list[str]]:
    """The plan's margins made usable with this sample, saying what was changed.

    Mid-fieldwork some strata have no respondent yet: their rows are dropped from every margin (the estimates
    then describe the surveyed strata only). Within a stratum, a margin category with no respondent (e.g. no
    man interviewed yet in a neighbourhood) cannot be raked to, and one with very few (below the plan's
    `min_cell`) gives wild weights: that stratum's rows of that margin collapse to the stratum total (a copy of
    the category column, `<column>__raking`, holds "(all)" there), the standard cell collapsing. Margins without
    the strata column are used as they are (the engine names any empty cell).
    """
    strata = plan.design.strata
    margins, warnings = [], []
    for spec in plan.margins:
        table = spec.table.copy()
        if strata and strata in spec.columns:
            present = set(data[strata].astype(str))
            absent = table[~table[strata].astype(str).isin(present)]
            if len(absent):
                names = sorted(absent[strata].unique())
                warnings.append(f"{spec.file.name}: no respondent yet in {strata} {', '.join(names)}; their "
                                f"population ({absent['population'].sum():,.0f}) is left out of the weighting")
                table = table[table[strata].astype(str).isin(present)]
            others = [c for c in spec.columns if c != strata]
            if len(others) == 1:
                table, data, note = _collapse_small_cells(table, data, strata, others[0], spec.file.name,
                                                          plan.weights.min_cell)
                warnings += note
        margins.append(table.reset_index(drop=True))
    return margins, data, warnings


def _collapse_small_cells(table, data, strata, column, file_name, min_cell):
    counts = data.groupby([data[strata].astype(str), data[column].astype(str)]).size()
    keys = pd.MultiIndex.from_arrays([table[strata].astype(str), table[column].astype(str)])
    empty = (counts.reindex(keys).fillna(0).to_numpy() < min_cell) & (table["population"].to_numpy() > 0)
    if not empty.any():
        return table, data, []
    collapse = sorted(set(table.loc[empty, strata].astype(str)))
    raking = f"{column}__raking"
    in_collapsed = table[strata].astype(str).isin(collapse)
    totals = table[in_collapsed].groupby(strata, as_index=False)["population"].sum().assign(**{raking: ALL})
    kept = table[~in_collapsed].rename(columns={column: raking})
    table = pd.concat([kept, totals], ignore_index=True)[[strata, raking, "population"]]
    data = data.assign(**{raking: data[column].astype(str).where(~data[strata].astype(str).isin(collapse), ALL)})
    fewer = "no respondent" if min_cell == 1 else f"fewer than {min_cell} respondents"
    note = [f"{file_name}: some {column} category has {fewer} in {strata} {', '.join(collapse)}; "
            f"raked to the {strata} total there instead of by {column}"]
    return table, data, note


def expand_to_strata(plan: Plan, data: pd.DataFrame, margins: list[pd.DataFrame]) -> pd.DataFrame:
    """Scale the design weight within each stratum to the stratum's population in the margins.

    The recoded design weight is the within-household factor (number of adults); households are taken with
    (roughly) equal probability within a neighbourhood, so the full inverse inclusion probability is that factor
    × N_h / Σ_h factor. Without this step the raking factors g = final / design weight would be in the
    thousands and the plan's trimming bounds (e.g. [0.3, 3]) meaningless.
    """
    strata, weight = plan.design.strata, plan.design.weight
    margin = next((m for m in margins if strata and strata in m.columns), None)
    if margin is None or not weight:
        return data
    population = margin.groupby(margin[strata].astype(str))["population"].sum()
    base = pd.to_numeric(data[weight], errors="coerce")
    key = data[strata].astype(str)
    factor = key.map(population) / base.groupby(key).transform("sum")
    return data.assign(**{weight: base * factor})


def calibrate(plan: Plan, design: Design, margins: list[pd.DataFrame]) -> Design:
    """Rake, post-stratify or leave the design weights, as the plan's [weights] says."""
    method = plan.weights.method
    if method == "rake":
        return weighting.rake(design, margins, trim=plan.weights.trim, epsilon=plan.weights.epsilon,
                              maxit=plan.weights.maxit)
    if method == "poststratify":
        return weighting.poststratify(design, margins[0])
    return design


# ---------------------------------------------------------------------------------------------------------
# indicator columns


def indicator_columns(plan: Plan, data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """For each share indicator: y (1/0 in the base, NaN outside), its base and its excluded rows (booleans).

    Excluded = in the domain but not in the base: an `exclude`d answer, or no answer at all.
    """
    ys, base, excluded = {}, {}, {}
    for ind in plan.indicators:
        if ind.mean_of:
            continue
        in_domain = evaluate_domain(ind.domain, data)
        values = data[ind.variable]
        if ind.multiple:
            success = selected_any(values, ind.success).fillna(False).astype(bool)
            excluded_only = set(ind.exclude)
            dropped = by_unique(values, lambda a: set(a.split()) <= excluded_only).fillna(False).astype(bool)
        else:
            success = values.isin(ind.success)
            dropped = values.isin(ind.exclude)
        answered = values.notna() & ~dropped
        in_base = in_domain & answered
        ys[ind.id] = success.astype(float).where(in_base)
        base[ind.id] = in_base
        excluded[ind.id] = in_domain & ~answered
    for ind in plan.indicators:
        if ind.mean_of:
            common = pd.concat([base[c] for c in ind.mean_of], axis=1).all(axis=1)
            any_domain = pd.concat([base[c] | excluded[c] for c in ind.mean_of], axis=1).any(axis=1)
            base[ind.id] = common
            excluded[ind.id] = any_domain & ~common
    columns = {_y(i): v for i, v in ys.items()}
    return (pd.DataFrame(columns, index=data.index), pd.DataFrame(base, index=data.index),
            pd.DataFrame(excluded, index=data.index))


def _y(indicator_id: str) -> str:
    return f"__y__{indicator_id}"


def _breakdown_specs(plan: Plan, ind: Indicator) -> list:
    """The indicator's breakdowns, plus each one within the plan's area (neighbourhood × sex, …)."""
    by = list(plan.breakdowns(ind))
    area = plan.estimation.area
    return by + [(area, b) for b in by if area and b != area]


# ---------------------------------------------------------------------------------------------------------
# estimation


def band_columns(plan: Plan, ys: pd.DataFrame, base: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """For each mean_of indicator, the 0/1 band columns 1{s <= S < t} of its score S (see the module docstring).

    Returns the columns and, per composite, {(s, t): column name}; (0, K+1) is the common base itself.
    """
    columns, names = {}, {}
    for ind in plan.indicators:
        if not ind.mean_of:
            continue
        k = len(ind.mean_of)
        score = sum(ys[_y(c)].fillna(0) for c in ind.mean_of).where(base[ind.id])
        keys = [(0, k + 1)] + [(s, t) for s in range(1, k + 1) for t in range(s + 1, k + 2)]
        names[ind.id] = {key: f"__band__{ind.id}__{key[0]}_{key[1]}" for key in keys}
        for (s, t), name in names[ind.id].items():
            columns[name] = ((score >= s) & (score < t)).astype(float).where(score.notna())
    return pd.DataFrame(columns, index=ys.index), names


def _estimate_columns(plan: Plan, design: Design, band_names: dict) -> pd.DataFrame:
    """Every y and band column, batched: one `proportions_many` call per distinct breakdown list."""
    groups: dict[tuple, list[str]] = {}
    for ind in plan.indicators:
        columns = list(band_names[ind.id].values()) if ind.mean_of else [_y(ind.id)]
        groups.setdefault(tuple(_breakdown_specs(plan, ind)), []).extend(columns)
    return pd.concat([proportions_many(design, columns, by=list(specs), ci=plan.estimation.ci,
                                       level=plan.estimation.level) for specs, columns in groups.items()],
                     ignore_index=True)


def _combine_bands(table, names, ind, plan, design) -> pd.DataFrame:
    k = len(ind.mean_of)
    # proportions_many returns each indicator's rows as one block, in the same (by, area, group) order
    rows = table[table["indicator"].isin(list(names.values()))].groupby("indicator", sort=False)
    block = {key: rows.get_group(name).reset_index(drop=True) for key, name in names.items()}
    first = block[(0, k + 1)]
    p = {key: rows["estimate"].to_numpy() for key, rows in block.items()}
    v = {key: rows["se"].to_numpy() ** 2 for key, rows in block.items()}
    top = k + 1
    estimate = sum(p[(s, top)] for s in range(1, top)) / k
    variance = sum(v[(s, top)] for s in range(1, top))
    for s in range(1, top):
        for t in range(s + 1, top):
            variance = variance + (v[(s, top)] + v[(t, top)] - v[(s, t)])  # 2·Cov(T_s, T_t)
    variance = np.clip(variance / k**2, 0.0, None)  # a sum of differences can round to -1e-18 where it is 0
    n, population, df = first["n"].to_numpy(), first["population"].to_numpy(), first["df"].to_numpy()
    mean_sq = sum((s / k) ** 2 * p[(s, s + 1)] for s in range(1, top))
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (mean_sq - estimate**2) * n / (n - 1)
        srs = s2 / n * (population - n) / population
        deff = np.where((n > 1) & (population > n), variance / srs, np.nan)
    n_design = design.n if design.calibrated else n
    low, high = _interval(plan.estimation.ci, estimate, variance, df, n_design, plan.estimation.level)
    return first[["by", "area", "group"]].assign(indicator=ind.id, estimate=estimate, se=np.sqrt(variance),
                                                 ci_low=low, ci_high=high, deff=deff, n=n, population=population,
                                                 df=df)


def _interval(method, p, variance, df, n_design, level):
    if method == "logit":
        return logit_ci(p, variance, df, level)
    if method == "beta":
        return beta_ci(p, variance, df, n_design, level)
    return wilson_ci(p, variance, df, level)


def _add_counts_and_flags(plan: Plan, table: pd.DataFrame, data: pd.DataFrame, excluded: pd.DataFrame):
    """n_excluded per row (one sparse product per breakdown), indicator names/series, flags and suppression."""
    matrix = sparse.csc_matrix(excluded.to_numpy(dtype=float))
    counts = [_excluded_counts(spec, data, matrix, excluded.columns.to_numpy()) for spec in [None] + _all_specs(plan)]
    count_table = pd.concat(counts, ignore_index=True).drop_duplicates(["indicator", "by", "area", "group"])
    table = table.copy()
    table["area"] = table["area"].astype(object).where(table["area"].notna(), None)
    table = table.merge(count_table, on=["indicator", "by", "area", "group"], how="left")
    table["n_excluded"] = table["n_excluded"].fillna(0).astype("int64")
    table["n"] = table["n"].astype("int64")
    info = pd.DataFrame([(i.id, i.series, i.name) for i in plan.indicators], columns=["indicator", "series", "name"])
    table = table.merge(info, on="indicator", how="left")
    est = plan.estimation
    table["flag"] = np.select([table["n"] < max(est.suppress_n, 1), table["n"] < est.min_n], ["suppressed", "unreliable"],
                              "ok")
    table.loc[table["flag"] == "suppressed", ["estimate", "se", "ci_low", "ci_high", "deff"]] = np.nan
    order = {i.id: k for k, i in enumerate(plan.indicators)}
    table = table.assign(_o=table["indicator"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    return table[TIDY_COLUMNS].reset_index(drop=True)


def _all_specs(plan: Plan) -> list:
    specs = []
    for ind in plan.indicators:
        for spec in _breakdown_specs(plan, ind):
            if spec not in specs:
                specs.append(spec)
    return specs


def _excluded_counts(spec, data: pd.DataFrame, excluded: sparse.csc_matrix, indicators: np.ndarray) -> pd.DataFrame:
    """Excluded respondents per group of one breakdown, every indicator at once (one sparse matrix product)."""
    if spec is None:
        codes, groups, areas, name = np.zeros(len(data), np.int64), ["all"], [None], "overall"
    elif isinstance(spec, str):
        codes, labels = pd.factorize(data[spec], sort=True)
        groups, areas, name = list(labels), [None] * len(labels), spec
    else:
        area, variable = spec
        area_codes, area_labels = pd.factorize(data[area], sort=True)
        var_codes, var_labels = pd.factorize(data[variable], sort=True)
        pair = np.where((area_codes >= 0) & (var_codes >= 0), area_codes * len(var_labels) + var_codes, -1)
        present = np.unique(pair[pair >= 0])
        codes = np.where(pair >= 0, np.searchsorted(present, pair), -1)
        groups = [var_labels[k % len(var_labels)] for k in present]
        areas, name = [area_labels[k // len(var_labels)] for k in present], variable
    keep = codes >= 0
    onehot = sparse.csr_matrix((np.ones(keep.sum()), (codes[keep], np.flatnonzero(keep))),
                               shape=(len(groups), len(data)))
    matrix = (onehot @ excluded).toarray()
    return pd.DataFrame({
        "indicator": np.tile(indicators, len(groups)),
        "by": name,
        "area": np.repeat(np.array(areas, dtype=object), len(indicators)),
        "group": np.repeat(np.array(groups, dtype=object), len(indicators)),
        "n_excluded": matrix.ravel(),
    })
