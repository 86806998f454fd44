"""blkfront as a model: turn a block trace (one device's requests) into the ring requests blkback sees.

Input: the trace table of :mod:`analysis.ingest.trace` (time_us, offset_bytes, bytes, is_write,
completion_us) for one device. Output: a :class:`~analysis.xen.grants.workloads.Trace` whose grant
references come from blkfront's free list of granted pages (the 2012 persistent-grants patch,
:func:`analysis.xen.grants.workloads._blkfront_pool`), never written by hand.

Model, step by step:

1. **Segments.** A request of B bytes needs ceil(B / PAGE_BYTES) segments (4 KiB pages; the
   guest's buffers are assumed page-aligned, as O_DIRECT buffers and the page cache are).
2. **Ring requests.** One ring request carries at most ``max_segments`` segments: 11 direct
   segments (BLKIF_MAX_SEGMENTS_PER_REQUEST), or, with indirect descriptors, the negotiated
   maximum (Linux blkfront asks for 32 by default, blkback offers 256; the protocol allows 4096).
   Larger requests are split into consecutive ring requests of at most ``max_segments``; every
   piece has the request's arrival and completion times. The pages of the indirect descriptors
   themselves (granted too, one per 512 segments) are not counted.
3. **In flight.** With completion times, ring request k completes before the first later ring
   request that arrives at or after k's completion. blkback completes out of order, but the
   simulator's traces complete first in, first out, so a request is held until every earlier one
   is done (the running maximum: it never frees pages early). Without completion times (fio's
   iolog) ``depth`` requests are in flight, as for a job with ``iodepth=depth``. Either way at
   most ``slots`` requests are in flight: a request waits for a free ring slot
   (:func:`analysis.xen.blkif.ring_slots`: 32 for a one-page ring).
4. **Grant references.** blkfront takes the grefs of each ring request from its free list, LIFO
   in the 2012 patch (completed grants go back at the head), granting a fresh page only when the
   list is empty (:func:`trace_from_requests`). Linux >= 3.8 (:func:`blkif_from_requests`) grants
   a fixed pool per ring up front and orders its list by what the backend did with each grant
   (head if still mapped, tail if not), so there the grefs depend on the backend's policy and the
   two are simulated together (:mod:`analysis.xen.grants.frontend`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.constants import MAX_INDIRECT_SEGMENTS_PROTOCOL, PAGE_BYTES, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.xen.grants.frontend import replay_blkif
from analysis.xen.grants.outcomes import BlkifResult
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS, REUSE_ORDERS, Trace, _blkfront_pool


def ring_requests(table: pd.DataFrame, *, max_segments: int = SEGMENTS_PER_REQUEST) -> pd.DataFrame:
    """Split each request into ring requests: one row per ring request with ``segments`` and ``request`` (its source row)."""
    if not 1 <= max_segments <= MAX_INDIRECT_SEGMENTS_PROTOCOL:
        raise UsageError(f"max_segments: expected 1 to {MAX_INDIRECT_SEGMENTS_PROTOCOL} segments per ring request "
                         f"({SEGMENTS_PER_REQUEST} direct, more with indirect descriptors), found {max_segments}")
    pages = -(-table["bytes"].to_numpy(dtype=np.int64) // PAGE_BYTES)
    pieces = -(-pages // max_segments)
    source = np.repeat(np.arange(len(table)), pieces)
    # Segments of each piece: max_segments except the last piece of a request, which carries the rest.
    first_piece = np.concatenate([[0], np.cumsum(pieces)[:-1]]) if len(pieces) else np.zeros(0, dtype=np.int64)
    index_in_request = np.arange(len(source)) - np.repeat(first_piece, pieces)
    segments = np.minimum(max_segments, pages[source] - index_in_request * max_segments)
    out = table.iloc[source][["time_us", "is_write", "completion_us"]].reset_index(drop=True)
    out["segments"] = segments.astype(np.int64)
    out["request"] = source
    return out


def completion_order(time_us: np.ndarray, completion_us: np.ndarray, *, depth: int, slots: int) -> np.ndarray:
    """``complete_before`` of each ring request (see the module docstring, step 3)."""
    n = len(time_us)
    k = np.arange(n, dtype=np.int64)
    by_time = np.searchsorted(time_us, completion_us, side="left").astype(np.int64)
    done = np.where(np.isnan(completion_us), k + depth, by_time)
    done = np.maximum.accumulate(np.maximum(done, k + 1)) if n else done
    return np.minimum(np.minimum(done, k + slots), n).astype(np.int64)


def _ring_stream(table: pd.DataFrame, *, max_segments: int, slots: int, depth: int, reuse: str = "lifo"):
    """Ring requests of one device's trace, their arrival times and ``complete_before`` (steps 1-3)."""
    for name, value in (("slots", slots), ("depth", depth)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")
    if reuse not in REUSE_ORDERS:
        raise UsageError(f"reuse: expected one of {', '.join(REUSE_ORDERS)}, found {reuse!r}")
    if len(table) and np.any(np.diff(table["time_us"].to_numpy()) < 0):
        raise UsageError("trace: expected requests sorted by arrival time (analysis.ingest.trace.device_table sorts them)")
    ring = ring_requests(table, max_segments=max_segments)
    time_us = ring["time_us"].to_numpy(dtype=float)
    done = completion_order(time_us, ring["completion_us"].to_numpy(dtype=float), depth=depth, slots=slots)
    return ring, time_us, done


def _trace_params(table: pd.DataFrame, **settings) -> dict:
    attrs = table.attrs
    return dict(source=str(attrs.get("path", "")), format=attrs.get("format", ""), device=attrs.get("device", ""),
                trace_requests=len(table), **settings,
                completion_times=bool(len(table)) and not table["completion_us"].isna().any())


def trace_from_requests(table: pd.DataFrame, *, max_segments: int = SEGMENTS_PER_REQUEST, slots: int = ONE_PAGE_SLOTS,
                        depth: int = 1, reuse: str = "lifo") -> Trace:
    """The :class:`Trace` blkback would see for one device's requests (sorted by ``time_us``), 2012 frontend."""
    ring, time_us, done = _ring_stream(table, max_segments=max_segments, slots=slots, depth=depth, reuse=reuse)
    segs = ring["segments"].to_numpy()
    return Trace(
        offsets=np.concatenate([[0], np.cumsum(segs)]).astype(np.int64),
        grefs=_blkfront_pool(segs, done, reuse),
        is_write=ring["is_write"].to_numpy(dtype=bool),
        time_us=time_us,
        complete_before=done,
        workload="trace",
        params=_trace_params(table, max_segments=max_segments, slots=slots, depth=depth, reuse=reuse),
    )


def blkif_from_requests(table: pd.DataFrame, policy, *, max_segments: int = SEGMENTS_PER_REQUEST,
                        slots: int = ONE_PAGE_SLOTS, queues: int = 1, depth: int = 1,
                        engine: str = "compiled") -> BlkifResult:
    """One device's requests through the 3.11+ frontend and ``policy`` (per ring), as blkback would serve them.

    Steps 1-3 as for the 2012 frontend, with ``max_segments`` the negotiated indirect maximum and
    at most ``slots`` x ``queues`` ring requests in flight; step 4 is Linux >= 3.8 blkfront's
    per-ring grant list (:func:`analysis.xen.grants.frontend.replay_blkif`): grants the backend
    still maps go back at the head, the others at the tail with their gref ended, and the grefs
    depend on the backend's rule, so the frontend and backend run together here. ``engine``:
    "compiled" (numba) or "python" (the reference), as for ``replay_blkif``.
    """
    for name, value in (("slots", slots), ("queues", queues)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")
    ring, time_us, done = _ring_stream(table, max_segments=max_segments, slots=slots * queues, depth=depth)
    return replay_blkif(ring["segments"].to_numpy(), done, policy, slots=slots, max_segments=max_segments,
                        queues=queues, is_write=ring["is_write"].to_numpy(dtype=bool), time_us=time_us,
                        workload="trace_3.11", engine=engine,
                        params=_trace_params(table, max_segments=max_segments, slots=slots, depth=depth,
                                             queues=queues, frontend="3.11"))


def in_flight(trace: Trace) -> np.ndarray:
    """Ring requests in flight when each request is issued (itself included): k - (requests completed) + 1."""
    n = trace.requests
    completed_by = np.searchsorted(trace.complete_before, np.arange(n), side="right")
    return np.arange(n) - completed_by + 1
