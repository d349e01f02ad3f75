"""Responses + plan → the tidy estimate table, weight diagnostics and the weighted microdata.

One pass, in this order, so that nothing is computed on a plan that is wrong: recode (eligible respondents and
analysis variables) → check the plan against the data → design → calibration to the margins → every indicator
of the plan × every breakdown, in a few batched calls of the engine (`estimate_many`: shares and composite
scores together; one call per distinct breakdown list) → excluded counts and reliability
flags. Whole-column numpy work throughout, no loop over rows or groups: benchmarks/analysis_pipeline.py times
this at 10k, 100k and 1M submissions (benchmarks/analysis.md).

Every base is a domain of the one calibrated design: an indicator's y column is 1/0 inside its base and NaN
outside (not in its `domain`, or an `exclude`d answer, or unanswered), never a frame with rows dropped.

Composites (`mean_of`, e.g. 16.7.2 = mean of its two shares) are estimated as the weighted mean of a
respondent score Y: the mean of the component answers, over respondents valid on every component
(`mean_over = "all"`) or on at least one (`"any"`, the mean of those answered), with the engine's `means_many`
part (R: `svymean(~Y, subset(raked, !is.na(Y)))`, checked against R in tests/golden/composites.csv). With "all" and
coinciding component bases this is exactly the mean of the component shares; otherwise those valid on too few
components are counted in `n_excluded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from analysis import weights as weighting
from analysis.design import Design, make_design, with_fpc
from analysis.domains import evaluate_domain, expression_columns
from analysis.errors import AnalysisError
from analysis.estimate import breakdown_of, estimate_many
from analysis.nonresponse import SampleWeights, design_weights
from analysis.plan import Indicator, Plan, as_number, is_frame_file, matches
from analysis.plan_checks import check_against_data, outside_margins
from analysis.recode import derived_choices, recode
from analysis.replicates import Replicates, replicate
from forms.choices import read_form_choices, read_form_fields

TIDY_COLUMNS = [
    "indicator",
    "series",
    "name",
    "by",
    "area",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "df",
    "n",
    "n_excluded",
    "population",
    "flag",
]
WEIGHT = "weight"
ALL = "(all)"


@dataclass(frozen=True)
class Result:
    """What a plan run produces: the tidy table, weight diagnostics, the weighted microdata and what to tell."""

    estimates: pd.DataFrame
    diagnostics: pd.DataFrame
    recode_log: pd.DataFrame
    analysis_data: pd.DataFrame  # the eligible respondents: the columns the plan reads, analysis variables, weight
    responses: pd.DataFrame = field(repr=False)  # the submissions as given (a copy-on-write view)
    eligible: np.ndarray = field(repr=False)  # which of them `recode` kept
    warnings: list[str] = field(default_factory=list)
    margins: list[pd.DataFrame] = field(default_factory=list)
    sample: SampleWeights = field(default_factory=lambda: SampleWeights(probability=False))
    replicates: Replicates | None = field(default=None, repr=False)  # with [estimation] variance = jk1|jkn|bootstrap
    set_aside: pd.DataFrame | None = None  # submissions raking cannot place: instance_id, line, reason

    @cached_property
    def microdata(self) -> pd.DataFrame:
        """Every submission column of the eligible respondents (in the submissions' order), then the analysis
        variables and the final weight; with replicate variance, the replicate weights `repw_1` … `repw_R`
        (R: `svrepdesign(weights=~weight, repweights="repw_[0-9]+", scale=, rscales=)` with the run's
        `replicates.scale` and `rscales`, given in the methods note).

        Assembled on first use: the run carries only the columns its plan reads through recode's row filter
        (filtering text columns is most of recode's time at 1M rows, benchmarks/analysis.md); the others are
        filtered here, for whoever asks (0.1 s at 1M for the default plan's 14 other columns)."""
        data = self.analysis_data
        rest = [c for c in self.responses.columns if c not in data.columns]
        others = self.responses.loc[self.eligible, rest].reset_index(drop=True)
        order = [c for c in self.responses.columns] + [c for c in data.columns if c not in self.responses.columns]
        columns = {c: data[c] if c in data.columns else others[c] for c in order}
        if self.replicates is not None:
            weights = self.replicates.row_weights(data[WEIGHT].to_numpy(dtype=float))
            columns |= {f"repw_{r + 1}": weights[:, r] for r in range(weights.shape[1])}
        return pd.DataFrame(columns, copy=False)


def run(plan: Plan, responses: pd.DataFrame, choices: pd.DataFrame | None = None) -> Result:
    """Apply the plan to the submissions frame (strings, as the store gives them)."""
    recoded = recode(_with_form_fields(plan, responses), plan.recode, columns=plan.required_columns())
    data, sample = design_weights(plan, responses, recoded.data, recoded.eligible)
    eligible = recoded.eligible if sample.eligible is None else sample.eligible
    if choices is None and plan.form is not None:
        choices = pd.concat([read_form_choices(plan.form), derived_choices()], ignore_index=True)
    warnings = sample.warnings + check_against_data(plan, data, choices)
    set_aside = _NONE_ASIDE
    aside, reasons = outside_margins(plan, data)
    if aside.any():
        eligible, set_aside, note = _set_aside(responses, eligible, aside, reasons)
        data = data[~aside].reset_index(drop=True)
        warnings.append(note)
        if data.empty:
            raise AnalysisError(note)
    margins, data, margin_warnings = margins_for_sample(plan, data)
    warnings += margin_warnings
    if not sample.probability:  # recorded probabilities already estimate the population: nothing to scale
        data = expand_to_strata(plan, data, margins)
    ys, base, excluded = indicator_columns(plan, data)
    scores = composite_scores(plan, ys, base)
    design_data = pd.concat([_categories(data[_design_columns(plan, data, margins)]), ys, scores], axis=1)
    spec = plan.design
    column_fpc = None if is_frame_file(spec.fpc) else spec.fpc  # a frame file: its blocks per stratum (frame_fpc)
    design = make_design(
        design_data,
        spec.strata,
        spec.psu,
        spec.weight,
        spec.lonely_psu,
        fpc=column_fpc,
        adjust_domain_lonely=spec.adjust_domain_lonely,
    )
    design = calibrate(plan, frame_fpc(plan, design), margins)
    est = plan.estimation
    replicates = None
    if est.variance != "linearization":
        replicates = replicate(
            design, est.variance, est.replicates, est.seed, epsilon=plan.weights.epsilon, maxit=plan.weights.maxit
        )
    table = _estimate_columns(plan, design, replicates)
    table = _add_counts_and_flags(plan, table, design.data, excluded)
    return Result(
        estimates=table,
        diagnostics=weighting.diagnostics(design),
        recode_log=recoded.log,
        analysis_data=data.assign(**{WEIGHT: design.weights}),
        responses=responses.copy(deep=False),
        eligible=eligible,
        warnings=warnings,
        margins=margins,
        sample=sample,
        replicates=replicates,
        set_aside=set_aside,
    )


def _with_form_fields(plan: Plan, responses: pd.DataFrame) -> pd.DataFrame:
    """Submissions of an older form version lack the questions added later: a question of the plan's form that an
    indicator reads (its variable or domain) and the data lack is added as unanswered, so v1 rows sit outside a
    v2-only base; design, margin and breakdown columns, and anything not in the form, stay errors of the plan."""
    if plan.form is None:
        return responses
    read = {
        c
        for i in plan.indicators
        for c in ([i.variable] if i.variable else []) + sorted(expression_columns(i.domain) if i.domain else [])
    }
    wanted = read - set(responses.columns)
    added = [name for name in read_form_fields(plan.form)["name"] if name in wanted]
    if not added:
        return responses
    return responses.assign(**{name: pd.Series(np.nan, index=responses.index, dtype=object) for name in added})


_NONE_ASIDE = pd.DataFrame({"instance_id": [], "line": [], "reason": []})


def _set_aside(responses: pd.DataFrame, eligible: np.ndarray, aside: np.ndarray, reasons: list[str]):
    """The submissions raking cannot place, named by instance id and spreadsheet line (header = line 1), and the
    warning that says so (Spanish first); the rest is estimated."""
    rows = np.flatnonzero(eligible)[aside]
    kept = eligible.copy()
    kept[rows] = False
    ids = (
        responses["instance_id"].iloc[rows].astype(str).to_numpy()
        if "instance_id" in responses.columns
        else np.full(len(rows), "")
    )
    table = pd.DataFrame({"instance_id": ids, "line": rows + 2, "reason": "; ".join(reasons)})
    named = ", ".join(f"{i} (línea/line {n})" if i else f"línea/line {n}" for i, n in zip(ids[:10], rows[:10] + 2))
    more = f" … (+{len(rows) - 10})" if len(rows) > 10 else ""
    note = (
        f"{len(rows)} respuesta(s) apartada(s) de la ponderación y de las estimaciones: {'; '.join(reasons)} / "
        f"{len(rows)} submission(s) set aside from weighting and estimates (no population in the margins): "
        f"{named}{more}"
    )
    return kept, table, note


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
            present = set(data[strata].astype(str).unique())  # the distinct values, not 1M strings
            absent = table[~table[strata].astype(str).isin(present)]
            if len(absent):
                names = sorted(absent[strata].unique())
                warnings.append(
                    f"{spec.file.name}: no respondent yet in {strata} {', '.join(names)}; their "
                    f"population ({absent['population'].sum():,.0f}) is left out of the weighting"
                )
                table = table[table[strata].astype(str).isin(present)]
            others = [c for c in spec.columns if c != strata]
            if len(others) == 1:
                table, data, note = _collapse_small_cells(
                    table, data, strata, others[0], spec.file.name, plan.weights.min_cell
                )
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
    note = [
        f"{file_name}: some {column} category has {fewer} in {strata} {', '.join(collapse)}; "
        f"raked to the {strata} total there instead of by {column}"
    ]
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
    codes, strata_seen = pd.factorize(data[strata].astype(str))  # map by code: Series.map took 0.27 s at 1M rows
    stratum_population = np.append(population.reindex(strata_seen).to_numpy(dtype=float), np.nan)[codes]
    factor = stratum_population / base.groupby(codes).transform("sum")
    return data.assign(**{weight: base * factor})


def frame_fpc(plan: Plan, design: Design) -> Design:
    """`[design] fpc` naming a frame file: its blocks per stratum as the first-stage finite population correction."""
    if not is_frame_file(plan.design.fpc):
        return design
    frame = pd.read_csv(plan.design.fpc, dtype=str)
    column = plan.design.strata if plan.design.strata in frame.columns else "neighbourhood"
    return with_fpc(design, frame.groupby(column).size())


def _design_columns(plan: Plan, data: pd.DataFrame, margins: list[pd.DataFrame]) -> list[str]:
    """The columns the design and the breakdowns need: the answers themselves are already in the y columns."""
    wanted = [plan.design.strata, plan.design.psu, plan.design.weight, plan.design.fpc, plan.estimation.area]
    wanted += [c for m in margins for c in m.columns if c != "population"]
    wanted += [b for ind in plan.indicators for b in plan.breakdowns(ind)]
    return list(dict.fromkeys(c for c in wanted if c and c in data.columns))


def _categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns of the design (strata, PSU, breakdowns) as Categoricals: the engine factorizes each of them
    several times (design, raking cells, every breakdown, excluded counts) and codes make that free."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return frame.astype({c: "category" for c in text})


def calibrate(plan: Plan, design: Design, margins: list[pd.DataFrame]) -> Design:
    """Rake, post-stratify or leave the design weights, as the plan's [weights] says."""
    method = plan.weights.method
    if method == "rake":
        return weighting.rake(
            design, margins, trim=plan.weights.trim, epsilon=plan.weights.epsilon, maxit=plan.weights.maxit
        )
    if method == "poststratify":
        return weighting.poststratify(design, margins[0])
    return design


# ---------------------------------------------------------------------------------------------------------
# indicator columns


def indicator_columns(plan: Plan, data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """For each share indicator: y (1/0 in the base, NaN outside), its base and its excluded rows (booleans).

    Excluded = in the domain but not in the base: an `exclude`d answer, or no answer at all. Each result is one
    2-D array wrapped as a frame (no per-column blocks to stack), and each answer column is factorized once
    however many indicators read it: at 1M rows string passes are what this step costs. When every share is a
    proportion (y is 1, 0 or NaN) the y columns are float32, which holds those exactly: float64 was 0.59 GB at 1M
    rows for the default plan, held through the engine (readers take the columns as float64).
    """
    shares = [ind for ind in plan.indicators if not ind.mean_of]  # and means/totals: a y column each
    ids = [ind.id for ind in plan.indicators]
    column = {i: k for k, i in enumerate(ids)}
    binary = all(ind.statistic == "proportion" for ind in shares)
    ys = np.empty((len(data), len(shares)), dtype=np.float32 if binary else float, order="F")  # all written below
    base = np.zeros((len(data), len(ids)), dtype=bool, order="F")
    excluded = np.zeros_like(base)
    domains: dict[str, np.ndarray] = {}  # many indicators share a domain (e.g. the users of a service)
    factorized: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for j, ind in enumerate(shares):
        if ind.domain not in domains:
            domains[ind.domain] = evaluate_domain(ind.domain, data).to_numpy(dtype=bool)
        if ind.variable not in factorized:
            codes, uniques = pd.factorize(data[ind.variable])
            factorized[ind.variable] = codes, np.asarray(uniques, dtype=object)
        codes, uniques = factorized[ind.variable]
        y_of_code, answered_of_code = (
            _values(uniques, ind) if ind.statistic != "proportion" else _classify(uniques, ind)
        )
        y, answered = y_of_code[codes], answered_of_code[codes]
        if ind.domain.strip():  # the whole sample is the domain otherwise: spare three 1M-row passes
            ys[:, j] = np.where(domains[ind.domain], y, np.nan)
            base[:, column[ind.id]] = domains[ind.domain] & answered
            excluded[:, column[ind.id]] = domains[ind.domain] & ~answered
        else:
            ys[:, j] = y
            base[:, column[ind.id]] = answered
            excluded[:, column[ind.id]] = ~answered
    for ind in plan.indicators:
        if ind.mean_of:
            valid = base[:, [column[c] for c in ind.mean_of]]
            in_base = valid.all(axis=1) if ind.mean_over == "all" else valid.any(axis=1)  # any, shares
            any_domain = (valid | excluded[:, [column[c] for c in ind.mean_of]]).any(axis=1)
            base[:, column[ind.id]] = in_base
            excluded[:, column[ind.id]] = any_domain & ~in_base
    return (
        pd.DataFrame(ys, columns=[_y(ind.id) for ind in shares], index=data.index, copy=False),
        pd.DataFrame(base, columns=ids, index=data.index, copy=False),
        pd.DataFrame(excluded, columns=ids, index=data.index, copy=False),
    )


def _classify(uniques: np.ndarray, ind: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct answer (`pd.factorize` uniques, then one entry for a missing answer, code -1): y (1 success,
    0 other, NaN if not usable: missing or excluded) and whether it is usable.

    Working on the distinct answers and mapping back by code is one hash pass per column instead of several
    (isin, notna, …).
    """
    if ind.multiple:
        chosen = [set(str(u).split()) for u in uniques]
        success = np.array([bool(c & set(ind.success)) for c in chosen] + [False])
        dropped = np.array([bool(c) and c <= set(ind.exclude) for c in chosen] + [True])
    else:
        success = np.append(matches(uniques, ind.success), False)
        dropped = np.append(matches(uniques, ind.exclude), True)
    return np.where(dropped, np.nan, success.astype(float)), ~dropped


def _values(uniques: np.ndarray, ind: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """As `_classify`, for a mean or total: y is the answer as a number (NaN for `exclude` codes and missing)."""
    numbers = np.array([as_number(u) for u in uniques] + [None], dtype=float)
    dropped = np.append(matches(uniques, ind.exclude), True) | np.isnan(numbers)
    return np.where(dropped, np.nan, numbers), ~dropped


def _y(indicator_id: str) -> str:
    return f"__y__{indicator_id}"


def _breakdown_specs(plan: Plan, ind: Indicator) -> list:
    """The indicator's breakdowns, plus each one within the plan's area (neighbourhood × sex, …)."""
    by = list(plan.breakdowns(ind))
    area = plan.estimation.area
    return by + [(area, b) for b in by if area and b != area]


# ---------------------------------------------------------------------------------------------------------
# estimation


def composite_scores(plan: Plan, ys: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """For each mean_of indicator, the respondent score Y: the mean of its component answers (NaN outside its
    base: valid on every component with mean_over = "all", on at least one with "any")."""
    scores = {}
    for ind in plan.indicators:
        if ind.mean_of and ind.mean_over != "shares":  # an average of shares has no respondent score
            answers = ys[[_y(c) for c in ind.mean_of]].to_numpy(dtype=float)
            answered = (~np.isnan(answers)).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(answers, axis=1) / answered
            scores[_y(ind.id)] = np.where(base[ind.id].to_numpy(), mean, np.nan)
    return pd.DataFrame(scores, index=ys.index)


def _estimate_columns(plan: Plan, design: Design, replicates: Replicates | None) -> pd.DataFrame:
    """Every indicator, batched: one engine call (`estimate_many`) per distinct breakdown list. An average of
    shares needs its components in its call; where they belong to another call, their rows there are dropped."""
    calls: dict[tuple, list[Indicator]] = {}
    for ind in plan.indicators:
        calls.setdefault(tuple(_breakdown_specs(plan, ind)), []).append(ind)
    est = plan.estimation
    tables = []
    for specs, indicators in calls.items():
        kinds: dict[str, list[str]] = {"proportion": [], "score": [], "mean": [], "total": []}
        averages = {}
        for ind in indicators:
            if ind.mean_of and ind.mean_over == "shares":
                averages[_y(ind.id)] = [_y(c) for c in ind.mean_of]
            else:
                kinds["score" if ind.mean_of else ind.statistic].append(_y(ind.id))
        helpers = [c for parts in averages.values() for c in parts if c not in kinds["proportion"]]
        table = estimate_many(
            design,
            kinds["proportion"] + list(dict.fromkeys(helpers)),
            kinds["score"],
            means=kinds["mean"],
            totals=kinds["total"],
            averages=averages,
            by=list(specs),
            ci=est.ci,
            level=est.level,
            replicates=replicates,
        )
        tables.append(table[~table["indicator"].isin(helpers)])
    table = pd.concat(tables, ignore_index=True)
    return table.assign(indicator=table["indicator"].str.removeprefix("__y__"))


def _add_counts_and_flags(plan: Plan, table: pd.DataFrame, data: pd.DataFrame, excluded: pd.DataFrame):
    """n_excluded per row (one sparse product per breakdown), indicator names/series, flags and suppression."""
    specs = [None] + _all_specs(plan)
    cells, matrix = _excluded_per_cell(specs, data, excluded)
    counts = [_excluded_counts(spec, cells, matrix, excluded.columns.to_numpy()) for spec in specs]
    count_table = pd.concat(counts, ignore_index=True).drop_duplicates(["indicator", "by", "area", "group"])
    table = table.copy()
    table["area"] = table["area"].astype(object).where(table["area"].notna(), None)
    table = table.merge(count_table, on=["indicator", "by", "area", "group"], how="left")
    table["n_excluded"] = table["n_excluded"].fillna(0).astype("int64")
    table["n"] = table["n"].astype("int64")
    info = pd.DataFrame([(i.id, i.series, i.name) for i in plan.indicators], columns=["indicator", "series", "name"])
    table = table.merge(info, on="indicator", how="left")
    table["flag"] = reliability(plan, table)
    table.loc[table["flag"] == "suppressed", ["estimate", "se", "ci_low", "ci_high", "deff"]] = np.nan
    order = {i.id: k for k, i in enumerate(plan.indicators)}
    table = table.assign(_o=table["indicator"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    return table[TIDY_COLUMNS].reset_index(drop=True)


def reliability(plan: Plan, table: pd.DataFrame) -> np.ndarray:
    """The `flag` of each row: `suppressed` (n < suppress_n: withheld), `unreliable` (n < min_n), `referencial`
    (INEI's "cifra referencial": CV = SE/estimate above max_cv, effective n = n/deff below min_effective_n, or a
    share's interval wider than max_ci_width), else `ok`. A share at 0 or 1 has no CV or deff (SE 0): its
    effective n is its n, and its one-sided interval is judged by its width."""
    est = plan.estimation
    statistic = table["indicator"].map({i.id: i.statistic for i in plan.indicators}).to_numpy()
    estimate, se, n = (table[c].to_numpy(dtype=float) for c in ("estimate", "se", "n"))
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(se > 0, se / np.abs(estimate), 0.0)
        effective = np.where(table["deff"].to_numpy(dtype=float) > 0, n / table["deff"].to_numpy(dtype=float), n)
    width = (table["ci_high"] - table["ci_low"]).to_numpy(dtype=float)
    wide = (statistic == "proportion") & (width > est.max_ci_width)
    referencial = (cv > est.max_cv) | (effective < est.min_effective_n) | wide
    return np.select(
        [n < max(est.suppress_n, 1), n < est.min_n, referencial], ["suppressed", "unreliable", "referencial"], "ok"
    )


def _all_specs(plan: Plan) -> list:
    specs = []
    for ind in plan.indicators:
        for spec in _breakdown_specs(plan, ind):
            if spec not in specs:
                specs.append(spec)
    return specs


def _excluded_per_cell(specs: list, data: pd.DataFrame, excluded: pd.DataFrame):
    """Excluded respondents per cell of all the breakdown variables crossed (one row of `data` stands for each
    cell) × indicator: one sparse product over the respondents instead of one per breakdown (at 1M rows that
    was ~1 s for the 10 breakdowns, benchmarks/analysis.md); each breakdown then sums a few hundred cells."""
    columns = list(dict.fromkeys(c for spec in specs if spec for c in ([spec] if isinstance(spec, str) else spec)))
    ids = np.zeros(len(data), dtype=np.int64)
    if columns:
        ids = data.groupby(columns, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    first = np.unique(ids, return_index=True)[1]
    onehot = sparse.csr_matrix((np.ones(len(ids)), (ids, np.arange(len(ids)))), shape=(len(first), len(ids)))
    matrix = (onehot @ sparse.csc_matrix(excluded.to_numpy()).astype(float)).toarray()  # no dense float copy
    return data.iloc[first][columns].reset_index(drop=True), matrix


def _excluded_counts(spec, data: pd.DataFrame, excluded: np.ndarray, indicators: np.ndarray) -> pd.DataFrame:
    """Excluded respondents per group of one breakdown, every indicator at once (one sparse matrix product);
    `data` has a row per cell of `_excluded_per_cell`, `excluded` the cell counts."""
    breakdown = breakdown_of(data, spec)  # the engine's own groups, so the counts line up with its rows
    codes, groups, areas, name = breakdown.codes, breakdown.groups, breakdown.areas, breakdown.name
    keep = codes >= 0
    onehot = sparse.csr_matrix(
        (np.ones(keep.sum()), (codes[keep], np.flatnonzero(keep))), shape=(len(groups), len(data))
    )
    matrix = onehot @ excluded
    return pd.DataFrame(
        {
            "indicator": np.tile(indicators, len(groups)),
            "by": name,
            "area": np.repeat(np.array(areas, dtype=object), len(indicators)),
            "group": np.repeat(np.array(groups, dtype=object), len(indicators)),
            "n_excluded": matrix.ravel(),
        }
    )
