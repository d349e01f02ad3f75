"""A slow, obviously correct reference for the engine: one domain at a time, row by row, written from R survey's
source (`svymean`/`svytotal` → `svyrecvar` → `onestage`), with no grouping, sparse algebra or batching.

tests/analysis/test_reference.py checks the engine against it on random designs (hypothesis), the way R's own
tests/domain.R checks one domain SE three ways. Never used by the package.
"""

from __future__ import annotations

import numpy as np

from analysis.design import Design, Raking


def domain_estimate(design: Design, y: np.ndarray, member: np.ndarray, statistic: str = "mean"):
    """(estimate, variance) of the domain mean or total of y (NaN outside the base) over `member` rows."""
    w = design.weights
    inside = member & ~np.isnan(y)
    values = np.where(inside, y, 0.0)
    total_weight = w[inside].sum()
    if statistic == "total":
        estimate = (w * values).sum()
        z = w * values
    else:
        estimate = (w * values).sum() / total_weight
        z = np.where(inside, w * (values - estimate) / total_weight, 0.0)
    return estimate, _variance(design, _residual(design, z), inside)


def _residual(design: Design, z: np.ndarray) -> np.ndarray:
    """R's svyrecvar: each post-stratification projects out cell means (oldw/psw weighted); a raking runs ten
    sweeps of `x - psw * ave(x / psw, margin)` over its margins."""
    x = z.copy()
    for item in design.calibration:
        if isinstance(item, Raking):
            for _ in range(10):
                for margin in item.margins:
                    ratio = x / margin.weights
                    cell_mean = {c: ratio[margin.cells == c].mean() for c in np.unique(margin.cells)}
                    x = x - margin.weights * np.array([cell_mean[c] for c in margin.cells])
        else:
            psw, oldw = item.weights, item.oldweights
            for c in np.unique(item.cells):
                rows = item.cells == c
                x[rows] = x[rows] - psw[rows] * (x[rows] * oldw[rows] / psw[rows]).sum() / oldw[rows].sum()
    return x


def _variance(design: Design, x: np.ndarray, inside: np.ndarray) -> float:
    """R's onestage: per stratum, PSU totals centred on their mean, scaled by f·n_h/(n_h − 1); lonely PSUs and
    domain-lonely PSUs by the design's rules; uncalibrated domains count only the strata and PSUs they reach."""
    calibrated = bool(design.calibration)
    contributions, counted = [], 0
    for h in range(len(design.stratum_labels)):
        psus = np.flatnonzero(design.psu_stratum == h)
        n_h = len(psus)
        present = sum(inside[design.psu_codes == u].any() for u in psus) if not calibrated else n_h
        if present == 0:
            continue
        counted += 1
        totals = np.array([x[design.psu_codes == u].sum() for u in psus])
        f = 1.0 if design.sampling_fraction is None else 1 - design.sampling_fraction[h]
        domain_lonely = design.adjust_domain_lonely and not calibrated and present == 1 and n_h > 1
        if n_h == 1 or domain_lonely:
            if design.lonely_psu == "average":
                contributions.append(np.nan)
            elif design.lonely_psu == "adjust":
                contributions.append(f * (n_h / (n_h - 1) if n_h > 1 else 1.0) * (totals**2).sum())
            else:
                centred = totals - totals.mean()
                contributions.append(f * (n_h / (n_h - 1) if n_h > 1 else 1.0) * (centred**2).sum())
            continue
        contributions.append(f * n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum())
    contributions = np.array(contributions)
    kept = ~np.isnan(contributions)
    return contributions[kept].sum() * (counted / kept.sum() if kept.any() else np.nan)
