"""Request traces as blkback sees them, and seeded generators for the workloads of issue 7.

A :class:`Trace` is the stream of ring requests one blkif device delivers to blkback, in arrival
order: for each request its grant references (one per segment), whether it is a write, when it
arrives (microseconds) and when it completes. Completion is first in, first out: request ``k``
completes just before request ``complete_before[k]`` is issued (``n`` means after the last one),
which is how the simulator knows which pages are in flight (in use, so not evictable) and how many
transient mappings are held at once.

Generators (every one seeded and reproducible; the parameters are stored on the trace):

- :func:`pool`: Linux blkfront with persistent grants (2012 patch, seed thread): a free list of
  granted pages, reused LIFO (the patch puts completed grants back at the head) or FIFO; a request
  takes its grefs from the list and grants a new page only when the list is empty, so the working
  set is bounded by ring slots x segments per request.
- :func:`working_set`: a frontend touching a fixed set of W pages in random or cyclic order (for
  example one that grants its own buffers, or a multi-page ring / indirect segments with a smaller
  backend cap): the knob for "working set larger than the limit".
- :func:`fresh`: a malicious frontend sending a gref it has never sent before for every segment.
- :func:`phase`: :func:`pool` alternating a burst (full ring, short gaps) with an idle phase (a few
  requests in flight, long gaps): Ian Campbell's question whether unused grants should expire.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from analysis.xen.blkif import ring_slots
from analysis.constants import SEGMENTS_PER_REQUEST
from analysis.errors import UsageError

WORKLOADS = ("pool", "working_set", "fresh", "phase")
REUSE_ORDERS = ("lifo", "fifo")
# Requests a one-page x86_64 ring holds (32): the default number in flight.
ONE_PAGE_SLOTS = ring_slots(0, "x86_64")
WORKING_SET_ORDERS = ("random", "cyclic")


@dataclass(frozen=True, eq=False)
class Trace:
    """A stream of blkif requests for one device, in the order blkback reads them off the ring.

    Arrays (one entry per request unless noted): ``offsets`` (n + 1 entries; request k's grefs are
    ``grefs[offsets[k]:offsets[k + 1]]``), ``grefs`` (grant references, one per segment),
    ``is_write``, ``time_us`` (arrival time in microseconds) and ``complete_before`` (index of the
    request before whose issue request k completes; nondecreasing; n = after the last request).
    ``workload`` and ``params`` name the generator and every parameter it was called with.
    """

    offsets: np.ndarray
    grefs: np.ndarray
    is_write: np.ndarray
    time_us: np.ndarray
    complete_before: np.ndarray
    workload: str = "custom"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.offsets) - 1
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.grefs) or np.any(np.diff(self.offsets) < 0):
            raise UsageError("trace offsets: expected n + 1 nondecreasing offsets from 0 to len(grefs), found otherwise")
        for name in ("is_write", "time_us", "complete_before"):
            if len(getattr(self, name)) != n:
                raise UsageError(f"trace {name}: expected {n} entries (one per request), found {len(getattr(self, name))}")
        done = self.complete_before
        if n and (np.any(done <= np.arange(n)) or np.any(done > n) or np.any(np.diff(done) < 0)):
            raise UsageError("trace complete_before: expected FIFO completion (k < complete_before[k] <= n, nondecreasing)")

    @property
    def requests(self) -> int:
        """Number of requests in the trace."""
        return len(self.offsets) - 1

    @property
    def segments(self) -> np.ndarray:
        """Segments (pages) per request."""
        return np.diff(self.offsets)

    def request_grefs(self, k: int) -> list[int]:
        """The grefs of request ``k`` as a list."""
        return self.grefs[self.offsets[k]:self.offsets[k + 1]].tolist()

    @classmethod
    def from_requests(cls, requests: list[list[int]], *, depth: int = 1, writes: list[bool] | None = None,
                      time_us: list[float] | None = None) -> "Trace":
        """A hand-written trace: ``requests`` lists each request's grefs; ``depth`` requests in flight (FIFO)."""
        n = len(requests)
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in requests])]).astype(np.int64)
        grefs = np.array([g for r in requests for g in r], dtype=np.int64)
        return cls(
            offsets=offsets,
            grefs=grefs,
            is_write=np.array(writes if writes is not None else [False] * n, dtype=bool),
            time_us=np.array(time_us if time_us is not None else np.arange(n, dtype=float), dtype=float),
            complete_before=_fifo_completion(np.full(n, depth, dtype=np.int64)),
            workload="custom",
            params={"depth": depth},
        )


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"{name}: expected one of {', '.join(allowed)}, found {value!r}")


