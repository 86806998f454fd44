"""blkfront's grant pools, 2012 and 3.11+, and a blkif simulation with indirect descriptors and queues.

**2012** (the patch in the seed thread, blkif_queue_request / blkif_completion): one list of granted
pages per device; a request takes grants from the head and grants a fresh page only when the list
is empty; completed grants go back at the head (LIFO). The pool therefore never exceeds what can be
in flight: ring slots x segments per request (32 x 11 = 352 for a one-page ring,
:func:`reachable_grants_2012`). ``workloads.pool`` generates its traces.

**3.8 / 3.11 and later** (Linux drivers/block/xen-blkfront.c): each ring grants its pages up front
(fill_grant_buffer: slots x (segments + indirect pages) entries, gref INVALID until first use);
``get_free_grant`` takes the head of ``rinfo->grants``; at completion (``blkif_completion``) a grant
the backend still maps (``gnttab_try_end_foreign_access`` fails: the backend kept it persistently;
``gnttab_query_foreign_access`` before Linux 5.17)
goes back at the **head** (``list_add``) and is reused first, while a grant the backend unmapped has
its access ended, its gref invalidated and goes to the **tail** (``list_add_tail``): the next use
of that page claims a fresh gref. Indirect pages (BLKIF_OP_INDIRECT, for requests of more than 11
segments, one per 512 segments) are grants too and follow the same rule.
:class:`FreeList311` is that list.

**Multi-queue** (blkfront max_queues, default 4): one ring per queue, each with its own grant list
and its own backend store and cap (blkback counts persistent grants per ring). Requests go to the
queues round-robin (blk-mq maps CPUs to queues; round-robin is this model's assumption).

:func:`simulate_blkif` couples the 3.11 frontend with a backend rule (per ring):

* ``non_persistent``: map every page for the request, unmap at completion;
* ``grant_copy``: no maps (Xen copies; :mod:`analysis.xen.grants.copy`);
* ``persistent_array`` / ``persistent_tree`` with fallback "request" (2012 rule) or "gref" (3.8
  rule: hits served, misses mapped transiently past the cap);
* ``linux_lru`` as the 3.8 per-gref rule with a tree. Its 100 ms purge only runs when the store
  overflowed; the model refuses it when a ring's pool can exceed the cap (the purge is not
  modelled here), which never happens with Linux's defaults: 32 slots x (32 + 1) = 1056 = the cap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from analysis.constants import (
    MAX_INDIRECT_SEGMENTS_PROTOCOL,
    PAGE_BYTES,
    SEGMENTS_PER_INDIRECT_PAGE,
    SEGMENTS_PER_REQUEST,
)
from analysis.errors import UsageError
from analysis.xen.blkif import indirect_pages
from analysis.xen.grants.copy import GrantCopy, copy_counts
from analysis.xen.grants.outcomes import BlkifResult
from analysis.xen.grants.policies import (
    ENGINES,
    FALLBACK,
    NON_PERSISTENT,
    PERSISTENT,
    LinuxLru,
    NonPersistent,
    PersistentArray,
    PersistentTree,
    _finish,
)
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS, Trace, _arrivals, _fifo_completion

FRONTENDS = ("2012", "3.11")
#: Backend policies the 3.11 frontend is coupled with (:func:`_rule`), by CLI name.
POLICIES_311 = ("non_persistent", "grant_copy", "persistent_array", "persistent_tree", "linux_lru")


def reachable_grants_2012(slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST) -> int:
    """Most grants a 2012 blkfront ever offers one device: slots x segments (352 for one page).

    Its pool grows only when the free list is empty at the moment a request needs a grant, and a
    request's grants return to the list at completion, so the pool is at most what the ring holds
    in flight. The patch's own cap (256 x 11 = 2816) is therefore never reached by this frontend,
    and a linear search runs over at most 352 grants.
    """
    return slots * segments


def pool_pages_311(slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST) -> int:
    """Grants one 3.11+ blkfront ring holds: slots x (segments + indirect pages per request)."""
    return slots * (segments + indirect_pages(segments))


class FreeList311:
    """One ring's list of granted pages in Linux >= 3.8 blkfront (``rinfo->grants``).

    Entries are [page, gref]; gref None means INVALID (access ended; a fresh gref is claimed on
    the next use). ``take`` pops from the head (get_free_grant); ``give_back`` returns a completed
    request's entries in order, each to the head if ``still_mapped(gref)`` (list_add) else, gref
    invalidated, to the tail (list_add_tail).
    """

    def __init__(self, pages: int, next_gref):
        self.entries: deque[list] = deque([page, None] for page in range(pages))
        self._next_gref = next_gref

    def take(self, n: int) -> list[list]:
        if n > len(self.entries):
            raise UsageError(f"blkfront ring: expected at most {len(self.entries)} free grants, asked for {n}")
        out = [self.entries.popleft() for _ in range(n)]
        for entry in out:
            if entry[1] is None:
                entry[1] = self._next_gref()
        return out

    def give_back(self, entries: list[list], still_mapped) -> None:
        for entry in entries:
            if still_mapped(entry[1]):
                self.entries.appendleft(entry)
            else:
                entry[1] = None
                self.entries.append(entry)

    def order(self) -> list[tuple[int, int | None]]:
        """(page, gref) from head to tail."""
        return [tuple(e) for e in self.entries]


@dataclass(frozen=True)
class _Rule:
    persistent: bool
    request_fallback: bool
    array: bool
    copy: bool


def _rule(policy) -> _Rule:
    if isinstance(policy, GrantCopy):
        return _Rule(False, False, False, True)
    if isinstance(policy, NonPersistent):
        return _Rule(False, False, False, False)
    if isinstance(policy, (PersistentArray, PersistentTree)):
        return _Rule(True, policy.fallback == "request", isinstance(policy, PersistentArray), False)
    if isinstance(policy, LinuxLru):
        return _Rule(True, False, False, False)
    raise UsageError(f"policy: expected one of {', '.join(POLICIES_311)} with the 3.11 frontend, "
                     f"found {getattr(policy, 'name', policy)!r}")


def simulate_blkif(requests: int, policy, *, slots: int = ONE_PAGE_SLOTS, segments: int = SEGMENTS_PER_REQUEST,
                   queues: int = 1, write_fraction: float = 0.5, gap_us: float = 10.0,
                   seed: int = 0, engine: str = "compiled") -> BlkifResult:
    """The 3.11+ frontend and one backend rule per ring (module docstring), every ring full.

    ``segments``: data pages per request (above 11 a request is BLKIF_OP_INDIRECT and also carries
    ceil(segments / 512) indirect pages, granted and mapped like data). ``queues``: rings per
    device, requests round-robin; each ring keeps ``slots`` requests in flight (FIFO completion).
    The returned trace's grefs include the indirect pages; ``per_request`` adds ``queue``,
    ``indirect_pages``, ``ring_resident_pages`` and, for grant copy, the copy counts. ``engine``
    as for :func:`replay_blkif`.
    """
    for name, value in (("requests", requests), ("slots", slots), ("segments", segments), ("queues", queues)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")
    if segments > MAX_INDIRECT_SEGMENTS_PROTOCOL:
        raise UsageError(f"segments: expected at most {MAX_INDIRECT_SEGMENTS_PROTOCOL} per request, found {segments}")
    rng = np.random.default_rng(seed)
    is_write = rng.random(requests) < write_fraction
    time_us = _arrivals(rng, np.full(requests, gap_us))
    return replay_blkif(np.full(requests, segments, dtype=np.int64),
                        _fifo_completion(np.full(requests, slots * queues, dtype=np.int64)), policy,
                        slots=slots, max_segments=segments, queues=queues, is_write=is_write, time_us=time_us,
                        workload="blkfront_3.11", engine=engine,
                        params=dict(requests=requests, slots=slots, segments=segments,
                                    indirect_pages=indirect_pages(segments), queues=queues,
                                    write_fraction=write_fraction, gap_us=gap_us, seed=seed))


def request_indirect_pages(data_segments: np.ndarray) -> np.ndarray:
    """Indirect pages of each request: 0 up to 11 segments, else ceil(segments / 512).

    Linux blkfront sends a request as BLKIF_OP_INDIRECT only when it has more grants than
    BLKIF_MAX_SEGMENTS_PER_REQUEST (drivers/block/xen-blkfront.c, blkif_queue_rw_req:
    ``num_grant > BLKIF_MAX_SEGMENTS_PER_REQUEST``), with INDIRECT_GREFS(num_grant) indirect pages;
    vectorised :func:`analysis.xen.blkif.indirect_pages`.
    """
    s = np.asarray(data_segments, dtype=np.int64)
    return np.where(s > SEGMENTS_PER_REQUEST, -(-s // SEGMENTS_PER_INDIRECT_PAGE), 0).astype(np.int64)


def _replay_python(pages: np.ndarray, done: np.ndarray, queue_of: np.ndarray, rule: _Rule, cap, pool: int,
                   queues: int) -> tuple[list[int], dict, np.ndarray]:
    """The reference loop of :func:`replay_blkif`: grefs taken, raw per-request lists, pages in each ring's store."""
    requests = len(pages)
    counter = iter(range(8, 1 << 62))  # grefs 0-7 are reserved (GNTTAB_NR_RESERVED_ENTRIES)
    next_gref = counter.__next__
    lists = [FreeList311(pool, next_gref) for _ in range(queues)]
    stores: list[dict[int, int]] = [{} for _ in range(queues)]
    in_flight: deque = deque()  # (request, ring, entries) in issue order = completion order (FIFO)
    raw = {k: [0] * requests for k in ("maps", "transient_maps", "purge_unmaps", "purge_batches",
                                       "lookup_comparisons", "resident_pages", "peak_resident_pages", "status")}
    ring_resident = np.zeros(requests, dtype=np.int64)
    all_grefs: list[int] = []
    total_resident = 0
    for k in range(requests):
        # Completions first: a grant the backend still maps persistently (in its store) cannot be
        # ended and goes back at the head; transient maps (fallback, past the cap, non-persistent)
        # were unmapped at completion, so their grants are ended and go to the tail.
        while in_flight and done[in_flight[0][0]] <= k:
            _, ring, entries = in_flight.popleft()
            lists[ring].give_back(entries, stores[ring].__contains__)
        q = int(queue_of[k])
        store = stores[q]
        entries = lists[q].take(int(pages[k]))
        grefs = [e[1] for e in entries]
        all_grefs.extend(grefs)
        m = t = c = 0
        if rule.copy:
            status = NON_PERSISTENT
        elif not rule.persistent:
            m = t = len(grefs)
            status = NON_PERSISTENT
        elif rule.request_fallback and len(store) >= cap:
            m = t = len(grefs)
            status = FALLBACK
        else:
            for g in grefs:
                size = len(store)
                p = store.get(g)
                if p is not None:
                    c += p + 1 if rule.array else size.bit_length()
                    continue
                c += size if rule.array else size.bit_length()
                if size < cap:
                    store[g] = size
                    total_resident += 1
                    m += 1
                else:
                    m += 1
                    t += 1
            status = FALLBACK if t else PERSISTENT
        in_flight.append((k, q, entries))
        raw["maps"][k], raw["transient_maps"][k], raw["lookup_comparisons"][k], raw["status"][k] = m, t, c, status
        raw["resident_pages"][k] = raw["peak_resident_pages"][k] = total_resident
        ring_resident[k] = len(store)
    return all_grefs, raw, ring_resident


