"""analysis.xen.grants.blkfront: block requests split into ring requests, queued FIFO, through the
2012 pool and the Linux >= 3.8 frontend; the recorded trace of tests/trace_session.py replayed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.constants import PAGE_BYTES, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.xen.grants import pool
from analysis.xen.grants.blkfront import (
    blkif_from_requests,
    completion_order,
    in_flight,
    ring_requests,
    trace_from_requests,
)
from analysis.xen.grants.copy import GrantCopy
from analysis.xen.grants.frontend import pool_pages_311, simulate_blkif
from analysis.xen.grants.policies import NonPersistent, PersistentArray, PersistentTree
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture
from tests.trace_session import lat_table  # noqa: F401 - module fixture

pytestmark = pytest.mark.slow


def test_ring_requests_split_into_pages_and_at_most_max_segments():
    table = pd.DataFrame({"time_us": [0.0, 1.0, 2.0], "device": "d", "offset_bytes": [0, 0, 0],
                          "bytes": [512, 100 * 1024, 256 * 1024], "is_write": [False, True, False],
                          "completion_us": np.nan})
    ring = ring_requests(table, max_segments=SEGMENTS_PER_REQUEST)
    # 512 B -> 1 page; 100 KiB -> 25 pages -> 11, 11, 3; 256 KiB -> 64 pages -> 5 x 11 + 9.
    assert ring["segments"].tolist() == [1, 11, 11, 3, 11, 11, 11, 11, 11, 9]
    assert ring["request"].tolist() == [0, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert ring_requests(table, max_segments=32)["segments"].tolist() == [1, 25, 32, 32]
    with pytest.raises(UsageError, match=r"^max_segments: expected 1 to 4096 .* found 4097"):
        ring_requests(table, max_segments=4097)


def _queue_by_brute_force(time_us, completion_us, slots):
    """complete_before by walking time: who has completed when each request arrives, FIFO, <= slots in flight."""
    n = len(time_us)
    done = np.full(n, n)
    oldest = 0
    completions = np.maximum.accumulate(completion_us)  # FIFO: not before any earlier request
    for k in range(n):
        while oldest < k and (completions[oldest] <= time_us[k] or k - oldest >= slots):
            done[oldest] = k
            oldest += 1
    return done


def test_completion_order_matches_a_queue_walked_by_hand():
    rng = np.random.default_rng(5)
    time_us = np.cumsum(rng.exponential(10.0, 400))
    completion_us = time_us + rng.exponential(60.0, 400)
    for slots in (1, 4, 32):
        got = completion_order(time_us, completion_us, depth=1, slots=slots)
        assert (got == _queue_by_brute_force(time_us, completion_us, slots)).all()


def test_trace_from_requests_is_the_pool_generator_for_full_requests():
    # 300 requests of 11 pages each with 32 in flight and no completion times: blkfront's pool with a full ring.
    n = 300
    table = pd.DataFrame({"time_us": np.arange(n, dtype=float), "device": "d", "offset_bytes": 0,
                          "bytes": SEGMENTS_PER_REQUEST * PAGE_BYTES, "is_write": False, "completion_us": np.nan})
    trace = trace_from_requests(table, slots=32, depth=64)  # depth past the ring: capped at 32 slots
    reference = pool(n, slots=32)
    assert (trace.grefs == reference.grefs).all() and (trace.complete_before == reference.complete_before).all()
    assert in_flight(trace).max() == 32


def test_recorded_trace_through_blkfront_keeps_grants_bounded_by_what_is_in_flight(recorded_trace, lat_table):
    trace = trace_from_requests(lat_table, slots=32, max_segments=SEGMENTS_PER_REQUEST)
    pages = -(-lat_table["bytes"] // PAGE_BYTES)
    assert int(trace.segments.sum()) == int(pages.sum())
    assert trace.requests == int((-(-pages // SEGMENTS_PER_REQUEST)).sum())
    flight = in_flight(trace)
    assert 1 < flight.max() <= 32
    # The LIFO pool grants a new page only when its free list is empty: distinct grefs <= most pages in flight.
    starts = trace.offsets
    held = [int(starts[k + 1] - starts[max(0, k - f + 1)]) for k, f in enumerate(flight)]
    assert len(np.unique(trace.grefs)) <= max(held)


def _full_requests(n: int, pages: int) -> pd.DataFrame:
    return pd.DataFrame({"time_us": np.arange(n, dtype=float), "device": "d", "offset_bytes": 0,
                         "bytes": pages * PAGE_BYTES, "is_write": False, "completion_us": np.nan})


@pytest.mark.parametrize("policy", [PersistentTree(cap=300, fallback="gref"), PersistentArray(cap=2000),
                                    PersistentTree(cap=150, fallback="request"), NonPersistent(), GrantCopy()],
                         ids=lambda p: f"{p.name}-{getattr(p, 'cap', '')}-{getattr(p, 'fallback', '')}")
@pytest.mark.parametrize(("pages", "queues"), [(11, 1), (32, 2), (600, 1)])
def test_blkif_from_requests_is_the_311_generator_for_full_requests(policy, pages, queues):
    # Requests of one size, every ring full (depth past slots x queues): the 3.11 generator's stream.
    n, slots = 400, 8
    got = blkif_from_requests(_full_requests(n, pages), policy, max_segments=pages, slots=slots, queues=queues,
                              depth=10 * slots * queues)
    reference = simulate_blkif(n, policy, slots=slots, segments=pages, queues=queues, seed=1)
    assert (got.trace.grefs == reference.trace.grefs).all()
    assert (got.trace.complete_before == reference.trace.complete_before).all()
    for key in reference.per_request:
        assert (got.per_request[key] == reference.per_request[key]).all(), key


def test_recorded_trace_through_the_311_frontend_maps_each_pool_page_once(recorded_trace, lat_table):
    slots, queues, max_segments = 32, 2, 32
    pages = -(-lat_table["bytes"].to_numpy() // PAGE_BYTES)
    pool_pages = pool_pages_311(slots, max_segments)
    kept = blkif_from_requests(lat_table, PersistentTree(cap=pool_pages, fallback="gref"), max_segments=max_segments,
                               slots=slots, queues=queues)
    r = kept.per_request
    data = kept.trace.segments - r["indirect_pages"]
    assert int(data.sum()) == int(pages.sum()) and data.max() <= max_segments
    assert (r["indirect_pages"] == np.where(data > SEGMENTS_PER_REQUEST, 1, 0)).all()
    assert r["indirect_pages"].sum() > 0  # the 256 KiB requests (64 pages) go as 2 x 32-segment indirect requests
    # Every ring's pool fits under the cap: nothing is ever unmapped and each granted page is mapped once.
    totals = kept.totals()
    assert totals["unmaps"] == 0 and totals["fallback_requests"] == 0
    assert totals["maps"] == len(np.unique(kept.trace.grefs)) <= queues * pool_pages
    assert totals["max_ring_resident_pages"] <= pool_pages
    assert totals["hits"] + totals["maps"] == totals["segments"]
    # Non-persistent: every page is mapped and unmapped once per use, and each completed grant is
    # ended, so the trace claims fresh grefs.
    mapped = blkif_from_requests(lat_table, NonPersistent(), max_segments=max_segments, slots=slots,
                                 queues=queues).totals()
    assert mapped["maps"] == mapped["unmaps"] == mapped["segments"] == totals["segments"]
    assert mapped["hits"] == 0 and mapped["memcpy_bytes"] == 0 and totals["memcpy_bytes"] == int(pages.sum()) * PAGE_BYTES
