"""Design-based proportions by breakdown, with R survey's Taylor-linearised, calibration-aware variance.

What it computes, for an indicator y (1/0 in its base, NaN outside) and each group g of a breakdown, is exactly
R survey 4.1's `svyciprop(~y, subset(design, !is.na(y) & g), method=...)` plus `svymean(..., deff=TRUE)` and
`degf()` — domains are sub-populations of the full design (never rows dropped before weighting): the influence
function z_i = 1{i in domain}·w_i·(y_i − p)/W is residualised on the calibration cells the way R's `svyrecvar`
does (one projection per post-stratification step; ten sweeps over the last raking iteration's margins), summed
per PSU, centred within strata (padding PSUs without domain members with zeros) and scaled by n_h/(n_h − 1),
with R's lonely-PSU rules.

Hand-written and batched on purpose. `svy` (0.35) reproduces R one estimate at a time, but the full SDG 16 suite
(25 indicators × every breakdown) is thousands of domain estimates: one at a time that takes minutes at 1M rows.
Here every indicator × every group of a breakdown is one column of a matrix, and the work runs on "atoms" — the
rows grouped by PSU, breakdown values and calibration cells, which is all the variance depends on (the
calibration ratios are constant within an atom) — so a breakdown costs a few bincounts and sparse products.
benchmarks/analysis_pipeline.py measures it against svy, samplics and R; tests/analysis/test_estimate.py checks
it against R's golden files (tests/golden/) and against svy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.design import CalibrationStep, Design, Raking
from analysis.errors import AnalysisError
from analysis.intervals import beta_ci, logit_ci, wilson_ci

CI_METHODS = ("logit", "beta", "wilson")
RAKING_SWEEPS = 10  # R's svyrecvar residualises a raked design with 10 sweeps over the margins
CHUNK_CELLS = 4_000_000  # PSUs × domain columns held at once; bounds memory at 1M rows
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
    if ci not in CI_METHODS:
        raise AnalysisError(f"ci must be one of {', '.join(CI_METHODS)}; got {ci!r}")
    if not 0 < level < 1:
        raise AnalysisError(f"level must be between 0 and 1; got {level}")
    if not ys:
        raise AnalysisError("no indicator column given")
    values, base = _indicator_matrix(design, ys, domain)
    breakdowns = [_Breakdown("overall", None, np.zeros(design.n, np.int64), ["all"], [None])]
    breakdowns += [_breakdown(design, spec) for spec in by or []]
    atoms = _Atoms.build(design, values, base, breakdowns)
    calibration = _Calibration.build(design, atoms)
    frames = [
        _estimate_breakdown(design, atoms, calibration, b, breakdown, ys, ci, level)
        for b, breakdown in enumerate(breakdowns)
    ]
    table = pd.concat(frames, ignore_index=True)
    order = np.argsort(table["indicator"].map({y: i for i, y in enumerate(ys)}).to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


@dataclass
class _Breakdown:
    name: str
    area: str | None
    codes: np.ndarray  # group per row, -1 when the breakdown variable is missing
    groups: list
    areas: list


def _breakdown(design: Design, spec: BySpec) -> _Breakdown:
    columns = [spec] if isinstance(spec, str) else list(spec)
    if len(columns) not in (1, 2):
        raise AnalysisError(f"a breakdown is a column or an (area, column) pair; got {spec!r}")
    for column in columns:
        if column not in design.data.columns:
            raise AnalysisError(f"breakdown column {column!r} is not in the responses")
    if len(columns) == 1:
        codes, labels = pd.factorize(design.data[spec], sort=True)
        return _Breakdown(spec, None, codes.astype(np.int64), list(labels), [None] * len(labels))
    area, variable = columns
    area_codes, area_labels = pd.factorize(design.data[area], sort=True)
    var_codes, var_labels = pd.factorize(design.data[variable], sort=True)
    pair = np.where((area_codes >= 0) & (var_codes >= 0), area_codes * len(var_labels) + var_codes, -1)
    present = np.unique(pair[pair >= 0])
    codes = np.where(pair >= 0, np.searchsorted(present, pair), -1)
    return _Breakdown(
        variable,
        area,
        codes.astype(np.int64),
        [var_labels[k % len(var_labels)] for k in present],
        [area_labels[k // len(var_labels)] for k in present],
    )


def _indicator_matrix(design: Design, ys: list[str], domain: str | None) -> tuple[np.ndarray, np.ndarray]:
    """y values (0 outside the base) and the base mask; anything but 0/1/NaN is an error naming the column."""
    data = design.data
    values = np.zeros((design.n, len(ys)))
    base = np.zeros((design.n, len(ys)), dtype=bool)
    keep = np.ones(design.n, dtype=bool)
    if domain is not None:
        if domain not in data.columns:
            raise AnalysisError(f"domain column {domain!r} is not in the responses")
        flags = data[domain]
        if not (pd.api.types.is_bool_dtype(flags) or flags.dropna().isin([0, 1, True, False]).all()):
            raise AnalysisError(f"domain column {domain!r} must be boolean (True/False or 1/0)")
        keep = flags.fillna(False).astype(bool).to_numpy()
    for j, y in enumerate(ys):
        if y not in data.columns:
            raise AnalysisError(f"indicator column {y!r} is not in the responses")
        column = data[y]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            column = pd.to_numeric(column, errors="coerce").where(column.notna())
            if column.isna().sum() > data[y].isna().sum():
                raise AnalysisError(f"indicator column {y!r} must hold 1/0 (NaN outside the base); found text")
        y_values = column.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(y_values) & (y_values != 0) & (y_values != 1)
        if bad.any():
            examples = ", ".join(map(str, np.unique(y_values[bad])[:3]))
            raise AnalysisError(f"indicator column {y!r} must hold 1/0 (NaN outside the base); found {examples}")
        base[:, j] = ~np.isnan(y_values) & keep
        values[:, j] = np.where(base[:, j], y_values, 0.0)
    return values, base


@dataclass
class _Atoms:
    """Rows grouped by everything the variance depends on: PSU, every breakdown's group, every calibration cell.

    Within an atom the ratios between the weights of successive calibration steps are constant (each step
    multiplies by a factor per cell), so sums per atom are sufficient statistics.
    """

    psu: np.ndarray
    groups: list[np.ndarray]
    cells: list[np.ndarray]
    nrows: np.ndarray
    wsum: np.ndarray
    step_weights: list[np.ndarray]
    step_oldweights: list[np.ndarray]
    swy: np.ndarray  # Σ w·y over the base, per indicator
    sw: np.ndarray  # Σ w over the base
    ny: np.ndarray  # Σ y over the base (unweighted: R's raking sweeps use unweighted cell means)
    nb: np.ndarray  # respondents in the base

    @classmethod
    def build(cls, design: Design, values: np.ndarray, base: np.ndarray, breakdowns: list[_Breakdown]):
        steps = _flat_steps(design)
        keys = [design.psu_codes] + [b.codes + 1 for b in breakdowns] + [s.cells for s in steps]
        ids = _group_ids(keys)
        count = int(ids.max()) + 1
        # ids are numbered in order of first appearance: a row starts an atom when its id exceeds all before it
        first = np.flatnonzero(ids > np.concatenate([[-1], np.maximum.accumulate(ids)[:-1]]))

        def total(weights):
            return np.bincount(ids, weights=weights, minlength=count)

        def columns(matrix, scale=1.0):
            return np.column_stack([total(matrix[:, j] * scale) for j in range(matrix.shape[1])])

        w = design.weights
        return cls(
            psu=design.psu_codes[first],
            groups=[b.codes[first] for b in breakdowns],
            cells=[s.cells[first] for s in steps],
            nrows=np.bincount(ids, minlength=count).astype(float),
            wsum=total(w),
            step_weights=[total(s.weights) for s in steps],
            step_oldweights=[total(s.oldweights) for s in steps],
            swy=columns(values, w),
            sw=columns(base, w),
            ny=columns(values),
            nb=columns(base, 1.0),
        )


def _flat_steps(design: Design) -> list[CalibrationStep]:
    steps = []
    for item in design.calibration:
        steps.extend(item.margins if isinstance(item, Raking) else [item])
    return steps


def _group_ids(keys: list[np.ndarray]) -> np.ndarray:
    """Dense ids of the distinct combinations of integer key columns (mixed-radix code, or a groupby)."""
    radices = [int(k.max()) + 1 for k in keys]
    if np.prod([float(r) for r in radices]) < 2.0**62:
        code = np.zeros(len(keys[0]), dtype=np.int64)
        for key, radix in zip(keys, radices):
            code = code * radix + key
        return pd.factorize(code)[0]
    return pd.DataFrame(dict(enumerate(keys))).groupby(list(range(len(keys))), sort=False).ngroup().to_numpy()


@dataclass
class _Calibration:
    """The domain-independent parts of R's calibration residualisation, on atoms.

    The residual after the projections is x = z − Σ_s psw_s·a_s[cell_s], so each projection only needs, per
    step s: its cell denominators `denominators[s]`, the cross sums `cross[s][t][c, c'] = Σ psw_t·φ_s` over rows
    in cell c of s and c' of t (φ_s = 1/psw_s for a raking margin, oldw_s/psw_s for a post-stratification), the
    per-atom factor `phi[s]` turning domain sums into Σ z·φ_s, and `psu_sums[s][u, c] = Σ psw_s` to return to PSU
    totals. `program` is the order of projections: each post-stratification once, each raking 10 sweeps.
    """

    program: list[int]
    raking: list[bool]
    sizes: list[int]
    denominators: list[np.ndarray]
    cross: list[list[sparse.csr_matrix]]
    phi: list[np.ndarray]
    psu_sums: list[sparse.csr_matrix]

    @classmethod
    def build(cls, design: Design, atoms: _Atoms) -> "_Calibration":
        steps = _flat_steps(design)
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
        psw, old = atoms.step_weights, atoms.step_oldweights
        # φ_s summed over an atom's rows is nrows·(1/psw)·(w-scale) for raking: kept as the ratio w/psw
        phi = [atoms.wsum / psw[s] if raking[s] else old[s] / psw[s] for s in range(len(steps))]
        denominators = [
            np.bincount(atoms.cells[s], weights=atoms.nrows if raking[s] else old[s], minlength=sizes[s])
            for s in range(len(steps))
        ]
        cross = []
        for s in range(len(steps)):
            per_row = atoms.nrows / psw[s] if raking[s] else old[s] / psw[s]
            cross.append(
                [
                    sparse.csr_matrix(
                        (psw[t] * per_row, (atoms.cells[s], atoms.cells[t])), shape=(sizes[s], sizes[t])
                    )
                    for t in range(len(steps))
                ]
            )
        psu_sums = [
            sparse.csr_matrix((psw[s], (atoms.psu, atoms.cells[s])), shape=(design.n_psu, sizes[s]))
            for s in range(len(steps))
        ]
        return cls(program, raking, sizes, denominators, cross, phi, psu_sums)

    def residual_psu_totals(self, psu_totals, domain_sums_by_step):
        """Apply the projections (in R's order) and return PSU totals of the residualised influence."""
        coefficients = [np.zeros((size, psu_totals.shape[1])) for size in self.sizes]
        touched: list[int] = []
        for s in self.program:
            correction = domain_sums_by_step[s].copy()
            for t in touched:
                correction -= self.cross[s][t] @ coefficients[t]
            coefficients[s] += correction / self.denominators[s][:, None]
            if s not in touched:
                touched.append(s)
        for s in touched:
            psu_totals = psu_totals - self.psu_sums[s] @ coefficients[s]
        return psu_totals


def _estimate_breakdown(design, atoms, calibration, b, breakdown, ys, ci, level) -> pd.DataFrame:
    groups = atoms.groups[b]
    inside = groups >= 0
    n_groups, n_ys = len(breakdown.groups), len(ys)
    g = groups[inside]
    psu = atoms.psu[inside]

    def by_group(matrix):
        return np.stack([np.bincount(g, weights=matrix[inside, j], minlength=n_groups) for j in range(n_ys)], 1)

    population, n = by_group(atoms.sw), by_group(atoms.nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = by_group(atoms.swy) / population
    variance = np.full((n_groups, n_ys), np.nan)
    df = np.zeros((n_groups, n_ys), dtype=np.int64)
    chunk = max(1, min(n_ys, CHUNK_CELLS // max(1, design.n_psu * n_groups)))
    for start in range(0, n_ys, chunk):
        js = list(range(start, min(n_ys, start + chunk)))
        variance[:, js], df[:, js] = _variance_chunk(design, atoms, calibration, inside, g, psu, n_groups, p, population, js)
    # all answers alike: the influence is exactly zero, so is the variance (floating noise would give ~1e-17)
    successes = by_group(atoms.ny)
    variance = np.where((n > 0) & ((successes == 0) | (successes == n)), 0.0, variance)
    n_design = design.n if design.calibrated else n
    ci_low, ci_high = _interval(ci, p, variance, df, n_design, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        srs = p * (1 - p) * n / (n - 1) * (population - n) / (population * n)
        deff = np.where((n > 1) & (population > n) & (srs > 0), variance / srs, np.nan)
    estimate_defined = n > 0
    return pd.DataFrame(
        {
            "indicator": np.tile(ys, n_groups),
            "by": breakdown.name,
            "area": np.repeat(np.array(breakdown.areas, dtype=object), n_ys),
            "group": np.repeat(np.array(breakdown.groups, dtype=object), n_ys),
            "estimate": np.where(estimate_defined, p, np.nan).ravel(),
            "se": np.where(estimate_defined, np.sqrt(variance), np.nan).ravel(),
            "ci_low": ci_low.ravel(),
            "ci_high": ci_high.ravel(),
            "deff": deff.ravel(),
            "n": n.astype(np.int64).ravel(),
            "population": population.ravel(),
            "df": df.ravel(),
        }
    )


def _variance_chunk(design, atoms, calibration, inside, g, psu, n_groups, p, population, js):
    """Variances and domain df for indicators `js` and every group: columns are (group, indicator) pairs."""
    n_psu, width = design.n_psu, n_groups * len(js)
    cell_of = g * len(js)
    psu_totals = np.zeros((n_psu, width))
    has_members = np.zeros((n_psu, width), dtype=bool)
    domain_sums = [np.zeros((size, width)) for size in calibration.sizes]
    for k, j in enumerate(js):
        with np.errstate(invalid="ignore", divide="ignore"):
            mean, total = np.nan_to_num(p[g, j]), population[g, j]
            scale = np.where(total > 0, 1 / total, 0.0)
        weighted = (atoms.swy[inside, j] - mean * atoms.sw[inside, j]) * scale  # Σ z per atom
        unweighted = (atoms.ny[inside, j] - mean * atoms.nb[inside, j]) * scale  # Σ z/w per atom
        column = cell_of + k
        psu_totals += _scatter(psu, column, weighted, n_psu, width)
        has_members |= _scatter(psu, column, atoms.nb[inside, j], n_psu, width) > 0
        for s, size in enumerate(calibration.sizes):
            # raking margins: Σ z/psw = (w/psw)·Σ(y−p)/W ; post-strata: Σ z·oldw/psw = (oldw/psw)·Σ w(y−p)/W
            phi = calibration.phi[s][inside]
            contribution = phi * (unweighted if calibration.raking[s] else weighted)
            domain_sums[s] += _scatter(atoms.cells[s][inside], column, contribution, size, width)
    if calibration.program:
        psu_totals = calibration.residual_psu_totals(psu_totals, domain_sums)
    variance = _stratified_variance(design, psu_totals)
    psus = has_members.sum(0)
    strata = (np.add.reduceat(has_members, _stratum_starts(design), axis=0) > 0).sum(0)
    shape = (n_groups, len(js))
    return variance.reshape(shape), (psus - strata).reshape(shape)


def _scatter(rows, columns, values, n_rows, n_columns) -> np.ndarray:
    return np.bincount(rows * n_columns + columns, weights=values, minlength=n_rows * n_columns).reshape(
        n_rows, n_columns
    )


def _stratum_starts(design: Design) -> np.ndarray:
    return np.searchsorted(design.psu_stratum, np.arange(len(design.stratum_labels)))


def _stratified_variance(design: Design, psu_totals: np.ndarray) -> np.ndarray:
    """R's `onestage()`: per stratum, n_h/(n_h−1)·Σ(T_u − mean_h)²; a lonely PSU adds T_u² under "adjust"
    (its total is already a deviation from the overall mean) and nothing under "certainty"/"remove"."""
    n_h = design.psu_per_stratum.astype(float)
    means = np.add.reduceat(psu_totals, _stratum_starts(design), axis=0) / n_h[:, None]
    lonely = n_h[design.psu_stratum] == 1
    centred = psu_totals - np.where(lonely[:, None] & (design.lonely_psu == "adjust"), 0.0, means[design.psu_stratum])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, n_h / (n_h - 1), 1.0)[design.psu_stratum]
    return (scale[:, None] * centred**2).sum(0)


def _interval(ci, p, variance, df, n_design, level):
    if ci == "logit":
        return logit_ci(p, variance, df, level)
    if ci == "beta":
        return beta_ci(p, variance, df, n_design, level)
    return wilson_ci(p, variance, df, level)
