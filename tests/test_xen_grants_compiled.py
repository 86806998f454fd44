"""The numba kernels (analysis.xen.grants.compiled) count exactly what the pure-Python reference counts.

Every per-request counter of every policy (and its variants: fallback rule, LRU purge size, the
Linux purge with and without persistent_grant_unused_seconds) is compared element by element on
seeded workloads chosen to exercise each branch (hits, misses past the cap, purges blocked by
requests in flight, failed requests, repeated grefs within a request), and on a trace fio
recorded in this session, replayed through the blkfront model.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import UsageError
from analysis.ingest.fiolog import read_log
from analysis.xen.grants import (FailPastLimit, LinuxLru, Lru, NonPersistent, PersistentArray, PersistentTree, fresh,
                             phase, pool, simulate, working_set)
from analysis.xen.grants.blkfront import trace_from_requests
from analysis.xen.grants.compiled import _dense_ids
from analysis.ingest.trace import fio_lat_log_table
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture

POLICIES = [
    NonPersistent(),
    PersistentArray(cap=300), PersistentArray(cap=120, fallback="gref"),
    PersistentTree(cap=200), PersistentTree(cap=150, fallback="gref"),
    FailPastLimit(cap=300),
    Lru(cap=300, m=2), Lru(cap=100, m=3), Lru(cap=40, m=40),
    LinuxLru(cap=300), LinuxLru(cap=200, interval_ms=1.0, percent_clean=20),
    LinuxLru(cap=300, interval_ms=0.5, unused_seconds=0.001),
]

WORKLOADS = {
    "pool": lambda: pool(2500, min_segments=1, seed=2),
    "working_set_random": lambda: working_set(2000, working_set_pages=500, seed=3),  # grefs repeat in a request
    "working_set_cyclic": lambda: working_set(2000, working_set_pages=400, order="cyclic", seed=4),
    "fresh": lambda: fresh(800, seed=5),
    "phase": lambda: phase(5000, burst_requests=1000, idle_requests=1000, idle_gap_us=200.0, seed=6),
}


def _assert_same_counts(trace, policy):
    reference = simulate(trace, policy).per_request
    compiled = simulate(trace, policy, engine="compiled").per_request
    assert reference.keys() == compiled.keys()
    for key in reference:
        np.testing.assert_array_equal(compiled[key], reference[key], err_msg=f"{policy} {key}")


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_compiled_counts_equal_python_on_seeded_workloads(workload):
    trace = WORKLOADS[workload]()
    for policy in POLICIES:
        _assert_same_counts(trace, policy)


@pytest.mark.slow
def test_compiled_counts_equal_python_on_a_recorded_trace(recorded_trace):
    table = fio_lat_log_table(read_log(recorded_trace.lat_log), "7,0")
    for max_segments in (11, 32):
        trace = trace_from_requests(table, slots=32, max_segments=max_segments)
        # Caps below the trace's working set, so that every policy takes its fallback / purge branches.
        working = len(np.unique(trace.grefs))
        assert working > 64
        for policy in POLICIES:
            if hasattr(policy, "cap"):
                policy = type(policy)(**{**policy.__dict__, "cap": max(2, working // 2)})
            _assert_same_counts(trace, policy)


def test_totals_differ_between_policies_so_equality_is_not_vacuous():
    trace = WORKLOADS["working_set_random"]()
    totals = {p: simulate(trace, p, engine="compiled").totals() for p in POLICIES}
    assert len({(t["maps"], t["unmaps"], t["lookup_comparisons"]) for t in totals.values()}) >= 8
    assert totals[POLICIES[5]]["failed_requests"] > 0 and totals[POLICIES[7]]["unmap_batches"] > 0


def test_dense_ids_keep_gref_order_for_large_grefs():
    grefs = np.array([2**40, 7, 2**40, 2**33, 7])
    ids, nid = _dense_ids(grefs)
    assert ids.tolist() == [2, 0, 2, 1, 0] and nid == 3
    small = np.array([9, 8, 9])
    assert _dense_ids(small)[0].tolist() == [9, 8, 9]


def test_compiled_engine_refuses_an_event_log_and_unknown_engines():
    trace = pool(10)
    with pytest.raises(UsageError, match="events: expected engine='python' for an event log"):
        simulate(trace, Lru(cap=10), events=True, engine="compiled")
    with pytest.raises(UsageError, match=r"^engine: expected one of python, compiled, found 'c'"):
        simulate(trace, Lru(cap=10), engine="c")
