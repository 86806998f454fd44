"""analysis.xen.grants.policies: the grant-store simulator. Hand-traced totals for every policy,
invariants (hypothesis), and (issue 13, item 2) Xen flushing once per 32 unmaps."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.constants import GNTTAB_UNMAP_BATCH_SIZE, PAGE_BYTES
from analysis.xen.grants import (
    FailPastLimit,
    LinuxLru,
    Lru,
    NonPersistent,
    PersistentArray,
    PersistentTree,
    Trace,
    fresh,
    generate,
    phase,
    pool,
    simulate,
    working_set,
)
from analysis.xen.grants.policies import MAP_PERSISTENT, MAP_TRANSIENT, UNMAP_PERSISTENT, tlb_flushes


def _totals(requests, policy, **kwargs):
    return simulate(Trace.from_requests(requests, **kwargs), policy).totals()


def test_patch_array_counts_linear_search_comparisons():
    # cap 10, one request in flight. Array after each request: [10, 20], then unchanged, then [10, 20, 30].
    # r0: 10 misses an empty array (0 comparisons), 20 misses [10] (1)            -> 1 comparison, 2 maps
    # r1: 20 hits position 1 (2 comparisons), 10 hits position 0 (1)              -> 3 comparisons
    # r2: 30 misses [10, 20] (2)                                                  -> 2 comparisons, 1 map
    t = _totals([[10, 20], [20, 10], [30]], PersistentArray(cap=10))
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["lookup_comparisons"]) == (3, 0, 0, 6)
    assert (t["persistent_requests"], t["fallback_requests"], t["resident_pages_at_end"]) == (3, 0, 3)
    assert t["hits"] == 2


def test_patch_falls_back_for_every_later_request_once_full_and_double_maps():
    # cap 2: r0 maps 1 and 2 persistently; the array is then full (pers_gnt_c == cap), so r1 and r2
    # run non-persistent without a lookup: gref 1 is mapped a second time, transiently.
    # maps 2 + 1 + 1 = 4; unmaps 1 + 1 = 2 in 2 batches; comparisons only in r0: 0 + 1.
    result = simulate(Trace.from_requests([[1, 2], [1], [3]]), PersistentArray(cap=2), events=True)
    t = result.totals()
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["lookup_comparisons"]) == (4, 2, 2, 1)
    assert (t["persistent_requests"], t["fallback_requests"]) == (1, 2)
    assert (1, MAP_TRANSIENT, 1) in result.events


def test_per_gref_fallback_keeps_hits_past_the_cap():
    # Linux 3.8 rule, tree of n grants costs n.bit_length() comparisons per lookup.
    # r0: 1 looks up in 0 grants (0), 2 in 1 grant (1); r1: 1 hits in 2 grants (2);
    # r2: 3 misses in 2 grants (2), store full -> mapped transiently, unmapped in 1 batch.
    t = _totals([[1, 2], [1], [3]], PersistentTree(cap=2, fallback="gref"))
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["lookup_comparisons"]) == (3, 1, 1, 5)
    assert (t["persistent_requests"], t["fallback_requests"], t["hits"]) == (2, 1, 1)


def test_lru_discards_cap_over_m_least_recently_used_in_one_batch():
    # cap 4, M 2 -> batch of 2. After r0, r1 the LRU order is 1 2 3 4; r2 uses 1 -> 2 3 4 1.
    # r3: 5 is the 5th unique grant: discard 2 and 3 (both idle) in one batch, then map 5.
    # Comparisons (tree depth = size.bit_length()): r0 0 + 1, r1 2 + 2, r2 3, r3 3 = 11.
    result = simulate(Trace.from_requests([[1, 2], [3, 4], [1], [5]]), Lru(cap=4, m=2), events=True)
    t = result.totals()
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["lookup_comparisons"]) == (5, 2, 1, 11)
    assert (t["resident_pages_at_end"], t["max_resident_pages"], t["hits"]) == (3, 4, 1)
    assert [e for e in result.events if e[1] == UNMAP_PERSISTENT] == [(3, UNMAP_PERSISTENT, 2), (3, UNMAP_PERSISTENT, 3)]


def test_lru_never_discards_a_grant_in_flight():
    # cap 2, M 1. With 2 requests in flight, r0 has completed when r2 arrives but r1 has not:
    # only gref 1 can go (1 unmap, 1 batch) and 3 takes its place.
    t = _totals([[1], [2], [3]], Lru(cap=2, m=1), depth=2)
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["fallback_requests"]) == (3, 1, 1, 0)
    # With 3 in flight nothing is idle: 3 is mapped for its request only and unmapped at completion.
    t = _totals([[1], [2], [3]], Lru(cap=2, m=1), depth=3)
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["fallback_requests"]) == (3, 1, 1, 1)
    assert t["resident_pages_at_end"] == 2


def test_fail_past_limit_fails_whole_request_and_counts_guest_copies():
    # cap 3: r0 maps 1, 2; r1 would need 2 more (4 > 3): fails, nothing mapped; r2 maps 3 (3 <= 3);
    # r3 repeats 1: all hits. Comparisons: 0 x 2, 2 x 2, 2 x 1, 2 x 2 = 10.
    # memcpy: every request except the failed read r1 copies its pages: (2 + 1 + 2) x PAGE_BYTES.
    t = _totals([[1, 2], [3, 4], [3], [1, 1]], FailPastLimit(cap=3), writes=[True, False, False, False])
    assert (t["maps"], t["unmaps"], t["failed_requests"], t["lookup_comparisons"]) == (3, 0, 1, 10)
    assert t["memcpy_bytes"] == 5 * PAGE_BYTES
    # A failed write was already copied before it was queued: + 2 pages.
    t = _totals([[1, 2], [3, 4], [3], [1, 1]], FailPastLimit(cap=3), writes=[True, True, False, False])
    assert t["memcpy_bytes"] == 7 * PAGE_BYTES


def test_non_persistent_maps_and_unmaps_everything_and_holds_in_flight_pages():
    # 3 + 1 pages mapped and unmapped, one batch per request, no guest copy.
    # With 2 in flight both requests' pages are held at once (4); with 1 only the larger (3).
    t = _totals([[1, 2, 3], [4]], NonPersistent(), depth=2)
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["memcpy_bytes"], t["max_mapped_pages"]) == (4, 4, 2, 0, 4)
    assert _totals([[1, 2, 3], [4]], NonPersistent(), depth=1)["max_mapped_pages"] == 3


def test_memory_counts_persistent_plus_transient_pages_in_flight():
    # cap 2, 2 in flight: r0 fills the store (2); r1 falls back, its 2 pages held with r0's (2 + 2);
    # at r2, r0 has completed but r1 has not: 2 resident + 2 (r1) + 2 (r2) = 6 pages.
    t = _totals([[1, 2], [3, 4], [5, 6]], PersistentArray(cap=2), depth=2)
    assert t["max_mapped_pages"] == 6


def test_linux_lru_purges_5_percent_of_cap_after_an_overflow_in_one_interval():
    # cap 200: 200 one-page requests fill the store within the first 100 ms; gref 1000 overflows
    # (mapped transiently, overflow flag set). At t = 200 ms the purge runs: num_clean =
    # 200 // 100 x 5 + (200 - 200) = 10; every grant was used since the start, so the second pass
    # takes the first 10 in gref order (1..10), in ceil(10 / 11) = 1 batch. Then 2000 is mapped.
    grefs = [[g] for g in range(1, 201)] + [[1000], [2000]]
    times = list(range(200)) + [300, 200_000]
    result = simulate(Trace.from_requests(grefs, time_us=times), LinuxLru(cap=200), events=True)
    t = result.totals()
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["fallback_requests"]) == (202, 11, 2, 1)
    assert t["resident_pages_at_end"] == 191
    assert [e[2] for e in result.events if e[1] == UNMAP_PERSISTENT] == list(range(1, 11))


def test_linux_lru_with_expiry_unmaps_grants_idle_for_longer_than_the_timeout():
    # Expiry after 1 s. The first purge check is at the first request >= 100 ms: r2 at 1.5 s.
    # r0 and r1 have completed (1 in flight) and were last used at 0 s and 10 us, both >= 1 s ago:
    # 2 unmaps in ceil(2 / 11) = 1 batch, below the cap; then 3 is mapped. Maps 3, resident 1.
    trace = Trace.from_requests([[1], [2], [3]], time_us=[0, 10, 1_500_000])
    t = simulate(trace, LinuxLru(cap=200, unused_seconds=1)).totals()
    assert (t["maps"], t["unmaps"], t["unmap_batches"], t["resident_pages_at_end"]) == (3, 2, 1, 1)
    # With a 2 s expiry nothing is old enough, and the 3.11 purge never runs below the cap.
    for policy in (LinuxLru(cap=200, unused_seconds=2), LinuxLru(cap=200)):
        t = simulate(trace, policy).totals()
        assert (t["unmaps"], t["resident_pages_at_end"]) == (0, 3)


def test_linux_lru_never_purges_below_100_pages():
    # num_clean = cap // 100 x 5 is 0 for cap < 100: overflowing grefs stay transient forever.
    t = simulate(fresh(50, slots=1, segments=4), LinuxLru(cap=60)).totals()
    assert (t["resident_pages_at_end"], t["unmaps"], t["maps"]) == (60, 200 - 60, 200)


# ---------------------------------------------------------------- invariants (hypothesis)

# Every capped policy; the last one expires idle grants by design, so it may unmap within the cap.
CAPPED = ("persistent_array", "persistent_tree", "persistent_tree_gref", "fail_past_limit", "lru", "linux_lru",
          "linux_lru_expiry")
GREF_LEVEL = ("persistent_tree_gref", "fail_past_limit", "lru", "linux_lru", "linux_lru_expiry")


def _policy(name, cap, m):
    return {
        "persistent_array": PersistentArray(cap=cap),
        "persistent_tree": PersistentTree(cap=cap),
        "persistent_tree_gref": PersistentTree(cap=cap, fallback="gref"),
        "fail_past_limit": FailPastLimit(cap=cap),
        "lru": Lru(cap=cap, m=min(m, cap)),
        "linux_lru": LinuxLru(cap=cap, interval_ms=0.05),  # short interval: purges happen within the trace
        "linux_lru_expiry": LinuxLru(cap=cap, interval_ms=0.05, unused_seconds=1e-4),
    }[name]


@st.composite
def traces(draw):
    kind = draw(st.sampled_from(["pool", "working_set", "fresh", "phase"]))
    n = draw(st.integers(1, 150))
    common = dict(slots=draw(st.integers(1, 6)), segments=draw(st.integers(1, 11)), seed=draw(st.integers(0, 99)))
    if kind == "working_set":
        return working_set(n, working_set_pages=draw(st.integers(1, 120)), order=draw(st.sampled_from(["random", "cyclic"])), **common)
    if kind == "phase":
        return phase(n, burst_requests=draw(st.integers(1, 30)), idle_requests=draw(st.integers(1, 30)), **common)
    return generate(kind, n, **common)


@given(trace=traces(), name=st.sampled_from(CAPPED), cap=st.integers(1, 150), m=st.integers(1, 8))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_invariants_cap_conservation_and_no_double_persistent_map(trace, name, cap, m):
    result = simulate(trace, _policy(name, cap, m), events=True)
    r, t = result.per_request, result.totals()
    assert r["peak_resident_pages"].max() <= cap
    assert t["maps"] == t["unmaps"] + t["resident_pages_at_end"]
    resident: set[int] = set()
    for _, kind, gref in result.events:
        if kind == MAP_PERSISTENT:
            assert gref not in resident, f"{name} mapped gref {gref} persistently twice"
            resident.add(gref)
        elif kind == UNMAP_PERSISTENT:
            resident.remove(gref)
        elif name in GREF_LEVEL:
            assert gref not in resident, f"{name} mapped resident gref {gref} again"
    assert len(resident) == t["resident_pages_at_end"]


@given(slots=st.integers(1, 6), segments=st.integers(1, 11), spare=st.integers(0, 40),
       reuse=st.sampled_from(["lifo", "fifo"]), name=st.sampled_from(CAPPED[:-1]), seed=st.integers(0, 99))
@settings(max_examples=80, deadline=None)
def test_working_set_within_cap_means_no_unmaps(slots, segments, spare, reuse, name, seed):
    trace = pool(300, slots=slots, segments=segments, min_segments=1, reuse=reuse, seed=seed)
    working = len(np.unique(trace.grefs))
    # The 2012 patch checks "fewer than cap mapped" before a request, so it needs one spare page.
    cap = working + spare + (1 if name in ("persistent_array", "persistent_tree") else 0)
    t = simulate(trace, _policy(name, cap, 2)).totals()
    assert (t["unmaps"], t["maps"], t["fallback_requests"], t["failed_requests"]) == (0, working, 0, 0)


def test_patch_rule_falls_off_the_cliff_when_the_working_set_equals_the_cap():
    # 4 requests in flight x 11 pages = 44 pages = cap: once the 44th page is mapped, pers_gnt_c is
    # no longer < cap, so every later request runs non-persistent although all its grefs are mapped.
    t = simulate(pool(100, slots=4), PersistentArray(cap=44)).totals()
    assert (t["persistent_requests"], t["fallback_requests"], t["unmaps"]) == (4, 96, 96 * 11)


@given(trace_seed=st.integers(0, 1000), name=st.sampled_from(CAPPED + ("non_persistent",)))
@settings(max_examples=25, deadline=None)
def test_same_seed_gives_identical_results(trace_seed, name):
    def run():
        trace = working_set(120, working_set_pages=60, slots=3, seed=trace_seed)
        policy = NonPersistent() if name == "non_persistent" else _policy(name, 40, 2)
        return simulate(trace, policy).per_request

    first, second = run(), run()
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


# ---------------------------------------------------------------- TLB flushes (issue 13, item 2)

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
