"""analysis.models.usl: the USL recovers known parameters, its intervals cover the truth at the stated
rate (tests/fit_coverage.py), and its derived quantities (peak, efficiency, peak ratios) are right."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models import USL, integer_peak_ratio_range, peak_ratio_bounds, usl
from tests.fit_coverage import COVER, GUESTS, coverage


def _usl_truth(rng):
    return {"lam": 10 ** rng.uniform(3, 6), "sigma": rng.uniform(0.01, 0.3),
            "kappa": 10 ** rng.uniform(-4, -2)}


def test_usl_covariance_intervals_cover_the_truth_at_the_stated_rate():
    rates = coverage(lambda: USL(n_boot=0), _usl_truth, lambda rng: GUESTS, usl)
    assert set(rates) == {"lambda", "sigma", "kappa"}
    assert all(r >= COVER for r in rates.values()), rates


def test_usl_bootstrap_intervals_cover_the_truth_at_the_stated_rate():
    rates = coverage(lambda: USL(n_boot=200, seed=7), _usl_truth, lambda rng: GUESTS, usl,
                      trials=60, ci="ci_boot_")
    assert all(r >= 0.75 for r in rates.values()), rates


@settings(derandomize=True, max_examples=60, deadline=None)
@given(lam=st.floats(1e3, 1e6), sigma=st.floats(0.0, 0.5), kappa=st.floats(0.0, 0.02),
       seed=st.integers(0, 2**32 - 1))
def test_usl_recovers_parameters_anywhere_in_the_space(lam, sigma, kappa, seed):
    """With 0.5% noise the estimate is within 6 standard errors (+ a hair) of the truth."""
    rng = np.random.default_rng(seed)
    y = usl(GUESTS, lam=lam, sigma=sigma, kappa=kappa)
    y = y + 0.005 * y.max() * rng.standard_normal(y.size)
    model = USL(n_boot=0).fit(GUESTS, y)
    for name, true in (("lambda", lam), ("sigma", sigma), ("kappa", kappa)):
        se = model.stderr_[name]
        assert math.isfinite(se)
        assert abs(model.params_[name] - true) <= 6 * se + 1e-9 * max(1.0, true), (name, model.params_)


def test_usl_peak_is_the_maximum_of_the_curve():
    model = USL()
    n_star, x_star = model.peak(**{"lambda": 1e5, "sigma": 0.05, "kappa": 0.01})
    grid = np.linspace(0.5, 40, 100001)
    values = usl(grid, lam=1e5, sigma=0.05, kappa=0.01)
    assert n_star == pytest.approx(grid[values.argmax()], abs=1e-3)
    assert x_star == pytest.approx(values.max(), rel=1e-9)
    assert model.peak(**{"lambda": 1e5, "sigma": 0.2, "kappa": 0.0}) == (math.inf, pytest.approx(5e5))


def test_efficiency_is_throughput_over_linear():
    model = USL()
    eff = model.efficiency([1, 4, 9], **{"lambda": 2.0, "sigma": 0.1, "kappa": 0.01})
    assert eff[0] == pytest.approx(1.0)
    assert eff[1] == pytest.approx(1 / (1 + 0.1 * 3 + 0.01 * 4 * 3))
    assert np.all(np.diff(eff) < 0)


def test_peak_ratio_bounds_match_a_brute_force_search():
    lo, hi = peak_ratio_bounds(5, 10)
    ratios = []
    for sigma in np.linspace(0, 0.999, 2000):
        kappa = (1 - sigma) / 25
        x5, x10 = usl(np.array([5.0, 10.0]), lam=1, sigma=sigma, kappa=kappa)
        ratios.append(x10 / x5)
    assert lo == pytest.approx(min(ratios), rel=1e-6)
    assert hi == pytest.approx(1.0, abs=1e-6) and max(ratios) <= hi


def test_integer_peak_range_contains_the_exact_peak_range():
    lo, hi = peak_ratio_bounds(5, 10)
    ilo, ihi, count = integer_peak_ratio_range(5, 10, grid=200)
    assert count > 0 and ilo < lo and ihi <= 1.0
    # Every qualifying USL really has its best integer load at 5 (spot-check the extreme one).
    assert ilo > 0.5
