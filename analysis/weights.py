"""Calibration of the design weights to population margins: post-stratification, raking (IPF), trimming.

The algorithms are R survey's (`postStratify()` and `rake()` 4.1), step for step, so that the weights agree with
R's to rounding and the calibration steps recorded on the design give R's calibration-aware variance:
raking post-stratifies on each margin in turn until the full cross-table of all margin variables moves by less
than `epsilon` (relative to the sum of the starting weights when `epsilon < 1`, as R), and keeps the steps of the
last iteration. Unlike R (maxit 10, epsilon 1, a warning), the defaults are tight and non-convergence is an error.
Checked against R in tests/analysis/test_weights.py (golden files from tests/golden/make_golden.R); `svy`'s
`rake()` gives the same weights and is the second reference there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.design import CalibrationStep, Design, Raking
from analysis.errors import ConvergenceError, MarginError

POPULATION = "population"


def poststratify(design: Design, margin: pd.DataFrame) -> Design:
    """Scale the weights so that each cell of `margin` (its columns + `population`) sums to its population."""
    cells, labels, population = _cells(design, margin)
    step = _poststratify_step(design.weights, cells, labels, population, raking=False)
    return replace(design, weights=step.weights, calibration=design.calibration + (step,))


def rake(
    design: Design,
    margins: list[pd.DataFrame],
    *,
    trim: tuple[float, float] | None = None,
    epsilon: float = 1e-10,
    maxit: int = 100,
) -> Design:
    """Rake (iterative proportional fitting) to several margins, optionally bounding the adjustment factors.

    `trim=(low, high)` bounds g = calibrated weight / design weight: after raking, factors outside the bounds
    are clipped and the clipped weights are raked again, until the margins hold and every g is within bounds
    (or `maxit` rounds fail: an error saying so). g is relative to the design weights as given, so when those are
    not scaled to the population (g averages N/Σw), scale the bounds too. The variance then treats the clipped
    weights as the input of the last raking, the usual approximation (R has no trimmed raking to compare with).
    """
    if not margins:
        raise MarginError("rake() needs at least one margin")
    prepared = [_cells(design, margin) for margin in margins]
    _check_margins_agree(margins)
    raked = _rake(design, prepared, epsilon, maxit)
    if trim is None:
        return raked
    low, high = trim
    if not 0 < low < high:
        raise MarginError(f"trim bounds must satisfy 0 < low < high; got {trim}")
    for _ in range(maxit):
        g = raked.weights / design.design_weights
        if g.min() >= low * (1 - 1e-9) and g.max() <= high * (1 + 1e-9):
            return raked
        clipped = design.design_weights * np.clip(g, low, high)
        raked = _rake(replace(design, weights=clipped), prepared, epsilon, maxit)
    raise ConvergenceError(
        f"cannot keep adjustment factors within {trim} while matching the margins after {maxit} rounds "
        f"(factors now {g.min():.3g}–{g.max():.3g}); widen the bounds or collapse margin categories"
    )


def diagnostics(design: Design, by: str | None = None) -> pd.DataFrame:
    """Weight diagnostics overall and per group of `by` (default: per stratum).

    Kish's design effect due to unequal weighting is n·Σw²/(Σw)² = 1 + CV² (CV: the weights' coefficient of
    variation, population form) and the effective sample size (Σw)²/Σw²;
    g is the adjustment factor calibrated weight / design weight (1 when the design is not calibrated).
    """
    by = by if by is not None else design.strata
    frame = pd.DataFrame({"w": design.weights, "g": design.weights / design.design_weights})
    rows = [_diagnostics_row("overall", "all", frame)]
    if by is not None:
        if by not in design.data.columns:
            raise MarginError(f"diagnostics: column {by!r} is not in the responses")
        for group, part in frame.groupby(design.data[by].to_numpy(), sort=True):
            rows.append(_diagnostics_row(by, group, part))
    return pd.DataFrame(rows)


def _diagnostics_row(by: str, group, part: pd.DataFrame) -> dict:
    w = part["w"].to_numpy()
    total, squares = w.sum(), (w**2).sum()
    return {
        "by": by,
        "group": group,
        "n": len(w),
        "weight_sum": total,
        "weight_min": w.min(),
        "weight_max": w.max(),
        "weight_ratio": w.max() / w.min(),
        "weight_cv": w.std() / w.mean(),
        "deff_w": len(w) * squares / total**2,
        "n_eff": total**2 / squares,
        "g_min": part["g"].min(),
        "g_max": part["g"].max(),
    }


def _rake(design: Design, prepared, epsilon: float, maxit: int) -> Design:
    """R's `rake()` loop: post-stratify on each margin; stop when the joint table moves less than epsilon."""
    weights = design.weights
    tolerance = epsilon * weights.sum() if epsilon < 1 else epsilon
    joint = _joint_codes([cells for cells, _, _ in prepared])
    old_table = np.bincount(joint, weights=weights)
    for _ in range(maxit):
        steps = []
        for cells, labels, population in prepared:
            steps.append(_poststratify_step(weights, cells, labels, population, raking=True))
            weights = steps[-1].weights
        new_table = np.bincount(joint, weights=weights)
        delta = np.abs(old_table - new_table).max()
        if delta < tolerance:
            _check_margins_met(weights, prepared)
            return replace(design, weights=weights, calibration=design.calibration + (Raking(tuple(steps)),))
        old_table = new_table
    raise ConvergenceError(
        f"raking did not converge in {maxit} iterations (the weighted margins still move by {delta:.3g}, "
        f"tolerance {tolerance:.3g}); the margins may be incompatible with the sample: check empty cells"
    )


