"""Issue 13: grant copy as a third mode, and the 2013 Xen summit result from stated costs."""

import math

import numpy as np
import pytest

from analysis.xen.grants import Costs, dom0_ns
from analysis.xen.grants.backends import run
from analysis.xen.grants.copy import GrantCopy, cheapest_mode, map_beats_persistent_below_vcpus, mode_cpu_ns
from analysis.xen.grants.workloads import pool

# Stated costs (assumptions, as the summit talk's setting): a batched map + unmap of 100 ns each per
# page, a cold 4 KiB copy of ~1 us (0.25 ns/byte), a flush of 1 us + 200 ns per receiver plus 500 ns
# of each receiver's handler.
SUMMIT = Costs(map_ns_per_page=100, unmap_ns_per_page=100, memcpy_ns_per_byte=0.25, shootdown_base_ns=1000,
               shootdown_ns_per_vcpu=200, shootdown_handler_ns=500, copy_hypercall_ns=1000, copy_op_ns=300,
               xen_copy_ns_per_byte=0.25)


def test_grant_copy_on_a_2012_trace_has_no_map_unmap_or_guest_copy():
    t = run(pool(1000, seed=1), GrantCopy()).totals()
    assert t["maps"] == t["unmaps"] == t["tlb_flushes"] == t["memcpy_bytes"] == t["lookup_comparisons"] == 0
    assert t["xen_copy_bytes"] == 1000 * 11 * 4096 and t["copy_hypercalls"] == 1000
    # Its dom0 (Xen) time is the hypercall, the ops and the copy.
    costs = Costs(backend_ns_per_request=0)
    assert dom0_ns(t, costs) == pytest.approx(1000 * costs.copy_hypercall_ns + 11000 * costs.copy_op_ns
                                              + 1000 * 11 * 4096 * costs.xen_copy_ns_per_byte)


def test_persistent_grants_lose_with_few_dom0_cpus_and_large_requests():
    # The summit result: mapping beats the persistent copy at few VCPUs and large requests...
    assert cheapest_mode(SUMMIT, pages=32, dom0_vcpus=2) != "persistent"
    # ... and persistent grants win with many VCPUs and small requests.
    assert cheapest_mode(SUMMIT, pages=1, dom0_vcpus=24) == "persistent"
    # The crossover in V grows with the request: large requests amortise one flush over 32 pages.
    v = [map_beats_persistent_below_vcpus(SUMMIT, p) for p in (1, 4, 11, 32)]
    assert v[0] == 1.0 and all(a < b for a, b in zip(v[1:], v[2:]))


@pytest.mark.parametrize("pages", [4, 11, 32, 64])
def test_crossover_is_where_the_two_costs_are_equal(pages):
    v_star = map_beats_persistent_below_vcpus(SUMMIT, pages)
    assert 1 < v_star < math.inf
    at = mode_cpu_ns(SUMMIT, pages, dom0_vcpus=v_star)
    assert float(at["map_unmap"]) == pytest.approx(float(at["persistent"]), rel=1e-9)
    below = mode_cpu_ns(SUMMIT, pages, dom0_vcpus=max(1.0, v_star - 1))
    above = mode_cpu_ns(SUMMIT, pages, dom0_vcpus=v_star + 1)
    assert below["map_unmap"] < below["persistent"] and above["map_unmap"] > above["persistent"]


def test_mode_costs_follow_the_stated_formulas():
    got = mode_cpu_ns(SUMMIT, np.array([11]), dom0_vcpus=4)
    assert got["persistent"][0] == pytest.approx(11 * 4096 * 0.25)
    assert got["map_unmap"][0] == pytest.approx(11 * 200 + 1 * (1000 + 200 * 3 + 500 * 3))
    assert got["grant_copy"][0] == pytest.approx(1000 + 11 * (300 + 4096 * 0.25))
