"""analysis.models.lookup: the lookup models' intervals cover the truth, the crossover of the linear
and the log model, and (issue 13, item 1) the lookup CPU share from pages per second at array sizes
the frontend reaches."""

import math

import numpy as np
import pytest

from analysis.errors import UsageError
from analysis.models import (LookupModel, ShootdownModel, linear_lookup_ns, log_lookup_ns,
                             lookup_crossover)
from analysis.models.lookup import lookup_cpu_share, pages_per_s
from analysis.xen.grants.frontend import reachable_grants_2012
from tests.fit_coverage import COVER, coverage


@pytest.mark.parametrize("kind,function", [("linear", linear_lookup_ns), ("log", log_lookup_ns)])
def test_lookup_intervals_cover_the_truth(kind, function):
    grants = np.tile([1.0, 4, 16, 64, 128, 256, 352], 2)

    def truth(rng):
        return {"base_ns": rng.uniform(5, 50), "step_ns": rng.uniform(0.2, 5)}

    rates = coverage(lambda: LookupModel(kind=kind, n_boot=0), truth, lambda rng: grants, function)
    assert all(r >= COVER for r in rates.values()), rates


def test_bad_kind_raises_usage_error():
    with pytest.raises(UsageError, match=r"LookupModel kind='hash': expected one of \['linear', 'log'\]"):
        LookupModel(kind="hash").fit([1, 2, 3], [1.0, 2.0, 3.0])
    with pytest.raises(UsageError, match="ShootdownModel kind='quadratic'"):
        ShootdownModel(kind="quadratic").fit([1, 2, 3], [1.0, 2.0, 3.0])


def test_lookup_crossover_is_the_first_count_over_the_threshold():
    linear, tree = LookupModel(kind="linear"), LookupModel(kind="log")
    linear.params_, linear.fixed_ = {"base_ns": 10.0, "step_ns": 0.5}, {}
    tree.params_, tree.fixed_ = {"base_ns": 20.0, "step_ns": 3.0}, {}
    n = lookup_crossover(linear, tree, iops=130_000, cpu_share=0.01)

    def extra(k):
        return 130_000 * 11 * (linear_lookup_ns(k, base_ns=10, step_ns=0.5)
                               - log_lookup_ns(k, base_ns=20, step_ns=3)) / 1e9

    assert extra(n) >= 0.01 > extra(n - 1)
    assert lookup_crossover(linear, tree, iops=1, cpu_share=0.5, n_max=1000) == math.inf
    with pytest.raises(UsageError, match="expected a 'linear' and a 'log' LookupModel"):
        lookup_crossover(tree, linear, iops=1)


def test_lookups_per_second_are_pages_per_second_whatever_the_request_size():
    # 130k 4 KiB IOPS = 130k lookups/s; the same bytes as 11-segment requests are 130k/11 requests.
    assert pages_per_s(130_000) == 130_000
    assert pages_per_s(130_000 / 11, bytes_per_io=11 * 4096) == pytest.approx(130_000)
    assert lookup_cpu_share(130_000, 500.0) == pytest.approx(0.065)


def test_share_at_the_reachable_size_from_a_fitted_linear_model():
    rng = np.random.default_rng(4)
    n = np.array([1, 16, 64, 128, 256, 352, 512, 1024], dtype=float)
    model = LookupModel(kind="linear", n_boot=0).fit(n, 5 + 0.5 * n + rng.normal(0, 0.2, n.size))
    reachable = reachable_grants_2012()
    share = lookup_cpu_share(130_000, model.predict(reachable))
    assert share == pytest.approx(130_000 * (5 + 0.5 * 352) / 1e9, rel=0.02)
    # An array of 2816 grants is not reachable by a 2012 blkfront: the share there is not the claim's.
    assert reachable < 2816
