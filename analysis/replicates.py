"""Replicate weights: R survey's `as.svrepdesign(type = "JK1" | "JKn" | "subbootstrap")`, re-calibrated per replicate.

Why: the linearised variance of a raked estimate undercovers slightly at p ≈ 0.5 (a 2,000-replicate coverage
study gave 93.6 % for a 95 % interval), and researchers analyse replicate weights in R or Stata. Each replicate
multiplies the design weights of its PSUs by a factor (jackknife: 0 for the deleted PSU, n_h/(n_h − 1) for the
others of its stratum; bootstrap: Rao–Wu's n_h − 1 PSUs drawn with replacement) and is then calibrated again to
the same margins, the way R's `rake()` and `postStratify()` treat a replicate design. The variance of an estimate
is scale · Σ_r rscale_r (θ_r − θ̄)², θ̄ the mean of the replicates (R's default `survey.replicates.mse = FALSE`).

Computed on groups of rows, not rows: within a PSU × calibration-cell group every replicate changes the weights
by one factor (the PSU's factor times the cells' calibration factors), so a replicate is one ratio per group
(`ratio`), and the engine sums each domain's parts once for all replicates (`estimate.estimate_many`). Trimming
bounds of the full-sample raking are not re-applied to replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from analysis.design import CalibrationStep, Design, Raking
from analysis.errors import DesignError
from analysis.estimate import _group_ids

METHODS = ("jk1", "jkn", "bootstrap")


@dataclass(frozen=True, eq=False)
class Replicates:
    """Replicate weights of a calibrated design, per group of rows: the weight of row i in replicate r is
    `design.weights[i] * ratio[ids[i], r]`."""

    method: str
    ids: np.ndarray  # group of each row (PSU × calibration cells)
    ratio: np.ndarray  # groups × replicates
    scale: float
    rscales: np.ndarray

    @property
    def count(self) -> int:
        return self.ratio.shape[1]

    def row_weights(self, weights: np.ndarray) -> np.ndarray:
        """Rows × replicates: the replicate weights themselves (for microdata exports; 8 bytes per cell)."""
        return weights[:, None] * self.ratio[self.ids]

    def variance(self, thetas: np.ndarray) -> np.ndarray:
        """scale · Σ_r rscale_r (θ_r − θ̄)² over the first axis (replicates)."""
        count = (~np.isnan(thetas)).sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = thetas - np.nansum(thetas, axis=0, keepdims=True) / count
        return self.scale * np.tensordot(self.rscales, centred**2, axes=1)


def replicate(
    design: Design, method: str, replicates: int = 200, seed: int = 0, *, epsilon: float = 1e-10, maxit: int = 100
) -> Replicates:
    """Replicate weights of `design` (with its calibration redone in every replicate), as R builds them.

    `epsilon`, `maxit`: the full sample's raking control. As R's `rake()` on a replicate design, every replicate
    is raked as many times as the full sample needs to converge (R checks the full sample only)."""
    if method not in METHODS:
        raise DesignError(f"replicate method must be one of {', '.join(METHODS)}; got {method!r}")
    factors, scale, rscales = _psu_factors(design, method, replicates, seed)
    steps = [s for item in design.calibration for s in (item.margins if isinstance(item, Raking) else [item])]
    ids = _group_ids([design.psu_codes] + [s.cells for s in steps])
    first = np.unique(ids, return_index=True)[1]
    n_groups = len(first)
    start = np.bincount(ids, weights=design.design_weights, minlength=n_groups)
    weights = start[:, None] * np.column_stack([np.ones(n_groups), factors[design.psu_codes[first]]])
    for item in design.calibration:  # column 0: the full sample, calibrated alongside to count R's iterations
        weights = _recalibrate(item, first, weights, epsilon, maxit)
    full = np.bincount(ids, weights=design.weights, minlength=n_groups)
    return Replicates(method, ids, weights[:, 1:] / full[:, None], scale, rscales)


def _psu_factors(design: Design, method: str, replicates: int, seed: int):
    """PSUs × replicates multipliers of the design weights, with R's scale and rscales."""
    n_psu, strata = design.n_psu, design.psu_stratum
    n_h = design.psu_per_stratum
    if method == "jk1":  # R's jk1weights: every PSU deleted once; R allows it for unstratified designs only
        if len(n_h) > 1:
            raise DesignError("JK1 is for designs without strata; use jkn (each PSU deleted within its stratum)")
        if n_psu < 2:
            raise DesignError("a jackknife needs at least two PSUs")
        factors = np.full((n_psu, n_psu), n_psu / (n_psu - 1))
        np.fill_diagonal(factors, 0.0)
        return factors, (n_psu - 1) / n_psu, np.ones(n_psu)
    if method == "jkn":
        return _jkn(design, strata, n_h)
    rng = np.random.default_rng(seed)
    factors = np.ones((n_psu, replicates))
    for h in np.flatnonzero(n_h > 1):  # Rao–Wu: n_h − 1 of the n_h PSUs, with replacement
        members = np.flatnonzero(strata == h)
        draws = rng.integers(0, len(members), size=(len(members) - 1, replicates))
        counts = np.stack([np.bincount(draws[:, r], minlength=len(members)) for r in range(replicates)], axis=1)
        factors[members] = counts * len(members) / (len(members) - 1)
    return factors, 1 / (replicates - 1), np.ones(replicates)


