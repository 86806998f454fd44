"""Issue 13, item 2 and 7: Xen flushes once per 32 unmaps; the shootdown term uses V - 1 receivers
everywhere and the receivers' handler time is charged."""

import numpy as np
import pytest

from analysis.constants import GNTTAB_UNMAP_BATCH_SIZE
from analysis.models.shootdown import ShootdownModel, receiving_vcpus
from analysis.xen.grants import Costs, Lru, NonPersistent, dom0_ns, simulate
from analysis.xen.grants.policies import tlb_flushes
from analysis.xen.grants.workloads import fresh


def test_a_purge_of_176_pages_is_6_flushes_not_1():
    # Ian's LRU at cap 352, M = 2: one unmap hypercall of 176 pages; Xen flushes every 32 operations.
    assert GNTTAB_UNMAP_BATCH_SIZE == 32
    assert int(tlb_flushes([0], [176], [1])[0]) == 6
    # Linux's purge: 6 hypercalls of at most 11 pages each, one flush per hypercall.
    assert int(tlb_flushes([0], [60], [6])[0]) == 6
    # Non-persistent: a request's 11 pages in one hypercall, one flush; 33 pages (indirect), two.
    assert tlb_flushes([11, 33, 0], [0, 0, 0], [0, 0, 0]).tolist() == [1, 2, 0]


def test_the_simulator_counts_flushes_per_32_unmaps_of_a_purge():
    trace = fresh(2000, slots=4, segments=11, seed=1)
    lru = simulate(trace, Lru(cap=352, m=2)).totals()
    purges = lru["unmap_batches"]
    assert lru["unmaps"] == purges * 176  # every purge is one batch of cap // M pages
    assert lru["tlb_flushes"] == purges * 6
    # Pages per flush: 176 / 6 = 29.3, still more than twice a non-persistent request's 11.
    non = simulate(trace, NonPersistent()).totals()
    assert non["tlb_flushes"] == non["unmap_batches"] == trace.requests
    assert lru["unmaps"] / lru["tlb_flushes"] == pytest.approx(176 / 6)
    assert lru["unmaps"] / lru["tlb_flushes"] > 2 * non["unmaps"] / non["tlb_flushes"]


def test_costs_charge_each_flush_with_v_minus_1_receivers_and_their_handlers():
    costs = Costs(map_ns_per_page=0, unmap_ns_per_page=0, shootdown_base_ns=1000, shootdown_ns_per_vcpu=200,
                  shootdown_handler_ns=300, lookup_ns_per_comparison=0, backend_ns_per_request=0, dom0_vcpus=8)
    counts = {"requests": 1, "maps": 0, "unmaps": 176, "unmap_batches": 1, "tlb_flushes": 6, "lookup_comparisons": 0}
    # 6 flushes x (sender 1000 + 200 x 7 + receivers 300 x 7).
    assert dom0_ns(counts, costs) == 6 * (1000 + 200 * 7 + 300 * 7)
    # A table without tlb_flushes (written before the column existed) pays one flush per batch.
    old = {k: v for k, v in counts.items() if k != "tlb_flushes"}
    assert dom0_ns(old, costs) == 1000 + 200 * 7 + 300 * 7
    # One VCPU: nobody to interrupt.
    assert costs.flush_cpu_ns(1) == 1000


def test_shootdown_model_and_costs_agree_on_v_minus_1():
    model = ShootdownModel(kind="linear")
    model.params_, model.fixed_ = {"base_ns": 900.0, "per_vcpu_ns": 150.0, "contention": 0.0}, {}
    for v in (1, 2, 24):
        costs = Costs(dom0_vcpus=v).from_models("synthetic", shootdown=model)
        flush = model.scaling_params(dom0_vcpus=v, service_ns=0.0)["flush_ns"]
        assert costs.shootdown_ns() == pytest.approx(flush)
        assert flush == pytest.approx(900 + 150 * (v - 1))
    np.testing.assert_array_equal(receiving_vcpus([0, 1, 2, 24]), [0, 0, 1, 23])


def test_with_receivers_charged_throughput_falls_as_dom0_vcpus_grow():
    from analysis.xen.grants.costs import blkback_threads_iops

    costs = Costs(map_ns_per_page=100, unmap_ns_per_page=100, shootdown_base_ns=1000, shootdown_ns_per_vcpu=200,
                  shootdown_handler_ns=500, backend_ns_per_request=2000, guest_ns_per_request=0,
                  memcpy_ns_per_byte=0, lookup_ns_per_comparison=0)
    counts = {"requests": 1, "maps": 11, "unmaps": 11, "unmap_batches": 1, "tlb_flushes": 1,
              "lookup_comparisons": 0, "memcpy_bytes": 0}
    x = [float(blkback_threads_iops(counts, costs, 5, dom0_vcpus=v)) for v in (5, 8, 16, 24, 32)]
    assert all(a > b for a, b in zip(x, x[1:]))
    # Exactly: 5 threads, each 2000 + 2200 + (1000 + 200 (V - 1)) + 4 x 500 ns per request.
    assert x[3] == pytest.approx(5e9 / (2000 + 2200 + 1000 + 200 * 23 + 4 * 500))
    n = np.arange(1, 25)
    by_guests = blkback_threads_iops(counts, costs, n, dom0_vcpus=24)
    assert np.all(np.diff(by_guests) > 0) and np.all(np.diff(by_guests / n) < 0)