def _fifo_completion(depth: np.ndarray) -> np.ndarray:
    """complete_before for FIFO completion with ``depth[k]`` requests allowed in flight when k is issued."""
    n = len(depth)
    done = np.full(n, n, dtype=np.int64)
    oldest = 0
    for k in range(n):
        # Before issuing k, complete the oldest until fewer than depth[k] are in flight.
        while k - oldest >= depth[k]:
            done[oldest] = k
            oldest += 1
    return done


def _segment_counts(rng: np.random.Generator, requests: int, segments: int, min_segments: int) -> np.ndarray:
    if min_segments == segments:
        return np.full(requests, segments, dtype=np.int64)
    return rng.integers(min_segments, segments + 1, size=requests, dtype=np.int64)


def _arrivals(rng: np.random.Generator, gaps_us: np.ndarray) -> np.ndarray:
    """Arrival times (us): exponential gaps with the given means, starting at 0."""
    gaps = rng.exponential(gaps_us)
    return np.concatenate([[0.0], np.cumsum(gaps[:-1])]) if len(gaps) else gaps


def _blkfront_pool(segs: np.ndarray, done: np.ndarray, reuse: str) -> np.ndarray:
    """Grefs of each request for blkfront's free list of persistently granted pages.

    Source: the 2012 patch's blkif_queue_request (take from persistent_grants_front, else grant a
    fresh page) and blkif_completion (push each used grant back at the head: LIFO). ``fifo``
    appends completed grants at the tail instead.
    """
    n = len(segs)
    free: deque[int] = deque()
    next_gref = 8  # grefs 0-7 are reserved in the grant table (GNTTAB_NR_RESERVED_ENTRIES)
    grefs = np.empty(int(segs.sum()), dtype=np.int64)
    pos = 0
    # completions[j] lists requests completing just before j is issued (FIFO, so a moving window).
    oldest = 0
    starts = np.concatenate([[0], np.cumsum(segs)])
    lifo = reuse == "lifo"
    for k in range(n):
        while oldest < k and done[oldest] <= k:
            used = grefs[starts[oldest]:starts[oldest + 1]].tolist()
            if lifo:
                free.extendleft(used)  # last segment's grant ends at the head, as in the patch
            else:
                free.extend(used)
            oldest += 1
        for _ in range(segs[k]):
            if free:
                grefs[pos] = free.popleft()
            else:
                grefs[pos] = next_gref
                next_gref += 1
            pos += 1
    return grefs


def _full_requests(rng: np.random.Generator, grefs: np.ndarray, workload: str, params: dict) -> Trace:
    """A trace of params["requests"] requests of params["segments"] grefs each, params["slots"] in flight."""
    requests, segments = params["requests"], params["segments"]
    return Trace(
        offsets=np.arange(0, requests * segments + 1, segments, dtype=np.int64),
        grefs=grefs,
        is_write=rng.random(requests) < params["write_fraction"],
        time_us=_arrivals(rng, np.full(requests, params["gap_us"])),
        complete_before=_fifo_completion(np.full(requests, params["slots"], dtype=np.int64)),
        workload=workload,
        params=params,
    )


def pool(requests: int, *, slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST,
         min_segments: int | None = None, reuse: str = "lifo", write_fraction: float = 0.5,
         gap_us: float = 10.0, seed: int = 0) -> Trace:
    """Linux blkfront's pool of granted pages with a full ring (``slots`` requests in flight).

    ``segments``: most segments per request (11 = BLKIF_MAX_SEGMENTS_PER_REQUEST); requests carry
    a uniform number in [min_segments, segments] (default: always ``segments``). ``gap_us``: mean
    gap between arrivals (exponential), microseconds. The working set is at most slots x segments.
    """
    min_segments = segments if min_segments is None else min_segments
    _check_positive(requests=requests, slots=slots, segments=segments, min_segments=min_segments)
    _check_choice("reuse", reuse, REUSE_ORDERS)
    if min_segments > segments:
        raise UsageError(f"min_segments: expected at most segments={segments}, found {min_segments}")
    rng = np.random.default_rng(seed)
    segs = _segment_counts(rng, requests, segments, min_segments)
    done = _fifo_completion(np.full(requests, slots, dtype=np.int64))
    params = dict(requests=requests, slots=slots, segments=segments, min_segments=min_segments, reuse=reuse,
                  write_fraction=write_fraction, gap_us=gap_us, seed=seed)
    return Trace(
        offsets=np.concatenate([[0], np.cumsum(segs)]).astype(np.int64),
        grefs=_blkfront_pool(segs, done, reuse),
        is_write=rng.random(requests) < write_fraction,
        time_us=_arrivals(rng, np.full(requests, gap_us)),
        complete_before=done,
        workload="pool",
        params=params,
    )


