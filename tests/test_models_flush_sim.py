"""The flush-path simulation: known queueing results, and each analytic model against the
simulation of its own assumptions (within 5% over N = 1..16 guests and 2..64 dom0 CPUs)."""

import math

import numpy as np
import pytest

from analysis.errors import UsageError
from analysis.models.flush_sim import simulate
from analysis.models.lock_collapse import collapse_iops
from analysis.models.mva import mva_iops

REQUESTS = 30_000
#: A sampled grid over N = 1..16 and P = 2..64 (corners, middle, more guests than CPUs).
GRID = [(1, 2), (4, 64), (8, 4), (12, 16), (16, 2), (16, 64), (5, 24), (10, 24)]


def _seconds(params_us: dict) -> dict:
    return {name[:-3] + "_s": value * 1e-6 for name, value in params_us.items()}


@pytest.mark.parametrize("guests, cpus", GRID)
def test_mva_agrees_with_the_simulation_of_its_assumptions(guests, cpus):
    # FCFS lock (no handoff cost), exponential times, handler work preempting blkback
    params = {"think_us": 8.0, "cpu_us": 3.0, "hold_base_us": 0.8, "hold_per_cpu_us": 0.02, "handler_us": 0.3}
    model = mva_iops(np.array([[guests], [cpus]], dtype=float), **params)[0]
    sim = simulate(guests, dom0_cpus=cpus, requests=REQUESTS, seed=guests * 100 + cpus, **_seconds(params))
    assert sim.iops == pytest.approx(model, rel=0.05)


@pytest.mark.parametrize("guests, cpus", GRID)
def test_lock_collapse_chain_agrees_with_the_simulation_of_its_assumptions(guests, cpus):
    # exponential think and state-dependent exponential service, no CPU station
    params = {"think_us": 4.0, "hold_base_us": 0.5, "hold_per_cpu_us": 0.01, "handoff_us": 0.2}
    model = collapse_iops(np.array([[guests], [cpus]], dtype=float), **params)[0]
    sim = simulate(guests, dom0_cpus=cpus, requests=REQUESTS, seed=guests * 100 + cpus + 1, **_seconds(params))
    assert sim.iops == pytest.approx(model, rel=0.05)


def test_mm1_utilisation_and_mean_number():
    rate, hold_s = 500_000.0, 1.2e-6  # rho = 0.6
    rho = rate * hold_s
    sim = simulate(0, dom0_cpus=1, think_s=0.0, hold_base_s=hold_s, open_rate_per_s=rate,
                   requests=200_000, seed=7)
    assert sim.lock_utilisation == pytest.approx(rho, rel=0.02)
    assert sim.iops == pytest.approx(rate, rel=0.02)
    assert sim.mean_in_lock == pytest.approx(rho / (1 - rho), rel=0.05)
    assert sim.mean_lock_sojourn_s == pytest.approx(hold_s / (1 - rho), rel=0.05)


def test_littles_law_holds_at_the_lock_and_for_the_whole_loop():
    guests = 10
    sim = simulate(guests, dom0_cpus=24, think_s=4e-6, cpu_s=1e-6, hold_base_s=0.5e-6, handoff_s=0.2e-6,
                   handler_s=0.2e-6, requests=50_000, seed=3)
    assert sim.mean_in_lock == pytest.approx(sim.lock_throughput_per_s * sim.mean_lock_sojourn_s, rel=0.01)
    # closed loop: N = X (think + response), think exponential with mean 4 us
    assert guests == pytest.approx(sim.iops * (4e-6 + sim.mean_response_s), rel=0.03)


def test_persistent_mode_has_no_flush_and_adds_memcpy_and_lookup():
    sim = simulate(6, dom0_cpus=24, think_s=5e-6, cpu_s=1e-6, hold_base_s=5e-6, handler_s=1e-6,
                   persistent=True, memcpy_s=0.6e-6, lookup_s=0.1e-6, dist="det", requests=20_000)
    assert sim.lock_utilisation == 0 and sim.lock_throughput_per_s == 0
    assert sim.iops == pytest.approx(6 / (5e-6 + 0.6e-6 + 1e-6 + 0.1e-6), rel=1e-3)


def test_deterministic_lock_saturates_at_one_over_hold():
    hold = 1.5e-6
    sim = simulate(16, dom0_cpus=24, think_s=2e-6, hold_base_s=hold, dist="det", requests=20_000)
    assert sim.iops == pytest.approx(1 / hold, rel=1e-3)
    assert sim.lock_utilisation == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"dist": "gamma"}, "dist='gamma'"),
    ({"dom0_cpus": 0}, "dom0_cpus=0"),
    ({"think_s": -1.0}, "think_s=-1.0"),
    ({"think_s": math.nan}, "think_s=nan"),
    ({"requests": 0}, "requests=0"),
])
def test_bad_settings_are_refused_with_the_value(kwargs, match):
    settings = {"dom0_cpus": 4, "think_s": 1e-6, **kwargs}
    with pytest.raises(UsageError, match=match):
        simulate(2, **settings)
