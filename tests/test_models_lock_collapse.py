"""analysis.models.lock_collapse: the lock-collapse chain (Boyd-Wickizer 2012) recovers its parameters,
its stationary distribution satisfies detailed balance, and one guest is one cycle (as in the MVA)."""

import numpy as np
import pytest

from analysis.models.lock_collapse import LockCollapse, chain_distribution, collapse_iops
from analysis.models.mva import mva_iops
from tests.flush_truth import CHAIN, FITTED, MVA, noisy, stack


def test_lock_collapse_recovers_its_parameters_within_their_intervals():
    y = noisy(collapse_iops, CHAIN, FITTED, 5)
    fit = LockCollapse(n_boot=200, fixed={"hold_per_cpu_us": CHAIN["hold_per_cpu_us"]}).fit(FITTED, y)
    for name in ("think_us", "hold_base_us", "handoff_us"):
        lo, hi = fit.ci_[name]
        assert lo <= CHAIN[name] <= hi, (name, fit.ci_[name])
    n_star, _ = fit.peak()
    assert n_star == LockCollapse().peak(**CHAIN)[0]


def test_chain_distribution_satisfies_detailed_balance():
    n, think, hold, handoff = 7, 3.0, 0.8, 0.2
    pi = chain_distribution(n, think_us=think, hold_us=hold, handoff_us=handoff)
    k = np.arange(n)
    flow_up = pi[:-1] * (n - k) / think
    flow_down = pi[1:] / (hold + handoff * (k + 1))
    assert pi.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(flow_up, flow_down, rtol=1e-12)


def test_one_guest_is_one_cycle_of_think_plus_hold_in_both_models():
    # N = 1: no queue, so X = 1 / (think + cpu + hold) exactly
    assert collapse_iops(stack([1]), **CHAIN)[0] == pytest.approx(
        1e6 / (CHAIN["think_us"] + CHAIN["hold_base_us"] + 23 * CHAIN["hold_per_cpu_us"] + CHAIN["handoff_us"]))
    no_handler = {**MVA, "handler_us": 0.0}
    assert mva_iops(stack([1]), **no_handler)[0] == pytest.approx(
        1e6 / (MVA["think_us"] + MVA["cpu_us"] + MVA["hold_base_us"] + 23 * MVA["hold_per_cpu_us"]))