def _check_margins_met(weights, prepared, rtol: float = 1e-6) -> None:
    """R stops when the weights stop moving, which also happens when the margins cannot all be met (e.g. sex
    and age perfectly confounded in a small area): R then returns weights that miss a margin, silently. We say so."""
    for cells, labels, population in prepared:
        totals = np.bincount(cells, weights=weights, minlength=len(labels))
        off = ~np.isclose(totals, population, rtol=rtol, atol=0)
        if off.any():
            name = " × ".join(labels.columns)
            raise MarginError(
                f"raking converged but margin {name} is not met in cell(s) {_cell_list(labels[off])}: the sample "
                "cannot fit all margins at once there (categories confounded); collapse categories in that area"
            )


def _poststratify_step(weights, cells, labels, population, raking: bool) -> CalibrationStep:
    totals = np.bincount(cells, weights=weights, minlength=len(labels))
    new = weights * (population / totals)[cells]
    return CalibrationStep(cells=cells, labels=labels, weights=new, oldweights=weights, raking=raking)


def _joint_codes(codes: list[np.ndarray]) -> np.ndarray:
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = key * (int(c.max()) + 1) + c
    return pd.factorize(key)[0]


def _cells(design: Design, margin: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Match each respondent to a cell of the margin; every mismatch is an error naming the cell.

    Returns the cell index per row, the cells (margin columns) and their populations, without the cells that
    have neither population nor respondents (as R drops them).
    """
    if not isinstance(margin, pd.DataFrame) or POPULATION not in margin.columns:
        raise MarginError(f"a margin must be a DataFrame with the margin columns and {POPULATION!r}")
    columns = [c for c in margin.columns if c != POPULATION]
    name = " × ".join(columns)
    if not columns:
        raise MarginError(f"margin has no column besides {POPULATION!r}")
    for column in columns:
        if column not in design.data.columns:
            raise MarginError(f"margin {name}: column {column!r} is not in the responses")
        missing = design.data[column].isna().sum()
        if missing:
            raise MarginError(f"margin {name}: column {column!r} is missing for {missing} respondent(s)")
    population = pd.to_numeric(margin[POPULATION], errors="coerce")
    if population.isna().any() or (population < 0).any() or np.isinf(population).any():
        bad = margin.loc[population.isna() | ~(population >= 0) | np.isinf(population), columns]
        raise MarginError(f"margin {name}: population must be a non-negative number; bad cell(s) {_cell_list(bad)}")
    duplicated = margin.duplicated(columns, keep=False)
    if duplicated.any():
        cells = _cell_list(margin.loc[duplicated, columns])
        raise MarginError(f"margin {name}: cell(s) listed more than once: {cells}")
    sample = design.data[columns]
    margin_keys = pd.MultiIndex.from_frame(_comparable(margin[columns], sample))
    cells = _distinct_cells(sample, margin[columns], margin_keys)
    if (cells < 0).any():
        absent = design.data.loc[cells < 0, columns].drop_duplicates()
        raise MarginError(f"margin {name}: sample cell(s) {_cell_list(absent)} are absent from the margin")
    counts = np.bincount(cells, minlength=len(margin))
    population = population.to_numpy(dtype=float)
    empty = (counts == 0) & (population > 0)
    if empty.any():
        raise MarginError(
            f"margin {name}: cell(s) {_cell_list(margin.loc[empty, columns])} have a population but no "
            "respondent in the sample; collapse them with a neighbouring category"
        )
    unpopulated = (counts > 0) & (population == 0)
    if unpopulated.any():
        raise MarginError(
            f"margin {name}: cell(s) {_cell_list(margin.loc[unpopulated, columns])} have respondents but population 0"
        )
    keep = counts > 0
    renumber = np.cumsum(keep) - 1
    labels = margin.loc[keep, columns].reset_index(drop=True)
    return renumber[cells], labels, population[keep]


def _distinct_cells(sample: pd.DataFrame, margin: pd.DataFrame, margin_keys: pd.MultiIndex) -> np.ndarray:
    """Each row's position in the margin, found for the distinct cells of the sample and mapped back by code.

    Hand-written for speed: converting the 1M-row (categorical) cell columns to text for the comparison took
    ~0.4 s of the 1M-row pipeline (cProfile, benchmarks/analysis_pipeline.py); the distinct cells are a few
    hundred rows. No column is missing here (checked before)."""
    codes = [
        s.cat.codes.to_numpy() if isinstance(s.dtype, pd.CategoricalDtype) else pd.factorize(s)[0]
        for _, s in sample.items()
    ]
    if not len(sample):
        return np.zeros(0, dtype=np.intp)
    joint = _joint_codes(codes)
    first = np.unique(joint, return_index=True)[1]
    distinct = sample.iloc[first].reset_index(drop=True)
    keys = pd.MultiIndex.from_frame(_comparable(distinct, margin))
    return margin_keys.get_indexer(keys)[joint]


def _comparable(values: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Margin files read from CSV may hold numbers where the responses hold text (or the reverse): compare as
    numbers when both sides are numeric, otherwise as text."""
    out = {}
    for column in values.columns:
        both_numeric = pd.api.types.is_numeric_dtype(values[column]) and pd.api.types.is_numeric_dtype(other[column])
        out[column] = values[column].astype(float) if both_numeric else values[column].astype(str)
    return pd.DataFrame(out)


def _cell_list(cells: pd.DataFrame) -> str:
    shown = [" / ".join(f"{k}={v}" for k, v in row.items()) for row in cells.head(5).to_dict("records")]
    more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
    return "; ".join(shown) + more


def _check_margins_agree(margins: list[pd.DataFrame], rtol: float = 1e-6) -> None:
    """Margins must describe the same population: equal grand totals, and equal subtotals over shared columns
    (e.g. neighbourhood × sex and neighbourhood × age must give each neighbourhood the same population)."""
    for i, first in enumerate(margins):
        for second in margins[i + 1 :]:
            shared = [c for c in first.columns if c in second.columns and c != POPULATION]
            a = first.groupby(shared)[POPULATION].sum() if shared else pd.Series([first[POPULATION].sum()])
            b = second.groupby(shared)[POPULATION].sum() if shared else pd.Series([second[POPULATION].sum()])
            a, b = a.align(b, fill_value=0)
            off = ~np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=rtol, atol=0)
            if off.any():
                names = (" × ".join(c for c in m.columns if c != POPULATION) for m in (first, second))
                where = ", ".join(f"{k}: {x:g} vs {y:g}" for k, x, y in zip(a.index[off][:5], a[off], b[off]))
                raise MarginError(f"margins {' and '.join(names)} disagree on population totals ({where})")
