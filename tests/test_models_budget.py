"""analysis.models.budget: CPU time budgets from the thread's reported points."""

import pandas as pd
import pytest

from analysis.models import budget


def test_seed_growth_brackets_follow_from_the_two_reported_points():
    # 1/400k - 1/650k seconds over 5 guests: (2.5 us - 1.538 us) / 5
    assert budget.seed_unmap_growth_per_cpu_ns() == pytest.approx((2500 - 1538.46) / 5, rel=1e-3)
    assert budget.seed_unmap_growth_per_cpu_ns(dom0_cpus_busy=24) == pytest.approx(24 * (2500 - 1538.46) / 5, rel=1e-3)
    assert budget.budget_ns_per_request(650_000, workers=5) == pytest.approx(7692.3, rel=1e-4)


def test_cpu_seconds_per_second_is_cost_times_rate():
    # 100 ns per operation, 650,000 operations a second: 65 ms of CPU time per second
    assert budget.cpu_seconds_per_second(100.0, 650_000) == pytest.approx(0.065)
    costs = pd.Series([54.0, 781.0], index=["warm", "cold"])
    shares = budget.cpu_seconds_per_second(costs, 1_000_000)
    assert list(shares.index) == ["warm", "cold"] and shares["cold"] == pytest.approx(0.781)
