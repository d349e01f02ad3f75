"""Interval formulas: against closed forms and independent implementations (statsmodels, scipy); the R
comparisons on real designs are in test_estimate.py."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.intervals import beta_ci, effective_n, logit_ci, wilson_ci

P = np.array([0.03, 0.2, 0.5, 0.77, 0.99])
VAR = np.array([1e-4, 4e-4, 2.5e-3, 1e-3, 2e-5])
DF = np.array([19, 5, 40, 3, 100])


def test_logit_is_the_wald_interval_on_the_logit_scale():
    low, high = logit_ci(P, VAR, DF)
    t = stats.t.ppf(0.975, DF)
    half = t * np.sqrt(VAR) / (P * (1 - P))
    np.testing.assert_allclose(np.log(low / (1 - low)), np.log(P / (1 - P)) - half, rtol=1e-12)
    np.testing.assert_allclose(np.log(high / (1 - high)), np.log(P / (1 - P)) + half, rtol=1e-12)


def test_beta_with_srs_variance_and_equal_df_is_clopper_pearson():
    """With var = p(1−p)/n and nrow − 1 = df the Korn–Graubard interval is the exact binomial interval."""
    n = np.array([100, 50, 30, 80, 200])
    x = np.array([3, 10, 15, 61, 198])
    p = x / n
    low, high = beta_ci(p, p * (1 - p) / n, n - 1, n)
    cp_low, cp_high = proportion_confint(x, n, alpha=0.05, method="beta")
    np.testing.assert_allclose(low, cp_low, rtol=1e-10)
    np.testing.assert_allclose(high, cp_high, rtol=1e-10)


def test_beta_rescales_the_effective_n_with_t_quantiles_as_r():
    low, _ = beta_ci(P, VAR, DF, nrow=np.full(5, 274))
    n_eff = P * (1 - P) / VAR * (stats.t.ppf(0.025, 273) / stats.t.ppf(0.025, DF)) ** 2
    np.testing.assert_allclose(low, stats.beta.ppf(0.025, n_eff * P, n_eff * (1 - P) + 1), rtol=1e-12)


@pytest.mark.parametrize("n", [None, np.array([120, 40, 300, 25, 900])])
def test_wilson_matches_statsmodels_on_the_effective_sample_size(n):
    low, high = wilson_ci(P, VAR, DF, level=0.9, n=n)
    n_eff = effective_n(P, VAR)
    if n is not None:  # the Korn–Graubard degrees-of-freedom factor, as svy applies it
        n_eff = n_eff * (stats.t.ppf(0.95, n - 1) / stats.t.ppf(0.95, DF)) ** 2
    alpha = 2 * stats.norm.sf(stats.t.ppf(0.95, DF))  # statsmodels uses z; ours uses t(df) in its place
    sm_low, sm_high = proportion_confint(P * n_eff, n_eff, alpha=alpha, method="wilson")
    np.testing.assert_allclose(low, sm_low, rtol=1e-10)
    np.testing.assert_allclose(high, sm_high, rtol=1e-10)


@pytest.mark.parametrize("interval", [logit_ci, wilson_ci, lambda p, v, d: beta_ci(p, v, d, np.full(len(p), 50))])
def test_undefined_intervals_are_nan(interval):
    p = np.array([0.0, 1.0, 0.4, 0.4, np.nan])
    var = np.array([0.0, 0.0, 1e-3, 0.0, np.nan])
    df = np.array([10, 10, 0, 10, 10])
    low, high = interval(p, var, df)
    assert np.isnan(low).all() and np.isnan(high).all()


def test_intervals_contain_the_estimate_and_widen_with_level():
    for interval in (logit_ci, wilson_ci, lambda p, v, d, level: beta_ci(p, v, d, np.full(5, 274), level)):
        low95, high95 = interval(P, VAR, DF, level=0.95)
        low80, high80 = interval(P, VAR, DF, level=0.80)
        assert np.all((low95 < low80) & (low80 < P) & (P < high80) & (high80 < high95))
