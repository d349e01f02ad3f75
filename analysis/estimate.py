"""Design-based proportions by breakdown, with R survey's Taylor-linearised, calibration-aware variance.

What it computes, for an indicator y (1/0 in its base, NaN outside) and each group g of a breakdown, is exactly
R survey 4.1's `svyciprop(~y, subset(design, !is.na(y) & g), method=...)` plus `svymean(..., deff=TRUE)` and
`degf()` (and, with `means_many`, `svymean(~score, …)` for a score in [0, 1] such as a respondent's mean of
several answers) — domains are sub-populations of the full design (never rows dropped before weighting): the influence
function z_i = 1{i in domain}·w_i·(y_i − p)/W is residualised on the calibration cells the way R's `svyrecvar`
does (one projection per post-stratification step; ten sweeps over the last raking iteration's margins), summed
per PSU, centred within strata (padding PSUs without domain members with zeros) and scaled by n_h/(n_h − 1),
with R's lonely-PSU rules.

Hand-written and batched on purpose. `svy` (0.35) reproduces R one estimate at a time (except that its "center"
lonely-PSU rule differs from R's "adjust" on calibrated designs), but the full SDG 16 suite (25 indicators × 10
breakdowns = 7,875 domain estimates) takes svy ~80 s at 10k rows and far longer at 1M (benchmarks/analysis.md).
Here every indicator × every group of a breakdown is one column of a matrix, and the rows are first summed into
groups of PSU × calibration cell × the breakdown's own variables (the calibration ratios are constant within
such a group, so the sums are sufficient statistics). The rows are summed once, into the finest partition any
breakdown needs (the calibration cells × the breakdown variables they do not determine); each breakdown's parts
are summed from it, and breakdowns that split rows the same way (a neighbourhood breakdown when neighbourhoods are
strata, or sex when sex is a raking margin) share one partition.
benchmarks/analysis_pipeline.py measures it against svy, samplics and R; tests/analysis/test_estimate.py checks
it against R's golden files (tests/golden/) and against svy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.design import CalibrationStep, Design, Raking
from analysis.errors import AnalysisError
from analysis.intervals import beta_ci, boundary_ci, logit_ci, t_ci, wilson_ci

CI_METHODS = ("logit", "beta", "wilson")
RAKING_SWEEPS = 10  # R's svyrecvar residualises a raked design with 10 sweeps over the margins
HEAP_BLOCK = 2**25  # bytes: glibc's largest heap allocation (larger ones are fresh mappings), see _chunks
COLUMNS = ["by", "area", "group", "estimate", "se", "ci_low", "ci_high", "deff", "n", "population", "df"]

BySpec = str | tuple[str, str]


def proportions(
    design: Design,
    y: str,
    *,
    domain: str | None = None,
    by: list[BySpec] | None = None,
    ci: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted proportion of y = 1 overall and per group of each `by` entry.

    `by` entries are column names, or `(area, variable)` tuples for a breakdown within each area (e.g.
    `("neighbourhood", "sex")`): those rows carry the area in `area`. `domain` is an optional boolean column that
    further restricts the base. A group without any valid answer gets n = 0 and NaN estimates.
    """
    return proportions_many(design, [y], domain=domain, by=by, ci=ci, level=level).drop(columns="indicator")


