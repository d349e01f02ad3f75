"""Responses + plan → the tidy estimate table, weight diagnostics and the weighted microdata.

One pass, in this order, so that nothing is computed on a plan that is wrong: recode (eligible respondents and
analysis variables) → check the plan against the data → design → calibration to the margins → every indicator
of the plan × every breakdown, in a few batched calls of the engine's `proportions_many` (one per distinct
breakdown list) → composites → excluded counts and reliability flags.

Every base is a domain of the one calibrated design: an indicator's y column is 1/0 inside its base and NaN
outside (not in its `domain`, or an `exclude`d answer, or unanswered), never a frame with rows dropped.

Composites (`mean_of`, e.g. 16.7.2 = mean of its two shares) are estimated as the weighted mean of a
respondent score Y: the mean of the component answers, over respondents valid on every component
(`mean_over = "all"`) or on at least one (`"any"`, the mean of those answered). The variance needs the
components' covariances, and the engine estimates proportions of 0/1 variables only, so Y, which takes the
levels 0 = v_0 < v_1 < … < v_m, is written as Σ_s (v_s − v_{s−1})·T_s with nested thresholds T_s = 1{Y ≥ v_s};
since T_s − T_t is the band 1{v_s ≤ Y < v_t}, Cov(T_s, T_t) = (V_s + V_t − V_band)/2, which gives the exact
linearised, calibration-aware variance of the mean of Y from the engine's own variances (checked by hand in
tests/analysis/test_pipeline.py, and equal to R's svymean on the raked design). With "all" and coinciding
component bases this is exactly the mean of the component shares; otherwise those valid on too few components
are counted in `n_excluded`. Cost: one column per band, m(m+1)/2 + 1 (16.7.2: 4; a 5-item "any" mean: 56).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import sparse

from analysis import weights as weighting
from analysis.design import Design, make_design
from analysis.estimate import proportions_many
from analysis.intervals import beta_ci, logit_ci, wilson_ci
from analysis.plan import Indicator, Plan, check_against_data, evaluate_domain, read_form_choices
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
    design_data = pd.concat([data[_design_columns(plan, data, margins)], ys, bands], axis=1)
    design = calibrate(plan, make_design(design_data, plan.design.strata, plan.design.psu, plan.design.weight,
                                         plan.design.lonely_psu), margins)
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


def _design_columns(plan: Plan, data: pd.DataFrame, margins: list[pd.DataFrame]) -> list[str]:
    """The columns the design and the breakdowns need: the answers themselves are already in the y columns."""
    wanted = [plan.design.strata, plan.design.psu, plan.design.weight, plan.estimation.area]
    wanted += [c for m in margins for c in m.columns if c != "population"]
    wanted += [b for ind in plan.indicators for b in plan.breakdowns(ind)]
    return list(dict.fromkeys(c for c in wanted if c and c in data.columns))


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
    domains: dict[str, np.ndarray] = {}  # many indicators share a domain (e.g. the users of a service)
    for ind in plan.indicators:
        if ind.mean_of:
            continue
        if ind.domain not in domains:
            domains[ind.domain] = evaluate_domain(ind.domain, data).to_numpy()
        success, answered = _classify(data[ind.variable], ind)
        in_base = domains[ind.domain] & answered
        ys[ind.id] = np.where(in_base, success.astype(float), np.nan)
        base[ind.id] = in_base
        excluded[ind.id] = domains[ind.domain] & ~answered
    for ind in plan.indicators:
        if ind.mean_of:
            valid = np.column_stack([base[c] for c in ind.mean_of])
            in_base = valid.all(axis=1) if ind.mean_over == "all" else valid.any(axis=1)
            any_domain = np.column_stack([base[c] | excluded[c] for c in ind.mean_of]).any(axis=1)
            base[ind.id] = in_base
            excluded[ind.id] = any_domain & ~in_base
    columns = {_y(i): v for i, v in ys.items()}
    return (pd.DataFrame(columns, index=data.index), pd.DataFrame(base, index=data.index),
            pd.DataFrame(excluded, index=data.index))


def _classify(values: pd.Series, ind: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is the answer a success, and is it a usable answer (present and not excluded)?

    Works on the distinct answers (`pd.factorize`) and maps back by code: one hash pass per column instead of
    several (isin, notna, …), which is what string columns cost at 1M rows.
    """
    codes, uniques = pd.factorize(values)
    if ind.multiple:
        chosen = [set(str(u).split()) for u in uniques]
        success = np.array([bool(c & set(ind.success)) for c in chosen] + [False])
        dropped = np.array([bool(c) and c <= set(ind.exclude) for c in chosen] + [True])
    else:
        success = np.append(np.isin(uniques.astype(object), list(ind.success)), False)
        dropped = np.append(np.isin(uniques.astype(object), list(ind.exclude)), True)
    return success[codes], ~dropped[codes]   # code -1 (missing) picks the appended last entry


