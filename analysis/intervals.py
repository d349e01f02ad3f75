"""Confidence intervals for design-based proportions, vectorised over arrays of estimates.

Each function takes the estimate `p`, its design-based variance `var` and the design degrees of freedom `df`
(arrays of the same shape) and returns `(low, high)`. They reproduce R survey 4.1's `svyciprop()`:

- `logit_ci`: `method="logit"`. R fits an intercept-only quasibinomial `svyglm` and takes a Wald interval on the
  logit scale with t(df) quantiles; that equals the closed form expit(logit p ± t·se/(p(1−p))) (R's
  `method="xlogit"`), which we use because the GLM can fail on raked domains and return [0, 0].
- `beta_ci`: `method="beta"` (Korn–Graubard): a Clopper–Pearson interval on the effective sample size
  p(1−p)/var, rescaled by (t(nrow−1)/t(df))². `nrow` is R's `nrow(design)`: on a calibrated design subsets keep
  every row, so it is the full sample size; on an uncalibrated design it is the domain's size.
- `wilson_ci`: not in R. The Wilson score interval on the effective sample size p(1−p)/var, with the t(df)
  quantile in place of z; given the domain's sample size `n`, the effective size gets the same (t(n−1)/t(df))²
  factor as Korn–Graubard. That is svy 0.35's `ci_method="wilson"` (checked in tests/analysis/test_estimate.py);
  the formula itself is checked against statsmodels' `proportion_confint`.

Where these are undefined because p is 0 or 1 (so the variance is 0), `boundary_ci` gives the one-sided bound of
a Clopper–Pearson interval on the domain's n, with Korn and Graubard's degrees-of-freedom factor (t(n−1)/t(df))²
(Korn & Graubard 1998, "Confidence intervals for proportions with small expected number of positive counts
estimated from survey data"; their effective n is undefined at p = 0 and replaced by the actual n):
[0, u] when no respondent has the trait, [l, 1] when all have it. A neighbourhood with no victims gets an honest
upper bound instead of no interval. `t_ci` is the interval of means and totals on their own scale. With no
respondents the bounds are NaN: an honest gap rather than a made-up number.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def _t_quantile(level: float, df) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, stats.t.ppf(1 - (1 - level) / 2, np.where(df > 0, df, 1)), np.nan)


def logit_ci(p, var, df, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval on the logit scale (R `svyciprop(method="logit")`, closed form as `"xlogit"`)."""
    p, var = np.asarray(p, float), np.asarray(var, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_logit = np.sqrt(var) / (p * (1 - p))
        half = _t_quantile(level, df) * se_logit
        centre = special.logit(p)
        low, high = special.expit(centre - half), special.expit(centre + half)
    undefined = ~((p > 0) & (p < 1) & (var > 0))
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def effective_n(p, var) -> np.ndarray:
    """Effective sample size p(1−p)/var (Kish: n over the design effect vs. SRS with replacement)."""
    p, var = np.asarray(p, float), np.asarray(var, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, p * (1 - p) / var, np.nan)


def beta_ci(p, var, df, nrow, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard interval (R `svyciprop(method="beta")`), including R's (t(nrow−1)/t(df))² factor."""
    p = np.asarray(p, float)
    alpha = 1 - level
    nrow = np.asarray(nrow, float)
    ratio = _t_quantile(level, nrow - 1) / _t_quantile(level, df)
    n_eff = effective_n(p, var) * ratio**2
    with np.errstate(invalid="ignore"):
        low = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
        high = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    undefined = ~((p > 0) & (p < 1) & np.isfinite(n_eff))
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def wilson_ci(p, var, df, level: float = 0.95, *, n=None) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval on the effective sample size with the t(df) quantile (svy's design-based Wilson)."""
    p = np.asarray(p, float)
    t = _t_quantile(level, df)
    m = effective_n(p, var)
    if n is not None:
        m = m * (_t_quantile(level, np.asarray(n, float) - 1) / t) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + t**2 / m
        centre = (p + t**2 / (2 * m)) / denom
        half = t / denom * np.sqrt(p * (1 - p) / m + t**2 / (4 * m**2))
    undefined = ~((p > 0) & (p < 1) & np.isfinite(m) & np.isfinite(t))
    return np.where(undefined, np.nan, centre - half), np.where(undefined, np.nan, centre + half)


def boundary_ci(p, n, df, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """[0, u] at p = 0 and [l, 1] at p = 1 (NaN elsewhere): Clopper–Pearson on n* = n·(t(n−1)/t(df))², the
    Korn–Graubard effective n with the design effect taken as 1 (no variance can be estimated when every answer
    is alike). Without design degrees of freedom (df ≤ 0) or with n = 1 the factor is left out (plain
    Clopper–Pearson on n). u = 1 − (α/2)^(1/n*) as the beta quantile gives it."""
    p, n = np.asarray(p, float), np.asarray(n, float)
    alpha = 1 - level
    ratio = _t_quantile(level, n - 1) / _t_quantile(level, df)
    n_star = n * np.where(np.isfinite(ratio), ratio, 1.0) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = stats.beta.ppf(1 - alpha / 2, 1, np.where(n_star > 0, n_star, np.nan))
        lower = stats.beta.ppf(alpha / 2, np.where(n_star > 0, n_star, np.nan), 1)
    zero, one = (p == 0) & (n > 0), (p == 1) & (n > 0)
    return (np.where(zero, 0.0, np.where(one, lower, np.nan)), np.where(zero, upper, np.where(one, 1.0, np.nan)))


def t_ci(estimate, var, df, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """estimate ± t(df)·SE (R's `confint(svymean(...), df = degf(design))`), on the estimate's own scale."""
    estimate = np.asarray(estimate, float)
    with np.errstate(invalid="ignore"):
        half = _t_quantile(level, df) * np.sqrt(np.asarray(var, float))
    return estimate - half, estimate + half
