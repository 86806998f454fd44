"""Issue 13: the 3.11 blkfront pool (head/tail order), indirect descriptors and queues
(analysis.xen.grants.frontend; its CLI options are tested in tests/test_cli_simulate.py)."""

import numpy as np
import pytest

from analysis.constants import LINUX_MAX_PERSISTENT_GRANTS
from analysis.xen.grants import LinuxLru, NonPersistent, PersistentArray, PersistentTree
from analysis.xen.grants.copy import GrantCopy
from analysis.xen.grants.frontend import FreeList311, pool_pages_311, reachable_grants_2012, simulate_blkif
from analysis.xen.grants.workloads import pool


def test_311_list_reuses_grants_the_backend_still_maps_first_and_refreshes_the_rest():
    grefs = iter(range(100, 200))
    free = FreeList311(6, grefs.__next__)
    first = free.take(4)
    assert [g for _, g in first] == [100, 101, 102, 103]  # granted on first use
    kept = {101, 103}
    free.give_back(first, kept.__contains__)
    # Still mapped: at the head, the last returned first (list_add); unmapped: at the tail, gref ended.
    assert free.order() == [(3, 103), (1, 101), (4, None), (5, None), (0, None), (2, None)]
    again = free.take(6)
    assert [g for _, g in again] == [103, 101, 104, 105, 106, 107]  # pages 0 and 2 get fresh grefs


def test_2012_pool_never_exceeds_slots_times_segments():
    assert reachable_grants_2012() == 352
    trace = pool(5000, min_segments=1, seed=3)
    assert len(np.unique(trace.grefs)) <= reachable_grants_2012()


@pytest.mark.parametrize("queues, segments, cap", [(1, 11, 200), (4, 32, 500), (2, 64, 1056)])
def test_resident_pages_per_ring_stay_within_the_cap(queues, segments, cap):
    result = simulate_blkif(3000, PersistentTree(cap=cap, fallback="gref"), segments=segments, queues=queues, seed=1)
    per = result.per_request
    assert per["ring_resident_pages"].max() <= cap
    assert per["resident_pages"].max() <= queues * cap
    totals = result.totals()
    assert totals["queues"] == queues
    # Past the cap the frontend's tail pages come back with fresh grefs, so misses keep coming.
    if pool_pages_311(32, segments) > cap:
        assert totals["unmaps"] > 0


def test_linux_defaults_fit_the_cap_exactly_so_nothing_is_ever_unmapped():
    # 32 slots x (32 indirect segments + 1 indirect page) = 1056 = max_persistent_grants per ring.
    assert pool_pages_311(32, 32) == LINUX_MAX_PERSISTENT_GRANTS
    totals = simulate_blkif(5000, LinuxLru(), segments=32, queues=4, seed=2).totals()
    assert totals["unmaps"] == 0 and totals["max_ring_resident_pages"] == LINUX_MAX_PERSISTENT_GRANTS
    assert totals["maps"] == 4 * LINUX_MAX_PERSISTENT_GRANTS  # each page mapped once, then always hit
    assert totals["indirect_pages"] == 5000  # one indirect page per 32-segment request
    assert totals["memcpy_bytes"] == 5000 * 32 * 4096  # the guest copies data pages, not descriptors
    with pytest.raises(Exception, match="^cap: expected linux_lru with the 3.11 frontend to hold a ring pool of at most cap"):
        simulate_blkif(10, LinuxLru(cap=100), segments=32)


def test_grant_copy_never_maps_unmaps_or_flushes():
    for result in (simulate_blkif(2000, GrantCopy(), segments=32, queues=2, seed=1),):
        t = result.totals()
        assert t["maps"] == t["unmaps"] == t["tlb_flushes"] == t["memcpy_bytes"] == 0
        assert t["copy_hypercalls"] == 2000 and t["copy_ops"] == 2000 * 33
        assert t["max_resident_pages"] == 0
    non = simulate_blkif(2000, NonPersistent(), segments=32, seed=1).totals()
    assert non["unmaps"] == non["maps"] == 2000 * 33 and non["tlb_flushes"] == 2000 * 2


def test_2012_rule_with_the_311_frontend_keeps_reusing_the_full_array_and_maps_it_again():
    # Pool 352 > cap 200: the array fills, then every request falls back, yet the grants in the array
    # stay mapped persistently, so blkfront keeps them at the head and offers them again.
    result = simulate_blkif(2000, PersistentArray(cap=200), seed=1)
    frame = result.frame()
    assert frame["ring_resident_pages"].max() == 200
    late = frame.iloc[1000:]
    assert (late["status"] == "fallback").all() and (late["maps"] == 11).all()
    assert (late["lookup_comparisons"] == 0).all()  # the check runs before any lookup
    trace = result.trace
    early = set(trace.grefs[:trace.offsets[1000]].tolist())
    reused = set(trace.grefs[trace.offsets[1000]:].tolist()) & early
    assert len(reused) == 200  # exactly the array's grants come back: still mapped, never ended