def _y(indicator_id: str) -> str:
    return f"__y__{indicator_id}"


def _breakdown_specs(plan: Plan, ind: Indicator) -> list:
    """The indicator's breakdowns, plus each one within the plan's area (neighbourhood × sex, …)."""
    by = list(plan.breakdowns(ind))
    area = plan.estimation.area
    return by + [(area, b) for b in by if area and b != area]


# ---------------------------------------------------------------------------------------------------------
# estimation


def score_levels(k: int, mean_over: str) -> np.ndarray:
    """The values a respondent's mean of k 0/1 answers can take: j/k over all k, or j/a for a answered."""
    denominators = [k] if mean_over == "all" else range(1, k + 1)
    return np.array(sorted({Fraction(j, a) for a in denominators for j in range(a + 1)}), dtype=float)


def band_columns(plan: Plan, ys: pd.DataFrame, base: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """For each mean_of indicator, the 0/1 band columns 1{v_s <= Y < v_t} of its respondent score Y over the
    score levels v_0 = 0 < … < v_m (see the module docstring); band (s, m+1) is the threshold T_s = 1{Y >= v_s}.

    Returns the columns and, per composite, {(s, t): column name}; (0, m+1) is the composite's base itself.
    """
    columns, names = {}, {}
    for ind in plan.indicators:
        if not ind.mean_of:
            continue
        answers = pd.concat([ys[_y(c)] for c in ind.mean_of], axis=1)
        score = answers.mean(axis=1, skipna=True).where(base[ind.id])
        levels = score_levels(len(ind.mean_of), ind.mean_over)
        level = pd.Series(np.searchsorted(levels, score.to_numpy() - 1e-9), index=score.index).where(score.notna())
        top = len(levels)
        keys = [(0, top)] + [(s, t) for s in range(1, top) for t in range(s + 1, top + 1)]
        names[ind.id] = {key: f"__band__{ind.id}__{key[0]}_{key[1]}" for key in keys}
        for (s, t), name in names[ind.id].items():
            columns[name] = ((level >= s) & (level < t)).astype(float).where(level.notna())
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
    """Y = Σ_s c_s T_s with c_s = v_s − v_{s−1}; Var = Σ c_s² V_s + 2 Σ_{s<t} c_s c_t Cov(T_s, T_t), where
    Cov(T_s, T_t) = (V_s + V_t − V_band(s,t)) / 2 because T_s − T_t is the band (s, t)."""
    levels = score_levels(len(ind.mean_of), ind.mean_over)
    top = len(levels)
    step = np.diff(levels)  # step[s - 1] = c_s
    # proportions_many returns each indicator's rows as one block, in the same (by, area, group) order
    rows = table[table["indicator"].isin(list(names.values()))].groupby("indicator", sort=False)
    block = {key: rows.get_group(name).reset_index(drop=True) for key, name in names.items()}
    first = block[(0, top)]
    p = {key: rows["estimate"].to_numpy() for key, rows in block.items()}
    v = {key: rows["se"].to_numpy() ** 2 for key, rows in block.items()}
    estimate = sum(step[s - 1] * p[(s, top)] for s in range(1, top))
    variance = sum(step[s - 1] ** 2 * v[(s, top)] for s in range(1, top))
    for s in range(1, top):
        for t in range(s + 1, top):
            covariance = (v[(s, top)] + v[(t, top)] - v[(s, t)]) / 2
            variance = variance + 2 * step[s - 1] * step[t - 1] * covariance
    variance = np.clip(variance, 0.0, None)  # a sum of differences can round to -1e-18 where it is 0
    mean_sq = sum(levels[s] ** 2 * p[(s, s + 1)] for s in range(1, top))
    n, population, df = first["n"].to_numpy(), first["population"].to_numpy(), first["df"].to_numpy()
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