def _jkn(design: Design, strata: np.ndarray, n_h: np.ndarray):
    """R's jknweights: each PSU deleted within its stratum (rscale (n_h − 1)/n_h); a lonely PSU under "adjust"
    is deleted with every other stratum's PSUs scaled by strata/(strata − 1); under the other rules its stratum
    has no replicate ("average" then scales the variance by PSUs / replicates)."""
    columns, rscales = [], []
    n_strata = len(n_h)
    for u in range(design.n_psu):
        h = strata[u]
        column = np.ones(design.n_psu)
        if n_h[h] > 1:
            column[strata == h] = n_h[h] / (n_h[h] - 1)
            column[u] = 0.0
            rscales.append((n_h[h] - 1) / n_h[h])
        elif design.lonely_psu == "adjust" and n_strata > 1:
            column[:] = n_strata / (n_strata - 1)
            column[u] = 0.0
            rscales.append((n_strata - 1) / n_strata)
        elif design.lonely_psu == "fail":
            raise DesignError(f"stratum {design.stratum_labels[h]} has only one PSU (lonely_psu='fail')")
        else:
            continue
        columns.append(column)
    if not columns:
        raise DesignError("no stratum has two PSUs: a jackknife has no replicate")
    scale = design.n_psu / len(columns) if design.lonely_psu == "average" else 1.0
    return np.column_stack(columns), scale, np.array(rscales)


def _recalibrate(item: CalibrationStep | Raking, first, weights, epsilon: float, maxit: int):
    """One calibration of the full sample, redone on every replicate's group weights: a post-stratification
    once; a raking until the full sample's joint table moves less than epsilon (R's `rake()` rule, checked on
    column 0). Targets are the full sample's calibrated cell totals (the margins it met)."""
    steps = item.margins if isinstance(item, Raking) else (item,)
    prepared = []
    for step in steps:
        cells = step.cells[first]
        target = np.bincount(step.cells, weights=step.weights, minlength=len(step.labels))
        prepared.append(
            (
                sparse.csr_matrix(
                    (np.ones(len(cells)), (cells, np.arange(len(cells)))), shape=(len(step.labels), len(cells))
                ),
                cells,
                target,
            )
        )
    joint = _group_ids([cells for _, cells, _ in prepared])
    tolerance = epsilon * weights[:, 0].sum() if epsilon < 1 else epsilon
    old_table = np.bincount(joint, weights=weights[:, 0])
    for _ in range(maxit if isinstance(item, Raking) else 1):
        for aggregate, cells, target in prepared:
            totals = aggregate @ weights
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(totals > 0, target[:, None] / totals, 1.0)
            weights = weights * factor[cells]
        new_table = np.bincount(joint, weights=weights[:, 0])
        if np.abs(old_table - new_table).max() < tolerance:
            break
        old_table = new_table
    return weights
