"""analysis.xen.grants.workloads: the ring's grant pool (LIFO reuse), phases, settings named in errors,
and a trace's FIFO completion."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import UsageError
from analysis.xen.grants import Trace, generate, phase, pool, working_set


def test_pool_lifo_reuses_the_grants_just_completed_in_reverse():
    # One request in flight, 3 segments: r0 grants 8 9 10; completion pushes 8, 9, 10 at the head,
    # so r1 takes 10 9 8 (the patch's blkif_completion / blkif_queue_request).
    trace = pool(2, slots=1, segments=3)
    assert trace.request_grefs(0) == [8, 9, 10] and trace.request_grefs(1) == [10, 9, 8]
    assert pool(2, slots=1, segments=3, reuse="fifo").request_grefs(1) == [8, 9, 10]


@given(slots=st.integers(1, 8), segments=st.integers(1, 11), reuse=st.sampled_from(["lifo", "fifo"]),
       seed=st.integers(0, 10))
@settings(max_examples=30, deadline=None)
def test_pool_working_set_is_bounded_by_ring_slots_times_segments(slots, segments, reuse, seed):
    trace = pool(200, slots=slots, segments=segments, min_segments=1, reuse=reuse, seed=seed)
    assert len(np.unique(trace.grefs)) <= slots * segments


def test_phase_idles_with_a_small_working_set():
    trace = phase(400, slots=8, segments=2, burst_requests=100, idle_requests=100, idle_depth=1)
    idle = trace.grefs[trace.offsets[150]:trace.offsets[200]]
    assert len(np.unique(idle)) == 2  # one request in flight reuses the same 2 pages
    assert np.all(np.diff(trace.time_us) >= 0)


def test_bad_workload_settings_name_the_setting():
    with pytest.raises(UsageError, match=r"^slots: expected a positive integer, found 0$"):
        pool(10, slots=0)
    with pytest.raises(UsageError, match=r"^order: expected one of random, cyclic, found 'zigzag'$"):
        working_set(10, working_set_pages=5, order="zigzag")
    with pytest.raises(UsageError, match=r"^workload: expected one of pool, working_set, fresh, phase, found 'x'$"):
        generate("x", 10)


def test_trace_rejects_completion_that_is_not_fifo():
    with pytest.raises(UsageError, match=r"^trace complete_before: expected FIFO completion"):
        Trace(offsets=np.array([0, 1, 2]), grefs=np.array([1, 2]), is_write=np.zeros(2, bool),
              time_us=np.zeros(2), complete_before=np.array([2, 1]))