def working_set(requests: int, *, working_set_pages: int, slots: int = ONE_PAGE_SLOTS,
                segments: int = SEGMENTS_PER_REQUEST, order: str = "random", write_fraction: float = 0.5,
                gap_us: float = 10.0, seed: int = 0) -> Trace:
    """A frontend whose requests touch a fixed set of ``working_set_pages`` granted pages.

    ``order="random"``: each segment picks a page uniformly (a page may repeat within a request);
    ``"cyclic"``: pages are used in a fixed cycle (a sequential sweep, LRU's worst case).
    ``slots`` requests are in flight (FIFO completion).
    """
    _check_positive(requests=requests, working_set_pages=working_set_pages, slots=slots, segments=segments)
    _check_choice("order", order, WORKING_SET_ORDERS)
    rng = np.random.default_rng(seed)
    total = requests * segments
    if order == "random":
        pages = rng.integers(0, working_set_pages, size=total, dtype=np.int64)
    else:
        pages = np.arange(total, dtype=np.int64) % working_set_pages
    params = dict(requests=requests, working_set_pages=working_set_pages, slots=slots, segments=segments,
                  order=order, write_fraction=write_fraction, gap_us=gap_us, seed=seed)
    return _full_requests(rng, pages + 8, "working_set", params)


def fresh(requests: int, *, slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST,
          write_fraction: float = 0.5, gap_us: float = 10.0, seed: int = 0) -> Trace:
    """A malicious frontend: every segment of every request carries a gref never sent before."""
    _check_positive(requests=requests, slots=slots, segments=segments)
    rng = np.random.default_rng(seed)
    total = requests * segments
    base = int(rng.integers(8, 1 << 20))
    params = dict(requests=requests, slots=slots, segments=segments, write_fraction=write_fraction,
                  gap_us=gap_us, seed=seed)
    return _full_requests(rng, np.arange(base, base + total, dtype=np.int64), "fresh", params)


def phase(requests: int, *, slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST,
          burst_requests: int = 2000, idle_requests: int = 2000, idle_depth: int = 1,
          burst_gap_us: float = 10.0, idle_gap_us: float = 1000.0, reuse: str = "lifo",
          write_fraction: float = 0.5, seed: int = 0) -> Trace:
    """blkfront's pool alternating a burst (``slots`` in flight, gaps of ``burst_gap_us``) with an idle
    phase (``idle_depth`` in flight, gaps of ``idle_gap_us``), starting with a burst.

    During the idle phase blkfront reuses only the head of its free list, so the working set
    shrinks to idle_depth x segments pages while the backend may keep the burst's pages mapped.
    """
    _check_positive(requests=requests, slots=slots, segments=segments, burst_requests=burst_requests,
                    idle_requests=idle_requests, idle_depth=idle_depth)
    _check_choice("reuse", reuse, REUSE_ORDERS)
    rng = np.random.default_rng(seed)
    in_cycle = np.arange(requests) % (burst_requests + idle_requests)
    bursting = in_cycle < burst_requests
    depth = np.where(bursting, slots, min(idle_depth, slots)).astype(np.int64)
    segs = np.full(requests, segments, dtype=np.int64)
    done = _fifo_completion(depth)
    params = dict(requests=requests, slots=slots, segments=segments, burst_requests=burst_requests,
                  idle_requests=idle_requests, idle_depth=idle_depth, burst_gap_us=burst_gap_us,
                  idle_gap_us=idle_gap_us, reuse=reuse, write_fraction=write_fraction, seed=seed)
    return Trace(
        offsets=np.concatenate([[0], np.cumsum(segs)]).astype(np.int64),
        grefs=_blkfront_pool(segs, done, reuse),
        is_write=rng.random(requests) < write_fraction,
        time_us=_arrivals(rng, np.where(bursting, burst_gap_us, idle_gap_us)),
        complete_before=done,
        workload="phase",
        params=params,
    )


def generate(workload: str, requests: int, **params) -> Trace:
    """Build a trace by workload name (one of :data:`WORKLOADS`) with keyword parameters."""
    _check_choice("workload", workload, WORKLOADS)
    return {"pool": pool, "working_set": working_set, "fresh": fresh, "phase": phase}[workload](requests, **params)