def replay_blkif(data_segments: np.ndarray, complete_before: np.ndarray, policy, *, slots: int,
                 max_segments: int, queues: int = 1, is_write: np.ndarray, time_us: np.ndarray,
                 workload: str, params: dict, engine: str = "compiled") -> BlkifResult:
    """Run a stream of ring requests through the 3.11+ frontend and one backend rule per ring.

    ``data_segments[k]``: data pages of ring request k (at most ``max_segments``, the negotiated
    maximum); it also takes :func:`request_indirect_pages` indirect pages. ``complete_before``:
    FIFO completion (:class:`~analysis.xen.grants.workloads.Trace`); completed requests give their
    grants back (``FreeList311.give_back``) before request k takes its own. Requests go to the
    ``queues`` rings round-robin; each ring's list holds ``slots`` x (``max_segments`` + its
    indirect pages) grants, as fill_grant_buffer sizes it, so at most ``slots`` x ``queues``
    requests may be in flight at once (a contiguous window, hence at most ``slots`` per ring).
    ``engine``: "compiled" (:mod:`analysis.xen.grants.frontend_compiled`) or "python" (the
    reference loop, :func:`_replay_python`); tested equal counter by counter.
    """
    if engine not in ENGINES:
        raise UsageError(f"engine: expected one of {', '.join(ENGINES)}, found {engine!r}")
    segments = np.asarray(data_segments, dtype=np.int64)
    done = np.asarray(complete_before, dtype=np.int64)
    requests = len(segments)
    for name, value in (("slots", slots), ("max_segments", max_segments), ("queues", queues)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")
    if max_segments > MAX_INDIRECT_SEGMENTS_PROTOCOL:
        raise UsageError(f"segments: expected at most {MAX_INDIRECT_SEGMENTS_PROTOCOL} per request, found {max_segments}")
    if requests and (segments.min() < 1 or segments.max() > max_segments):
        raise UsageError(f"ring requests: expected 1 to {max_segments} data segments each, found "
                         f"{segments.min()} to {segments.max()}")
    if requests and np.any(done - np.arange(requests) > slots * queues):
        raise UsageError(f"ring requests: expected at most {slots} x {queues} in flight (slots x queues), found more")
    rule = _rule(policy)
    cap = getattr(policy, "cap", None)
    if rule.persistent and (not isinstance(cap, (int, np.integer)) or cap < 1):
        raise UsageError(f"cap: expected a positive number of pages, found {cap!r}")
    indirect_max = indirect_pages(max_segments)
    pool = pool_pages_311(slots, max_segments)
    if isinstance(policy, LinuxLru) and pool > cap:
        raise UsageError(f"cap: expected linux_lru with the 3.11 frontend to hold a ring pool of at most cap = "
                         f"{cap} pages (its purge is not modelled here), found {slots} slots x ({max_segments} + "
                         f"{indirect_max}) = {pool}; use persistent_tree or a larger cap")
    indirect = request_indirect_pages(segments)
    pages = segments + indirect
    queue_of = np.arange(requests, dtype=np.int64) % queues
    if engine == "compiled":
        from analysis.xen.grants import frontend_compiled

        out = frontend_compiled.replay(pages, done, queue_of, queues=queues, pool=pool, cap=cap,
                                       persistent=rule.persistent, request_fallback=rule.request_fallback,
                                       array=rule.array, copy=rule.copy)
        all_grefs, ring_resident = out.pop("grefs"), out.pop("ring_resident_pages")
        raw = {**out, "purge_unmaps": np.zeros(requests, dtype=np.int64),
               "purge_batches": np.zeros(requests, dtype=np.int64), "peak_resident_pages": out["resident_pages"]}
    else:
        all_grefs, raw, ring_resident = _replay_python(pages, done, queue_of, rule, cap, pool, queues)
    trace = Trace(
        offsets=np.concatenate([[0], np.cumsum(pages)]).astype(np.int64),
        grefs=np.asarray(all_grefs, dtype=np.int64),
        is_write=np.asarray(is_write, dtype=bool),
        time_us=np.asarray(time_us, dtype=float),
        complete_before=done,
        workload=workload,
        params=params,
    )
    per_request = _finish(trace, raw, persistent_frontend=rule.persistent)
    if rule.persistent:  # the guest copies data pages only, not the indirect descriptor pages
        copied = per_request["memcpy_bytes"] > 0
        per_request["memcpy_bytes"] = np.where(copied, segments * PAGE_BYTES, 0)
    if rule.copy:
        per_request["hits"] = np.zeros(requests, dtype=np.int64)
        per_request.update(copy_counts(pages))
    per_request["queue"] = queue_of
    per_request["indirect_pages"] = indirect
    per_request["ring_resident_pages"] = ring_resident
    return BlkifResult(policy=policy, trace=trace, per_request=per_request)