def proportions_many(
    design: Design,
    ys: list[str],
    *,
    domain: str | None = None,
    by: list[BySpec] | None = None,
    ci: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """`proportions` for many indicators at once (one vectorised pass per breakdown); adds `indicator`."""
    return estimate_many(design, ys, [], domain=domain, by=by, ci=ci, level=level)


def means_many(
    design: Design,
    ys: list[str],
    *,
    domain: str | None = None,
    by: list[BySpec] | None = None,
    ci: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted means of scores between 0 and 1 (e.g. each respondent's mean of several 0/1 answers, the SDG
    16.7.2 and 16.6.2 composites), with the same columns as `proportions_many`.

    The linearised variance of a domain mean is the same formula whatever the values of y, so the proportion
    machinery applies unchanged (R: `svymean(~score, subset(design, !is.na(score)))`); only the design effect
    needs the weighted mean of y² (for 0/1 answers it is p itself), which is estimated alongside. Intervals
    treat the mean as a share of [0, 1] (its effective n is p(1 − p)/var), as for the component shares.
    """
    return estimate_many(design, [], ys, domain=domain, by=by, ci=ci, level=level)


def estimate_many(
    design: Design,
    shares: list[str],
    scores: list[str] = (),
    *,
    means: list[str] = (),
    totals: list[str] = (),
    averages: dict[str, list[str]] | None = None,
    domain: str | None = None,
    by: list[BySpec] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    replicates=None,
) -> pd.DataFrame:
    """Every statistic of every column for every group of every breakdown, in one pass: the rows, calibration
    cells and breakdowns are summed and set up once for all (at 1M rows a second call cost ~1 s,
    benchmarks/analysis.md). Rows come indicator by indicator, in the order shares, scores, means, totals,
    averages.

    - `shares`: 0/1 columns (NaN outside the base), the proportion of 1, intervals by `ci` (R `svyciprop`);
    - `scores`: values in [0, 1] (a respondent's mean of several answers), their mean, intervals by `ci`;
    - `means`, `totals`: any numeric column, its mean (R `svymean`) or total (`svytotal`), with a t-interval
      on the variable's own scale (estimate ± t(df)·SE);
    - `averages`: name → share columns: the average of the components' proportions, each on its own base
      (R: `svycontrast` of the domain means); its influence is the average of the components' influences, so
      the variance is linearised exactly; n and df are those of respondents in any component's base, deff NaN.

    `replicates` (`analysis.replicates.Replicates` of this design) replaces the linearised variance by the
    replicate-weight variance (the estimates, n and df are unchanged).
    """
    layout = _Layout.of(shares, scores, means, totals, averages or {})
    if ci not in CI_METHODS:
        raise AnalysisError(f"ci must be one of {', '.join(CI_METHODS)}; got {ci!r}")
    if not 0 < level < 1:
        raise AnalysisError(f"level must be between 0 and 1; got {level}")
    values, base = _indicator_matrix(design, layout, domain)
    breakdowns = [Breakdown("overall", [], None, np.zeros(design.n, np.int64), ["all"], [None])]
    breakdowns += [breakdown_of(design.data, spec) for spec in by or []]
    cells = _CellGroups.build(design)
    calibration = _Calibration.build(design, cells)
    codes = {c: pd.factorize(design.data[c])[0] for b in breakdowns for c in b.columns}
    users: dict[tuple, list[int]] = {}  # breakdowns that split the rows the same way share one partition
    for i, b in enumerate(breakdowns):
        users.setdefault(tuple(c for c in b.columns if not cells.determines(codes[c])), []).append(i)
    # one pass over the rows, into the finest partition all breakdowns need; the others are summed from its
    # parts (a pass over 1M rows × 77 columns cost ~0.6 s per partition, benchmarks/analysis.md)
    finest_columns = list(dict.fromkeys(c for extra in users for c in extra))
    finest = _Partition.build(design, cells, values, base, [codes[c] for c in finest_columns])
    frames: list[pd.DataFrame] = [pd.DataFrame()] * len(breakdowns)
    for extra, indices in users.items():
        partition = finest if len(extra) == len(finest_columns) else finest.coarsen([codes[c] for c in extra])
        merges: dict[bytes, tuple] = {}  # see `_Part.pairings`
        pairings = {i: _Part.pairings(cells, partition, breakdowns[i].codes, merges) for i in indices}
        partition.sum_cells(calibration, [cell_pairs for _, cell_pairs in pairings.values()], values)
        del merges
        for i in sorted(indices, key=lambda i: pairings[i][0].key):  # equal pairings in a row (`_Partition.summed`)
            frames[i] = _estimate_breakdown(
                design,
                partition,
                breakdowns[i],
                pairings[i],
                calibration,
                layout,
                ci,
                level,
                replicates,
            )
        del partition
    table = pd.concat(frames, ignore_index=True)
    order = np.argsort(table["indicator"].map({y: i for i, y in enumerate(layout.names)}).to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class _Layout:
    """Which statistic each output column is, and where its sums live in the working matrices: one column per
    output (an average's column holds its union base, for n and df), then y² of every score, mean and total
    (their mean square is what the design effect needs; for 0/1 answers it is p itself)."""

    names: list[str]
    kinds: np.ndarray  # per output column: share, score, mean, total or average
    squares: np.ndarray  # output columns with a y² column, in the order those follow the outputs
    components: dict[int, list[int]]  # average column → its share columns

    @classmethod
    def of(cls, shares, scores, means, totals, averages: dict[str, list[str]]) -> _Layout:
        names = [*shares, *scores, *means, *totals, *averages]
        if not names or len(set(names)) != len(names):
            raise AnalysisError(f"indicator columns must be given once each; got {names}")
        kinds = np.array(
            ["share"] * len(shares)
            + ["score"] * len(scores)
            + ["mean"] * len(means)
            + ["total"] * len(totals)
            + ["average"] * len(averages),
            dtype=object,
        )
        position = {name: j for j, name in enumerate(names)}
        components = {}
        for name, parts in averages.items():
            if len(parts) < 2 or any(p not in shares for p in parts):
                raise AnalysisError(f"average {name!r} needs two or more of the share columns; got {parts}")
            components[position[name]] = [position[p] for p in parts]
        squares = np.flatnonzero(np.isin(kinds, ["score", "mean", "total"]))
        return cls(names, kinds, squares, components)

    @property
    def width(self) -> int:
        return len(self.names) + len(self.squares)


@dataclass
class Breakdown:
    """One breakdown of the respondents: each row's group code (-1 where the variable is missing), the groups'
    labels and, for a breakdown within areas (`(area, variable)`), each group's area. The engine estimates per
    group; the pipeline counts excluded respondents per group with the same codes."""

    name: str
    columns: list[str]
    area: str | None
    codes: np.ndarray
    groups: list
    areas: list


def breakdown_of(data: pd.DataFrame, spec: BySpec | None) -> Breakdown:
    """The Breakdown of a `by` entry (None: everyone in one group "all"), groups in sorted order."""
    if spec is None:
        return Breakdown("overall", [], None, np.zeros(len(data), np.int64), ["all"], [None])
    columns = [spec] if isinstance(spec, str) else list(spec)
    if len(columns) not in (1, 2):
        raise AnalysisError(f"a breakdown is a column or an (area, column) pair; got {spec!r}")
    for column in columns:
        if column not in data.columns:
            raise AnalysisError(f"breakdown column {column!r} is not in the responses")
    if len(columns) == 1:
        codes, labels = pd.factorize(data[spec], sort=True)
        return Breakdown(spec, columns, None, codes.astype(np.int64), list(labels), [None] * len(labels))
    area, variable = columns
    area_codes, area_labels = pd.factorize(data[area], sort=True)
    var_codes, var_labels = pd.factorize(data[variable], sort=True)
    pair = np.where((area_codes >= 0) & (var_codes >= 0), area_codes * len(var_labels) + var_codes, -1)
    present = np.unique(pair[pair >= 0])
    codes = np.where(pair >= 0, np.searchsorted(present, pair), -1)
    return Breakdown(
        variable,
        columns,
        area,
        codes.astype(np.int64),
        [var_labels[k % len(var_labels)] for k in present],
        [area_labels[k // len(var_labels)] for k in present],
    )


def _indicator_matrix(design: Design, layout: _Layout, domain: str | None):
    """y values (0 outside the base) and the base mask, in `_Layout` order; anything but 0/1/NaN in a share
    (a score: outside [0, 1]; a mean or total: not a finite number) is an error naming the column.

    Column-major: filled and read one column at a time. When every column is a share (or an average of shares,
    whose values are never read) the values are booleans: `_Partition.build` multiplies and sums them into the
    same float64 sums, and float64 values were 0.63 GB of fresh memory at 1M rows (~12 per PSU), ~2 s of system
    time faulting it in on this VM (2026-12-04 night)."""
    data = design.data
    binary = bool(np.isin(layout.kinds, ["share", "average"]).all())
    values = np.zeros((design.n, layout.width), dtype=bool if binary else float, order="F")
    base = np.zeros((design.n, layout.width), dtype=bool, order="F")
    keep = np.ones(design.n, dtype=bool)
    if domain is not None:
        if domain not in data.columns:
            raise AnalysisError(f"domain column {domain!r} is not in the responses")
        flags = data[domain]
        if not (pd.api.types.is_bool_dtype(flags) or flags.dropna().isin([0, 1, True, False]).all()):
            raise AnalysisError(f"domain column {domain!r} must be boolean (True/False or 1/0)")
        keep = flags.fillna(False).astype(bool).to_numpy()
    for j, (y, kind) in enumerate(zip(layout.names, layout.kinds)):
        if kind == "average":
            base[:, j] = base[:, layout.components[j]].any(axis=1)
            continue
        y_values = _numeric_column(data, y)
        with np.errstate(invalid="ignore"):
            bad = {
                "share": ~np.isnan(y_values) & (y_values != 0) & (y_values != 1),
                "score": (y_values < 0) | (y_values > 1),
            }.get(kind, np.isinf(y_values))
        if bad.any():
            examples = ", ".join(map(str, np.unique(y_values[bad])[:3]))
            expected = {"share": "1/0", "score": "scores between 0 and 1"}.get(kind, "finite numbers")
            raise AnalysisError(f"indicator column {y!r} must hold {expected} (NaN outside the base); found {examples}")
        base[:, j] = ~np.isnan(y_values) & keep
        values[:, j] = np.where(base[:, j], y_values, 0.0)
    for k, j in enumerate(layout.squares, start=len(layout.names)):
        base[:, k] = base[:, j]
        values[:, k] = values[:, j] ** 2
    return values, base


def _numeric_column(data: pd.DataFrame, y: str) -> np.ndarray:
    if y not in data.columns:
        raise AnalysisError(f"indicator column {y!r} is not in the responses")
    column = data[y]
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        column = pd.to_numeric(column, errors="coerce").where(column.notna())
        if column.isna().sum() > data[y].isna().sum():
            raise AnalysisError(f"indicator column {y!r} must hold numbers (NaN outside the base); found text")
    return column.to_numpy(dtype=float, na_value=np.nan)


@dataclass
class _CellGroups:
    """Rows grouped by PSU and calibration cells: what the calibration residuals depend on.

    Within a group the ratios between the weights of successive calibration steps are constant (each step
    multiplies by a factor per cell), so the residualisation can work on group sums.
    """

    ids: np.ndarray  # group of each row
    first: np.ndarray  # first row of each group
    psu: np.ndarray
    cells: list[np.ndarray]
    nrows: np.ndarray
    wsum: np.ndarray
    step_weights: list[np.ndarray]
    step_oldweights: list[np.ndarray]

    @classmethod
    def build(cls, design: Design) -> _CellGroups:
        steps = _flat_steps(design)
        ids = _group_ids([design.psu_codes] + [s.cells for s in steps])
        first = _first_rows(ids)

        def total(weights):
            return np.bincount(ids, weights=weights, minlength=len(first))

        return cls(
            ids=ids,
            first=first,
            psu=design.psu_codes[first],
            cells=[s.cells[first] for s in steps],
            nrows=np.bincount(ids, minlength=len(first)).astype(float),
            wsum=total(design.weights),
            step_weights=[total(s.weights) for s in steps],
            step_oldweights=[total(s.oldweights) for s in steps],
        )

    def determines(self, codes: np.ndarray) -> bool:
        """Whether a column (its codes) is constant within every group (e.g. the stratum, a raking variable)."""
        return int(_group_ids([self.ids, codes + 1]).max(initial=-1)) + 1 == len(self.psu)


@dataclass
class _Partition:
    """Rows summed per cell group × the values of some breakdown columns, for every indicator at once."""

    first: np.ndarray  # first row of each part
    cell_group: np.ndarray  # its cell group
    row_parts: np.ndarray  # the part of each row
    sums: list[np.ndarray]  # parts × indicators: Σ w·y, Σ w and Σ 1 over the base (Σ y: `sum_cells`)
    pair_sums: dict = field(default_factory=dict)  # kind → (`_Pairs.key`, sums of these parts), see `summed`
    cell_sums: dict = field(default_factory=dict)  # (step, `_Pairs.key`) → the two sums of `sum_cells`

    def summed(self, key: tuple, compute):
        """Sums of parts into pairs, computed once per pairing: breakdowns within an area the PSUs and cells
        determine pair the parts as the breakdown of the variable alone does (PSU × neighbourhood × sex is PSU ×
        sex), so half of the 10 default breakdowns reuse another's sums (hand-written cache: at 1M rows, ~100
        per PSU, the sparse products took 1.8 s in 152 calls, 1.1 s in 113 with it; cProfile, 2026-11-30).
        Only the last pairing of each kind (key but its last item) is kept, and `estimate_many` takes breakdowns
        of equal pairings one after the other: with ~12 respondents per PSU each PSU pairing's sums are nearly
        rows × indicators × 3, and keeping all of them held gigabytes at 1M rows."""
        kind, pairing = key[:-1], key[-1]
        if kind not in self.pair_sums or self.pair_sums[kind][0] != pairing:
            self.pair_sums.pop(kind, None)  # freed before the next sums are made
            self.pair_sums[kind] = (pairing, compute())
        return self.pair_sums[kind][1]

    def sum_cells(self, calibration: _Calibration, pairings: list[list[_Pairs]], values: np.ndarray) -> None:
        """The domain sums per (cell, group) pair that the calibration residuals need, for every breakdown of this
        partition (`pairings`: each one's pairs per calibration step), into `cell_sums`: Σ φ_s·y and Σ φ_s over the
        base for a raking margin (its sweeps use unweighted cell means), Σ φ_s·w·y and Σ φ_s·w for a
        post-stratification, with φ_s the cell group's ratio (`_Calibration.phi`).

        One sparse product per block and step for all the breakdowns (their pairs stacked, in CSC form so that
        each part's row is read once): a product per breakdown read the parts × indicators block again each time,
        16 more passes at 1M rows, ~12 per PSU (~1.2 s, cProfile 2026-12-04 night). Each pair still adds its parts in
        part order, so the sums are the same numbers as one product per breakdown. Σ y per part is only needed
        here, and is summed from the rows (`values`) a few columns at a time (`_chunks`) instead of kept as a
        fourth parts × indicators block (0.48 GB at 1M rows, ~12 per PSU): the same bincounts `build` made for the
        finest partition; for a coarser one 0/1 answers give the same counts, a score's sums may differ in the
        last bit (rows added in row order rather than part by part)."""
        for s, raking in enumerate(calibration.raking):
            distinct = list({pairs[s].key: pairs[s] for pairs in pairings}.values())
            merges = [pairs.merge.tocoo() for pairs in distinct]
            offsets = np.cumsum([0, *(merge.shape[0] for merge in merges)])
            parts = np.concatenate([pairs.parts[merge.col] for pairs, merge in zip(distinct, merges)])
            rows = np.concatenate([offset + merge.row for offset, merge in zip(offsets, merges)])
            stacked = sparse.csc_matrix(
                (calibration.phi[s][self.cell_group[parts]], (rows, parts)), shape=(offsets[-1], len(self.first))
            )
            summed = (
                [self._sum_y(stacked, values), stacked @ self.sums[2]]
                if raking
                else [stacked @ self.sums[0], stacked @ self.sums[1]]
            )
            for pairs, start, stop in zip(distinct, offsets, offsets[1:]):
                self.cell_sums[(s, pairs.key)] = [sums[start:stop] for sums in summed]

    def _sum_y(self, stacked: sparse.csc_matrix, values: np.ndarray) -> np.ndarray:
        """`stacked` @ (Σ y per part), without the parts × indicators block of Σ y."""
        summed = np.empty((stacked.shape[0], values.shape[1]))
        for columns in _chunks(values.shape[1], 8 * len(self.first)):
            per_part = [np.bincount(self.row_parts, weights=y, minlength=len(self.first)) for y in values[:, columns].T]
            summed[:, columns] = stacked @ np.stack(per_part, axis=1)
        return summed

    @classmethod
    def build(cls, design: Design, cells: _CellGroups, values, base, columns: list[np.ndarray]) -> _Partition:
        ids = cells.ids
        if columns:
            ids = _group_ids([ids] + [codes + 1 for codes in columns])
        first = _first_rows(ids)
        w, n_ys = design.weights, values.shape[1]
        sums = []
        for matrix, scale in ((values, w), (base, w), (base, None)):
            # parts × indicators in C order (scipy's sparse products copy anything else), filled column by column:
            # no transposed copy (at 100k rows, ~12 per PSU, the parts are nearly as many as the rows and the copy
            # was a third of the engine's time, cProfile 2026-12-04)
            block = np.empty((len(first), n_ys))
            for j in range(n_ys):  # one bincount per column: faster than a sparse product here
                column = matrix[:, j] if scale is None else matrix[:, j] * scale
                block[:, j] = np.bincount(ids, weights=column, minlength=len(first))
            sums.append(block)
        return cls(first=first, cell_group=cells.ids[first], row_parts=ids, sums=sums)

    def coarsen(self, columns: list[np.ndarray]) -> _Partition:
        """The partition into cell groups × fewer breakdown columns (row codes), summed from this finer one, or this
        one itself when that would not halve the parts: the sums are constant within its parts too, and summing
        costs a pass per block over these parts, which pays only if the later passes (about seven per breakdown)
        get much shorter. With ~12 respondents per PSU the coarser parts were 0.74–0.98 as many (at ~100 per PSU
        0.40–0.92; 100k rows, 2026-12-04).

        Parts are numbered by their first row, as `build` numbers them."""
        ids = _group_ids([self.cell_group] + [codes[self.first] + 1 for codes in columns])
        first = _first_rows(ids)
        if 2 * len(first) > len(self.first):
            return self
        merge = _aggregator(ids, len(first))
        return _Partition(
            self.first[first], self.cell_group[first], ids[self.row_parts], [merge @ b for b in self.sums]
        )


def _flat_steps(design: Design) -> list[CalibrationStep]:
    steps = []
    for item in design.calibration:
        steps.extend(item.margins if isinstance(item, Raking) else [item])
    return steps


def _group_ids(keys: list[np.ndarray]) -> np.ndarray:
    """Dense ids of the distinct combinations of integer key columns (mixed-radix code, or a groupby)."""
    if len(keys[0]) == 0:
        return np.zeros(0, dtype=np.int64)
    radices = [int(k.max()) + 1 for k in keys]
    if np.prod([float(r) for r in radices]) < 2.0**62:
        code = np.zeros(len(keys[0]), dtype=np.int64)
        for key, radix in zip(keys, radices):
            code = code * radix + key
        return pd.factorize(code)[0]
    return pd.DataFrame(dict(enumerate(keys))).groupby(list(range(len(keys))), sort=False).ngroup().to_numpy()


@dataclass
class _Calibration:
    """The domain-independent parts of R's calibration residualisation, on cell groups.

    The residual after the projections is x = z − Σ_s psw_s·a_s[cell_s], so each projection only needs, per
    step s: its cell denominators, the cross sums `Σ psw_t·φ_s` over rows in cell c of s and c' of t (φ_s =
    1/psw_s for a raking margin, oldw_s/psw_s for a post-stratification), the per-group factor `phi[s]` turning
    domain sums into Σ z·φ_s, and `Σ psw_s` per PSU and cell to return to PSU totals. The projections (each
    post-stratification once, each raking 10 sweeps, in R's order) are linear in the domain sums and do not
    depend on the domain, so they are applied once, here, to the identity: `psu_correction` maps the domain sums
    of all steps (stacked) straight to the corrections of the PSU totals (applying the 20 sweeps to every
    breakdown's sums took 1.8 s of 8.5 s at 100k rows, ~12 per PSU: 456 sparse subtractions, cProfile 2026-12-04).
    """

    raking: list[bool]
    sizes: list[int]
    phi: list[np.ndarray]
    psu_correction: sparse.csr_matrix | None  # PSUs × stacked cells of all steps (None: not calibrated)

    @classmethod
    def build(cls, design: Design, groups: _CellGroups) -> _Calibration:
        steps = _flat_steps(design)
        if not steps:
            return cls([], [], [], None)
        program, index = [], 0
        for item in design.calibration:
            if isinstance(item, Raking):
                program += list(range(index, index + len(item.margins))) * RAKING_SWEEPS
                index += len(item.margins)
            else:
                program.append(index)
                index += 1
        sizes = [len(s.labels) for s in steps]
        raking = [s.raking for s in steps]
        psw, old = groups.step_weights, groups.step_oldweights
        # per cell group, the constant ratio that turns domain sums into Σ z·φ_s: w/psw_s (raking), oldw/psw_s
        phi = [groups.wsum / psw[s] if raking[s] else old[s] / psw[s] for s in range(len(steps))]
        denominators = [
            np.bincount(groups.cells[s], weights=groups.nrows if raking[s] else old[s], minlength=sizes[s])
            for s in range(len(steps))
        ]
        cross = []
        for s in range(len(steps)):
            per_row = groups.nrows / psw[s] if raking[s] else old[s] / psw[s]
            cross.append(
                [
                    sparse.csr_matrix(
                        (psw[t] * per_row, (groups.cells[s], groups.cells[t])), shape=(sizes[s], sizes[t])
                    )
                    for t in range(len(steps))
                ]
            )
        psu_sums = sparse.hstack(
            [
                sparse.csr_matrix((psw[s], (groups.psu, groups.cells[s])), shape=(design.n_psu, sizes[s]))
                for s in range(len(steps))
            ],
            format="csr",
        )
        projection = _projection(program, denominators, cross)
        return cls(raking, sizes, phi, sparse.csr_matrix(psu_sums @ projection))

    def residual_psu_totals(self, psu_totals: _Totals, domain_sums: list[_Totals], n_groups: int) -> _Totals:
        """PSU totals of the residualised influence, T_u − Σ_c correction[u, c]·D_c, from the (cell, group) sums
        D of every step (in step order); pairs in (cell, group) order, as `_Pairs` numbers them.

        Sparse where it matters: a domain inside one neighbourhood, raked on neighbourhood × sex and
        neighbourhood × age, only touches the cells and PSUs of that neighbourhood. The (PSU, group) pairs the
        correction reaches are found without the indicators (each correction entry fanned out to its cell's
        groups), then corrected by one sparse × dense product."""
        offsets = np.cumsum([0, *self.sizes])
        cells = np.concatenate([offset + d.rows for offset, d in zip(offsets, domain_sums)])
        groups = np.concatenate([d.groups for d in domain_sums])
        starts = np.concatenate([[0], np.cumsum(np.bincount(cells, minlength=offsets[-1]))])  # pairs of each cell
        correction = self.psu_correction
        fan = starts[correction.indices + 1] - starts[correction.indices]
        source = np.repeat(starts[correction.indices] - np.cumsum(fan) + fan, fan) + np.arange(fan.sum())
        psu = np.repeat(np.repeat(np.arange(correction.shape[0]), np.diff(correction.indptr)), fan)
        own = psu_totals.rows.astype(np.int64) * n_groups + psu_totals.groups
        reached = psu.astype(np.int64) * n_groups + groups[source]
        support, index = np.unique(np.concatenate([own, reached]), return_inverse=True)
        sums = np.concatenate([d.values for d in domain_sums])
        values = np.zeros((len(support), sums.shape[1]))
        values[index[: len(own)]] = psu_totals.values
        weights = np.repeat(correction.data, fan)
        correction = sparse.csr_matrix((weights, (index[len(own) :], source)), shape=(len(support), len(sums)))
        for rows in _chunks(len(support), 8 * sums.shape[1]):  # no support × indicators temporary
            values[rows] -= correction[rows] @ sums
        return _Totals(support // n_groups, support % n_groups, values)


def _projection(program: list[int], denominators: list[np.ndarray], cross) -> sparse.csr_matrix:
    """R's projections in `program` order, applied to the identity: stacked domain sums of all steps → stacked
    coefficients a_s (a correction of step s is its domain sums less the cross sums × the coefficients so far,
    over the cell denominators)."""
    sizes = [len(d) for d in denominators]
    offsets = np.cumsum([0, *sizes])
    identity = sparse.identity(offsets[-1], format="csr")
    coefficients: dict[int, sparse.csr_matrix] = {}
    for s in program:
        correction = identity[offsets[s] : offsets[s + 1]]
        for t, coefficient in coefficients.items():
            correction = correction - cross[s][t] @ coefficient
        step = sparse.diags(1 / denominators[s]) @ correction
        coefficients[s] = coefficients[s] + step if s in coefficients else step
    return sparse.vstack([coefficients[s] for s in range(len(sizes))], format="csr")


def _estimate_breakdown(design, partition, breakdown, pairings, calibration, layout: _Layout, ci, level, replicates):
    n_groups, n_ys = len(breakdown.groups), len(layout.names)  # the partition also holds y² (columns n_ys…)
    if n_groups == 0:
        return pd.DataFrame(columns=["indicator", *COLUMNS])
    part = _Part.collapse(partition, breakdown.codes, *pairings)
    to_groups = _aggregator(part.psu_pairs.groups, n_groups)
    population, n, successes = to_groups @ part.psu_sw, to_groups @ part.psu_nb, to_groups @ part.psu_swy
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / population
    kinds = layout.kinds
    for j, parts in layout.components.items():
        p[:, j] = p[:, parts].mean(axis=1)  # NaN where a component has no base in the group
    mean_square = p[:, :n_ys].copy()  # Σw·y²/Σw (= p for 0/1 answers)
    mean_square[:, layout.squares] = p[:, n_ys:]
    if replicates is None:
        variance = _variance(design, calibration, part, n_groups, p[:, :n_ys], population[:, :n_ys], layout)
    else:
        variance = _replicate_variance(part, n_groups, layout, replicates)
    p, population, n, successes = p[:, :n_ys], population[:, :n_ys], n[:, :n_ys], successes[:, :n_ys]
    df = part.domain_df(design, n_groups)[:, :n_ys]
    # all answers alike: the influence is exactly zero, so is the variance (floating noise would give ~1e-17);
    # with all y = 1, Σw·y and Σw add the same numbers in the same order, so the test is exact
    alike = np.isin(kinds, ["share", "score"]) & (n > 0) & ((successes == 0) | (successes == population))
    variance = np.where(alike, 0.0, variance)
    estimate = np.where(kinds == "total", successes, p)
    n_design = design.n if design.calibrated else n
    ci_low, ci_high = _interval(ci, estimate, variance, df, n_design, n, level, kinds)
    with np.errstate(invalid="ignore", divide="ignore"):
        srs = (mean_square - p**2) * n / (n - 1) * (population - n) / (population * n)
        srs = np.where(kinds == "total", srs * population**2, srs)  # R svytotal: N² × the mean's
        deff = np.where((n > 1) & (population > n) & (srs > 0) & (kinds != "average"), variance / srs, np.nan)
    estimate_defined = n > 0
    return pd.DataFrame(
        {
            "indicator": np.tile(layout.names, n_groups),
            "by": breakdown.name,
            "area": np.repeat(np.array(breakdown.areas, dtype=object), n_ys),
            "group": np.repeat(np.array(breakdown.groups, dtype=object), n_ys),
            "estimate": np.where(estimate_defined, estimate, np.nan).ravel(),
            "se": np.where(estimate_defined, np.sqrt(variance), np.nan).ravel(),
            "ci_low": ci_low.ravel(),
            "ci_high": ci_high.ravel(),
            "deff": deff.ravel(),
            "n": n.astype(np.int64).ravel(),
            "population": population.ravel(),
            "df": df.ravel(),
        }
    )


@dataclass
class _Pairs:
    """Sums of parts into (row key, group) pairs: `merge @ part values` gives pairs × indicators."""

    merge: sparse.csr_matrix
    rows: np.ndarray
    groups: np.ndarray
    parts: np.ndarray  # the parts `merge` sums (its columns)
    key: bytes  # which parts go into which pair (equal keys: equal sums, whatever the groups' labels)

    @classmethod
    def of(cls, rows: np.ndarray, groups: np.ndarray, parts: np.ndarray) -> _Pairs:
        """Pairs of `parts` (their indices) numbered in (row key, group) order, so that `sums_matrix` can lay
        them out as CSR directly."""
        radix = max(int(groups.max(initial=-1)) + 1, 1)
        ids, pairs = pd.factorize(rows.astype(np.int64) * radix + groups, sort=True)
        key = hashlib.blake2b(parts.tobytes())
        key.update(ids.tobytes())
        return cls(_aggregator(ids, len(pairs)), pairs // radix, pairs % radix, parts, key.digest())

    def sums_matrix(self, pair_values: np.ndarray, n_rows: int, n_groups: int) -> sparse.csr_matrix:
        """Values per pair (pairs × indicators) laid out as rows × (group, indicator) columns.

        Built as CSR by hand from the sorted pairs: scipy's conversion of (row, column) triplets cost 2.8 s of a
        1M run with ~12 respondents per PSU (cProfile, 2026-11-30)."""
        n_ys = pair_values.shape[1]
        columns = (self.groups[:, None] * n_ys + np.arange(n_ys)).ravel()
        starts = np.concatenate([[0], np.cumsum(np.bincount(self.rows, minlength=n_rows) * n_ys)])
        return sparse.csr_matrix(
            (np.ascontiguousarray(pair_values).ravel(), columns, starts), shape=(n_rows, n_groups * n_ys)
        )


@dataclass
class _Part:
    """One breakdown's parts (rows summed per PSU × calibration cells × group), with their sums per (PSU, group)
    pair — all the estimates and the uncalibrated variance need — and what the calibration residuals need."""

    group: np.ndarray
    rows: np.ndarray  # a row of each part (its first)
    sums: list[np.ndarray]
    partition: _Partition
    psu_pairs: _Pairs
    cell_pairs: list[_Pairs]
    psu_swy: np.ndarray
    psu_sw: np.ndarray
    psu_nb: np.ndarray

    @staticmethod
    def pairings(cells: _CellGroups, partition: _Partition, codes, merges: dict) -> tuple[_Pairs, list[_Pairs]]:
        """The (PSU, group) pairs of a breakdown's parts (rows: its codes), which decide what it can share, and its
        (cell, group) pairs per calibration step. Pairings with equal keys (the same parts in the same pairs, e.g.
        sex and neighbourhood × sex) share one merge matrix and parts array (`merges`, by key): each is as long
        as the parts, the default plan's breakdowns of one partition held 24 of them, and sharing took 0.18 GB
        off the engine's peak at 1M rows, ~12 per PSU (2026-12-04 night)."""
        group = codes[partition.first]
        inside = np.flatnonzero(group >= 0)
        group, cell_group = group[inside], partition.cell_group[inside]
        pairs = [_Pairs.of(rows[cell_group], group, inside) for rows in [cells.psu, *cells.cells]]
        for p in pairs:
            p.merge, p.parts = merges.setdefault(p.key, (p.merge, p.parts))
        return pairs[0], pairs[1:]

    @classmethod
    def collapse(cls, partition: _Partition, codes, psu_pairs, cell_pairs) -> _Part:
        inside = psu_pairs.parts  # the parts in the breakdown's groups (`pairings`)
        everyone = len(inside) == len(partition.first)
        sums = [block if everyone else block[inside] for block in partition.sums]
        swy, sw, nb = sums
        return cls(
            codes[partition.first[inside]],
            partition.first[inside],
            sums,
            partition,
            psu_pairs,
            cell_pairs,
            *partition.summed(("psu", psu_pairs.key), lambda: [psu_pairs.merge @ block for block in (swy, sw, nb)]),
        )

    def psus_per_stratum(self, design: Design, n_groups: int, n_columns: int) -> np.ndarray:
        """Strata × (group, column): the PSUs holding members of each domain (R's `nsubset` once an uncalibrated
        design's subset has dropped the other rows)."""
        has = (self.psu_nb[:, :n_columns] > 0).astype(float)
        per_psu = self.psu_pairs.sums_matrix(has, design.n_psu, n_groups)
        return np.asarray((_aggregator(design.psu_stratum, len(design.stratum_labels)) @ per_psu).todense())

    def domain_df(self, design: Design, n_groups: int) -> np.ndarray:
        """R's degf() per domain: PSUs holding domain members minus the strata they are in."""
        has = (self.psu_nb > 0).astype(float)  # (PSU, group) pairs × indicators
        psus = _aggregator(self.psu_pairs.groups, n_groups) @ has
        pairs = self.psu_pairs
        strata = _Pairs.of(design.psu_stratum[pairs.rows], pairs.groups, np.arange(len(pairs.rows)))
        in_strata = ((strata.merge @ has) > 0).astype(float)
        return np.rint(psus - _aggregator(strata.groups, n_groups) @ in_strata).astype(np.int64)


def _variance(design, calibration, part: _Part, n_groups, p, population, layout: _Layout) -> np.ndarray:
    """Variances for every output column and group.

    The influence of a domain mean is z_i = w_i(y_i − p)/W, of a domain total z_i = w_i·y_i, of an average of
    shares the average of its components' z; each is summed per (PSU, group) and per (cell, group) — as
    Σw·y − p·Σw, so the sums are taken once for all groups — residualised on the calibration and reduced to R's
    stratified variance. Sums are kept as `_Totals`: a dense row of indicators per (PSU or cell, group) pair."""
    total = layout.kinds == "total"
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total, 1.0, np.where(population > 0, 1 / population, 0.0))
    mean = np.where(total, 0.0, np.nan_to_num(p))

    def influence(pairs: _Pairs, total_y, total_1) -> _Totals:
        n_ys = len(layout.names)
        values = np.empty((len(pairs.groups), n_ys))  # the pairs are nearly as many as the rows
        for rows in _chunks(len(values), 8 * n_ys):  # Σw·y − p·Σw, over W, written in place a few rows at a time
            groups, chunk = pairs.groups[rows], values[rows]
            np.take(mean, groups, axis=0, out=chunk)
            chunk *= total_1[rows, :n_ys]
            np.subtract(total_y[rows, :n_ys], chunk, out=chunk)
            chunk *= scale[groups]
        # an average's influence: its components' mean, column by column (as a product with an averaging matrix,
        # pairs × 62 × 62, it took 0.3 s of the engine's 2.5 s at 100k rows, ~12 per PSU; cProfile 2026-12-04)
        for j, parts in layout.components.items():
            values[:, j] = values[:, parts].sum(axis=1) / len(parts)
        return _Totals(pairs.rows, pairs.groups, values)

    psu_totals = influence(part.psu_pairs, part.psu_swy, part.psu_sw)
    if calibration.sizes:
        # raking margins: Σ z/psw = Σ (w/psw)(y−p)/W ; post-strata: Σ z·oldw/psw = Σ (oldw/psw)·w(y−p)/W
        domain_sums = [
            influence(pairs, *part.partition.cell_sums[(s, pairs.key)]) for s, pairs in enumerate(part.cell_pairs)
        ]
        psu_totals = calibration.residual_psu_totals(psu_totals, domain_sums, n_groups)
    present = None
    if not design.calibrated and (design.lonely_psu == "average" or design.adjust_domain_lonely):
        present = part.psus_per_stratum(design, n_groups, len(layout.names))
    return _stratified_variance(design, psu_totals, n_groups, present).reshape(n_groups, len(layout.names))


@dataclass
class _Totals:
    """Influence sums per (PSU or cell, group) pair: `rows` and `groups` per pair, `values` pairs × indicators.

    Dense rows instead of a sparse PSUs × (group, indicator) matrix: with ~12 respondents per PSU the pairs are
    nearly as many as the rows, and scipy's sparse subtraction and products on such matrices took 1.6 s of 7.2 s
    at 100k rows (cProfile, 2026-12-04)."""

    rows: np.ndarray
    groups: np.ndarray
    values: np.ndarray


def _replicate_variance(part: _Part, n_groups: int, layout: _Layout, replicates) -> np.ndarray:
    """Every replicate's estimates from the parts' sums: within a part the replicate changes the weights by one
    ratio (its PSU × calibration-cell group's), so Σ w_r·y over a domain is Σ_parts ratio_r · Σ w·y — one sparse
    product per breakdown for all replicates — and the variance is the replicates' spread."""
    n_ys = len(layout.names)
    groups = replicates.ids[part.rows]
    pairs = _Pairs.of(groups, part.group, np.arange(len(part.group)))
    n_pairs_rows = replicates.ratio.shape[0]

    def per_replicate(block):
        summed = pairs.sums_matrix(pairs.merge @ block[:, :n_ys], n_pairs_rows, n_groups)
        return np.asarray(summed.T @ replicates.ratio).T.reshape(-1, n_groups, n_ys)

    numerator, denominator = per_replicate(part.sums[0]), per_replicate(part.sums[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        thetas = np.where(layout.kinds == "total", numerator, numerator / denominator)
    for j, parts in layout.components.items():
        thetas[:, :, j] = thetas[:, :, parts].mean(axis=2)
    return replicates.variance(thetas)


def _chunks(n: int, item_bytes: int) -> list[slice]:
    """Slices of n rows (or columns) of `item_bytes` each, every slice under `HEAP_BLOCK`: temporaries of that
    size come from glibc's heap and reuse its pages, larger ones are fresh mappings. On this VM faulting in fresh
    memory costs ~2.8 s of system time per GB, re-used memory ~0.07 s (numpy, 2026-12-04 night), and the (PSU, group)
    temporaries of one breakdown at 1M rows (~12 per PSU) were 0.25 GB each. Work is chunked only where each
    row (column) of the result is computed on its own, so the numbers are those of one whole-array pass."""
    step = max(1, HEAP_BLOCK // max(item_bytes, 1))
    return [slice(j, j + step) for j in range(0, n, step)]


def _aggregator(codes: np.ndarray, size: int) -> sparse.csr_matrix:
    """Sparse 0/1 matrix summing rows with the same code: one product sums every column at once."""
    return sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(size, len(codes)))


def _first_rows(ids: np.ndarray) -> np.ndarray:
    """First row of each id, for ids numbered in order of first appearance (as pd.factorize numbers them)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(ids > np.concatenate([[-1], np.maximum.accumulate(ids)[:-1]]))


def _stratified_variance(design: Design, totals: _Totals, n_groups: int, present=None) -> np.ndarray:
    """R's `onestage()`: per stratum, f_h·n_h/(n_h−1)·Σ(T_u − mean_h)² over all its PSUs (those without domain
    members count with T_u = 0; f_h = 1 − n_h/N_h with an fpc, else 1), summed over strata; columns are
    (group, indicator) pairs.

    Lonely PSUs (n_h = 1): "adjust" adds f_h·T_u² (its total is already a deviation from the overall mean),
    "certainty"/"remove" add nothing, "average" leaves the stratum out and scales the sum by strata / strata
    left in. `present` (strata × columns: PSUs holding domain members, given for uncalibrated designs, where R
    drops the rows outside the domain) makes the strata without members count for nothing, also in "average",
    and, with `adjust_domain_lonely`, treats a domain in one PSU of its stratum by the lonely rule ("adjust":
    f_h·n_h/(n_h−1)·T_u² uncentred; "average": left out), as R's `survey.adjust.domain.lonely`.
    Centred exactly from the (PSU, group) pairs held (no sum-of-squares cancellation):
    Σ(T − m)² = Σ_held (T − m)² + (n_h − held)·m²."""
    n_strata, n_ys = len(design.stratum_labels), totals.values.shape[1]
    n_h = design.psu_per_stratum.astype(float)
    key = design.psu_stratum[totals.rows].astype(np.int64) * n_groups + totals.groups  # (stratum, group)
    to_keys = _aggregator(key, n_strata * n_groups)
    means = (to_keys @ totals.values).reshape(n_strata, n_groups * n_ys) / n_h[:, None]
    lonely = np.broadcast_to((n_h == 1)[:, None], means.shape)
    domain_lonely = np.zeros(means.shape, bool)
    if present is not None and design.adjust_domain_lonely:
        domain_lonely = (present == 1) & (n_h[:, None] > 1)
    if design.lonely_psu == "adjust":
        means = np.where(lonely | domain_lonely, 0.0, means)
    centres = means.reshape(n_strata * n_groups, n_ys)
    squares = np.empty_like(centres)
    for columns in _chunks(n_ys, 8 * len(key)):  # no pairs × indicators temporaries
        deviations = totals.values[:, columns] - centres[key, columns]
        squares[:, columns] = to_keys @ np.square(deviations, out=deviations)
    squares = squares.reshape(n_strata, n_groups * n_ys)
    held = np.repeat(np.bincount(key, minlength=n_strata * n_groups).reshape(n_strata, n_groups), n_ys, axis=1)
    centred = squares + (n_h[:, None] - held) * means**2
    f = np.ones(n_strata) if design.sampling_fraction is None else 1 - design.sampling_fraction
    f = np.where(f < 1e-7, 0.0, f)  # a census stratum contributes nothing (R: all f < 1e-7)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h == 1, f, f * n_h / (n_h - 1))
    contribution = scale[:, None] * centred
    if design.lonely_psu == "average":
        left_out = lonely | domain_lonely
        counted = np.ones(means.shape, bool) if present is None else present > 0
        kept = counted & ~left_out
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(kept, contribution, 0.0).sum(0) * counted.sum(0) / kept.sum(0)
    return contribution.sum(0)


def _interval(ci, p, variance, df, n_design, n, level, kinds):
    """Shares and scores: the plan's method, and at p = 0 or 1 (where the variance is 0) the Korn–Graubard-type
    bound [0, u] / [l, 1] (`intervals.boundary_ci`); means and totals: estimate ± t(df)·SE on their own scale.
    `n_design` is R's nrow(design) for the beta interval (the full sample once calibrated); `n` the domain's."""
    if ci == "logit":
        low, high = logit_ci(p, variance, df, level)
    elif ci == "beta":
        low, high = beta_ci(p, variance, df, n_design, level)
    else:
        low, high = wilson_ci(p, variance, df, level, n=n)
    edge_low, edge_high = boundary_ci(p, n, df, level)
    at_edge = np.isnan(low) & ~np.isnan(edge_low)
    low, high = np.where(at_edge, edge_low, low), np.where(at_edge, edge_high, high)
    t_low, t_high = t_ci(p, variance, df, level)
    scaled = np.isin(kinds, ["mean", "total"])
    return np.where(scaled, t_low, low), np.where(scaled, t_high, high)
