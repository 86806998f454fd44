"""blkback's grant handling as trace-driven policies: what is mapped, unmapped, looked up and copied.

State is the set of persistently mapped grants of one device (capped at ``cap`` pages). For each
request of a :class:`~analysis.xen.grants.workloads.Trace` a policy decides per segment whether the
gref is served from the persistent store (a hit), mapped persistently, or mapped for this request
only (transient: unmapped in one batch when the request completes). Policies (names as in the CLI):

``non_persistent``
    blkback before 2012: map every segment, unmap them all in one batch per request.
``persistent_array``
    the 2012 patch (seed thread, xen_blkbk_map/add_pers_gnt/get_pers_gnt): an array searched
    linearly; a request is persistent while fewer than ``cap`` pages are mapped when it starts,
    otherwise it and every later request fall back to non-persistent, without a lookup.
``persistent_tree``
    the same rule with a balanced search tree (Linux 3.8 merged an rb-tree). ``fallback="gref"``
    gives the 3.8 rule instead: always look up, serve hits, map misses transiently past the cap.
``fail_past_limit``
    David Vrabel's question "why fallback instead of immediately failing the request?": a request
    whose new grefs would take the store past ``cap`` fails (BLKIF_RSP_ERROR), nothing is mapped.
``lru``
    Ian Campbell (2012-09-21 08:10): "if there are N slots then when the N+1th unique grant comes in
    we discard the least recently used N/M" pages, in one unmap batch. Grants in flight are never
    discarded; if none can be discarded the new gref is mapped transiently.
``linux_lru``
    Linux 3.11+ (commit 3f3aad5e, blkback.c purge_persistent_gnt): map misses transiently past
    ``cap``; every LRU_INTERVAL ms, if the cap overflowed, unmap cap/100 x LRU_PERCENT_CLEAN grants
    (unused since the last purge first, in rb-tree order), in batches of 11 pages. With
    ``unused_seconds`` set, the purge since 2018 (persistent_grant_unused_seconds, Juergen Gross,
    LINUX_PERSISTENT_GRANT_UNUSED_SECONDS = 60 s by default): every interval, also below the cap,
    unmap every idle grant unused for that long.

Counting rules (the modelled structures, not Python's): an array lookup hit at 0-based position p
costs p + 1 comparisons and a miss costs one per stored grant; a balanced tree of n grants costs
floor(log2 n) + 1 = n.bit_length() comparisons per lookup (the height of a complete binary search
tree; an rb-tree's height is at most twice that). The guest's memcpy: with persistent grants
blkfront copies every write into the granted page before queueing it and every read out after
completion (2012 patch, blkif_queue_request and blkif_completion), whether or not blkback fell
back; failed reads are not copied. Segments are whole pages (PAGE_BYTES).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.constants import (
    GNTTAB_UNMAP_BATCH_SIZE,
    LINUX_LRU_INTERVAL_MS,
    LINUX_LRU_PERCENT_CLEAN,
    LINUX_MAX_PERSISTENT_GRANTS,
    PAGE_BYTES,
    SEGMENTS_PER_REQUEST,
)
from analysis.errors import UsageError
from analysis.xen.grants.workloads import Trace

PERSISTENT, FALLBACK, FAILED, NON_PERSISTENT = 0, 1, 2, 3
STATUS_NAMES = ("persistent", "fallback", "failed", "non_persistent")

# Event kinds recorded with simulate(..., events=True): (request, kind, gref).
MAP_PERSISTENT, MAP_TRANSIENT, UNMAP_PERSISTENT = "map_persistent", "map_transient", "unmap_persistent"


@dataclass(frozen=True, kw_only=True)
class NonPersistent:
    """Map and unmap every segment; one unmap batch per request."""

    name = "non_persistent"


@dataclass(frozen=True, kw_only=True)
class PersistentArray:
    """The 2012 patch: linear search, ``cap`` pages, fall back past it (per ``request`` or per ``gref``)."""

    cap: int
    fallback: str = "request"
    name = "persistent_array"


@dataclass(frozen=True, kw_only=True)
class PersistentTree:
    """As :class:`PersistentArray` with a balanced-tree lookup (O(log n) comparisons)."""

    cap: int
    fallback: str = "request"
    name = "persistent_tree"


@dataclass(frozen=True, kw_only=True)
class FailPastLimit:
    """Fail a request whose new grefs would take the store past ``cap`` pages (tree lookup)."""

    cap: int
    name = "fail_past_limit"


@dataclass(frozen=True, kw_only=True)
class Lru:
    """Ian Campbell's LRU: at the (cap + 1)th unique grant, unmap the cap // m least recently used."""

    cap: int
    m: int = 2
    name = "lru"


@dataclass(frozen=True, kw_only=True)
class LinuxLru:
    """Linux 3.11+ blkback: cap, time-driven purge of percent_clean % every interval_ms (ms)."""

    cap: int = LINUX_MAX_PERSISTENT_GRANTS
    interval_ms: float = LINUX_LRU_INTERVAL_MS
    percent_clean: int = LINUX_LRU_PERCENT_CLEAN
    # blkback.c unmap_purged_grants calls gnttab_unmap_refs every BLKIF_MAX_SEGMENTS_PER_REQUEST pages.
    unmap_batch_pages: int = SEGMENTS_PER_REQUEST
    # None: the 3.11 purge; seconds: the 2018+ purge with persistent_grant_unused_seconds (Linux: 60).
    unused_seconds: float | None = None
    name = "linux_lru"


POLICIES = {p.name: p for p in (NonPersistent, PersistentArray, PersistentTree, FailPastLimit, Lru, LinuxLru)}
FALLBACK_RULES = ("request", "gref")


def make_policy(name: str, **settings):
    """A policy by its CLI name with keyword settings (cap, m, fallback, ...); unknown names raise UsageError."""
    if name not in POLICIES:
        raise UsageError(f"name: expected a policy, one of {', '.join(POLICIES)}, found {name!r}")
    cls = POLICIES[name]
    allowed = {f for f in cls.__dataclass_fields__}
    return cls(**{k: v for k, v in settings.items() if k in allowed and v is not None})


def describe(policy) -> dict:
    """The policy's name and every setting, for sidecars and tables."""
    return {"policy": policy.name, **asdict(policy)}


def _validate(policy) -> None:
    if not hasattr(policy, "name") or policy.name not in POLICIES:
        raise UsageError(f"policy: expected one of {', '.join(POLICIES)}, found {policy!r}")
    cap = getattr(policy, "cap", 1)
    if not isinstance(cap, (int, np.integer)) or cap < 1:
        raise UsageError(f"cap: expected a positive number of pages, found {cap!r}")
    if getattr(policy, "fallback", "request") not in FALLBACK_RULES:
        raise UsageError(f"fallback: expected one of {', '.join(FALLBACK_RULES)}, found {policy.fallback!r}")
    m = getattr(policy, "m", 1)
    if not isinstance(m, (int, np.integer)) or m < 1 or m > cap:
        raise UsageError(f"m: expected an integer from 1 to cap={cap} (LRU discards cap // m), found {m!r}")
    if isinstance(policy, LinuxLru):
        if (policy.interval_ms <= 0 or not 0 < policy.percent_clean <= 100 or policy.unmap_batch_pages < 1
                or (policy.unused_seconds is not None and policy.unused_seconds <= 0)):
            raise UsageError("linux_lru: expected interval_ms > 0, 0 < percent_clean <= 100, unmap_batch_pages >= 1 "
                             f"and unused_seconds > 0 or None, found {policy}")


@dataclass(frozen=True, eq=False)
class Result:
    """Counts per request (arrays of length ``trace.requests``) for one policy on one trace.

    ``per_request`` keys: maps, transient_maps, unmaps, unmap_batches, tlb_flushes, lookup_comparisons,
    resident_pages (persistently mapped after the request), peak_resident_pages (highest during it),
    mapped_pages (resident + transient pages in flight, the memory held; pages), hits (segments
    served from the store), memcpy_bytes (guest copies, bytes) and status (codes into
    :data:`STATUS_NAMES`). ``events`` is the list of (request, kind, gref) when asked for.
    """

    policy: object
    trace: Trace
    per_request: dict = field(repr=False)
    events: list | None = field(default=None, repr=False)

    def totals(self) -> dict:
        """Totals over the trace; the keys the CLI prints (counts; pages; bytes)."""
        r = self.per_request
        status = r["status"]
        served = int(self.trace.segments[status != FAILED].sum())
        hits = int(r["hits"].sum())
        return {
            "policy": self.policy.name,
            "workload": self.trace.workload,
            "requests": self.trace.requests,
            "segments": int(self.trace.segments.sum()),
            "maps": int(r["maps"].sum()),
            "unmaps": int(r["unmaps"].sum()),
            "unmap_batches": int(r["unmap_batches"].sum()),
            "tlb_flushes": int(r["tlb_flushes"].sum()) if "tlb_flushes" in r else int(r["unmap_batches"].sum()),
            "lookup_comparisons": int(r["lookup_comparisons"].sum()),
            "max_mapped_pages": int(r["mapped_pages"].max(initial=0)),
            "max_resident_pages": int(r["peak_resident_pages"].max(initial=0)),
            "resident_pages_at_end": int(r["resident_pages"][-1]) if len(status) else 0,
            "memcpy_bytes": int(r["memcpy_bytes"].sum()),
            "hits": hits,
            "hit_rate": hits / served if served else float("nan"),
            "persistent_requests": int(np.count_nonzero(status == PERSISTENT)),
            "fallback_requests": int(np.count_nonzero(status == FALLBACK)),
            "failed_requests": int(np.count_nonzero(status == FAILED)),
            "non_persistent_requests": int(np.count_nonzero(status == NON_PERSISTENT)),
        }

    def frame(self) -> pd.DataFrame:
        """Per-request table: one row per request with time_us, segments and every count."""
        table = pd.DataFrame({"time_us": self.trace.time_us, "segments": self.trace.segments, **self.per_request})
        table["status"] = pd.Categorical.from_codes(table["status"], STATUS_NAMES)
        return table


ENGINES = ("python", "compiled")


def simulate(trace: Trace, policy, *, events: bool = False, engine: str = "python") -> Result:
    """Run ``policy`` over ``trace`` and count what blkback and blkfront do (see the module docstring).

    ``engine="python"`` runs the reference kernels below; ``"compiled"`` the numba translations in
    :mod:`analysis.xen.grants.compiled` (same counts, tested equal; no event log).
    """
    _validate(policy)
    if engine not in ENGINES:
        raise UsageError(f"engine: expected one of {', '.join(ENGINES)}, found {engine!r}")
    if engine == "compiled":
        if events:
            raise UsageError("events: expected engine='python' for an event log (the compiled kernels keep none), "
                             "found engine='compiled'")
        from analysis.xen.grants import compiled

        per_request = _finish(trace, compiled.run(trace, policy), persistent_frontend=not isinstance(policy, NonPersistent))
        return Result(policy=policy, trace=trace, per_request=per_request, events=None)
    log = [] if events else None
    if isinstance(policy, NonPersistent):
        raw = _run_non_persistent(trace, log)
    elif isinstance(policy, (PersistentArray, PersistentTree)):
        raw = _run_capped(trace, policy.cap, isinstance(policy, PersistentArray), policy.fallback == "request", log)
    elif isinstance(policy, FailPastLimit):
        raw = _run_fail(trace, policy.cap, log)
    elif isinstance(policy, Lru):
        raw = _run_lru(trace, policy.cap, max(1, policy.cap // policy.m), log)
    else:
        raw = _run_linux_lru(trace, policy, log)
    per_request = _finish(trace, raw, persistent_frontend=not isinstance(policy, NonPersistent))
    return Result(policy=policy, trace=trace, per_request=per_request, events=log)


def _finish(trace: Trace, raw: dict, *, persistent_frontend: bool) -> dict:
    """Derive unmaps, batches, memory held and guest memcpy from a kernel's raw per-request lists."""
    n = trace.requests
    segs = trace.segments
    out = {k: np.asarray(v, dtype=np.int64) for k, v in raw.items()}
    transient = out["transient_maps"]
    status = out["status"]
    out["tlb_flushes"] = tlb_flushes(transient, out["purge_unmaps"], out["purge_batches"])
    out["unmaps"] = transient + out.pop("purge_unmaps")
    out["unmap_batches"] = (transient > 0).astype(np.int64) + out.pop("purge_batches")
    out["hits"] = np.where(status == FAILED, 0, segs - out["maps"])
    # Transient pages of request j are held from its issue until it completes before complete_before[j].
    # (np.bincount instead of np.add.at: the same sums, ~10x faster; float weights are exact below 2**53 pages.)
    delta = np.zeros(n + 1, dtype=np.int64)
    delta[:n] += transient
    delta -= np.bincount(trace.complete_before, weights=transient, minlength=n + 1).astype(np.int64)
    out["mapped_pages"] = out["peak_resident_pages"] + np.cumsum(delta)[:n]
    if persistent_frontend:
        copied = np.where(status == FAILED, trace.is_write, True)
        out["memcpy_bytes"] = np.where(copied, segs * PAGE_BYTES, 0)
    else:
        out["memcpy_bytes"] = np.zeros(n, dtype=np.int64)
    return out


def tlb_flushes(transient_unmaps, purge_unmaps, purge_batches):
    """TLB flushes Xen performs per request: ceil(pages / GNTTAB_UNMAP_BATCH_SIZE) per unmap hypercall.

    Xen xen/common/grant_table.c (GNTTAB_UNMAP_BATCH_SIZE = 32, "Number of unmap operations that are
    done between each tlb flush") flushes once per 32 unmap operations of one hypercall. A request's
    transient pages are one hypercall; purges are ``purge_batches`` hypercalls of ``purge_unmaps``
    pages in all, each either one batch of at most 32 (Linux: 11 per gnttab_unmap_refs call) or one
    large batch (Ian's LRU), so max(batches, ceil(pages / 32)) is exact for both.
    """
    t = np.asarray(transient_unmaps, dtype=np.int64)
    pu = np.asarray(purge_unmaps, dtype=np.int64)
    pb = np.asarray(purge_batches, dtype=np.int64)
    per = GNTTAB_UNMAP_BATCH_SIZE
    return -(-t // per) + np.maximum(pb, -(-pu // per))


# The per-request lists every kernel fills, in this order.
_RAW = ("maps", "transient_maps", "purge_unmaps", "purge_batches", "lookup_comparisons", "resident_pages",
        "peak_resident_pages", "status")


def _empty(n: int) -> dict:
    return {k: [0] * n for k in _RAW}


def _empty_arrays(n: int) -> dict:
    """As :func:`_empty` with int64 arrays, for the compiled kernels."""
    return {k: np.zeros(n, dtype=np.int64) for k in _RAW}


def _run_non_persistent(trace: Trace, log: list | None) -> dict:
    segs = trace.segments
    n = trace.requests
    if log is not None:
        offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
        log.extend((k, MAP_TRANSIENT, g) for k in range(n) for g in grefs[offs[k]:offs[k + 1]])
    zeros = np.zeros(n, dtype=np.int64)
    return {"maps": segs, "transient_maps": segs, "purge_unmaps": zeros, "purge_batches": zeros,
            "lookup_comparisons": zeros, "resident_pages": zeros, "peak_resident_pages": zeros,
            "status": np.full(n, NON_PERSISTENT)}


def _run_capped(trace: Trace, cap: int, array: bool, request_fallback: bool, log: list | None) -> dict:
    """The 2012 patch's rule (request_fallback) or Linux 3.8's (per gref), array or tree lookup."""
    n = trace.requests
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    out = _empty(n)
    maps, trans, cmps, res, status = (out[k] for k in ("maps", "transient_maps", "lookup_comparisons",
                                                       "resident_pages", "status"))
    position: dict[int, int] = {}
    get = position.get
    count = 0
    depth = 0  # tree comparisons per lookup at the current size
    for k in range(n):
        req = grefs[offs[k]:offs[k + 1]]
        if request_fallback and count >= cap:
            # dispatch: use_pers_gnts is false, every segment is mapped for this request only, no lookup.
            maps[k] = trans[k] = len(req)
            status[k] = FALLBACK
            res[k] = count
            if log is not None:
                log.extend((k, MAP_TRANSIENT, g) for g in req)
            continue
        if array:
            # Fast path, the steady state: every gref is in the array already (same count, summed in C).
            try:
                cmps[k] = sum(map(position.__getitem__, req)) + len(req)
                res[k] = count
                continue
            except KeyError:
                pass
        c = m = t = 0
        for g in req:
            p = get(g)
            if p is not None:
                c += p + 1 if array else depth
                continue
            c += count if array else depth
            if count < cap:
                position[g] = count
                count += 1
                depth = count.bit_length()
                m += 1
                if log is not None:
                    log.append((k, MAP_PERSISTENT, g))
            else:
                # The patch would BUG_ON in add_pers_gnt here; we map the rest transiently instead.
                t += 1
                if log is not None:
                    log.append((k, MAP_TRANSIENT, g))
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = count
    out["peak_resident_pages"] = res
    return out


def _run_fail(trace: Trace, cap: int, log: list | None) -> dict:
    """Fail requests whose distinct new grefs do not fit under ``cap``; tree lookup for every segment."""
    n = trace.requests
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    out = _empty(n)
    maps, cmps, res, status = (out[k] for k in ("maps", "lookup_comparisons", "resident_pages", "status"))
    store: set[int] = set()
    count = 0
    for k in range(n):
        req = grefs[offs[k]:offs[k + 1]]
        cmps[k] = len(req) * count.bit_length()
        new = [g for g in req if g not in store]
        if len(new) > 1:
            new = list(dict.fromkeys(new))  # a gref repeated within the request is mapped once
        if count + len(new) > cap:
            status[k] = FAILED
        else:
            store.update(new)
            count += len(new)
            maps[k] = len(new)
            if log is not None:
                log.extend((k, MAP_PERSISTENT, g) for g in new)
        res[k] = count
    out["peak_resident_pages"] = res
    return out


def _run_lru(trace: Trace, cap: int, batch: int, log: list | None) -> dict:
    """Ian Campbell's LRU with a purge of ``batch`` = cap // M pages at the (cap + 1)th unique grant."""
    n = trace.requests
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    done = trace.complete_before.tolist()
    out = _empty(n)
    maps, trans, pu, pb, cmps, res, peak, status = (out[k] for k in _RAW)
    lru: OrderedDict[int, int] = OrderedDict()  # gref -> last request that used it, least recent first
    move = lru.move_to_end
    size = 0
    depth = 0
    for k in range(n):
        c = m = t = 0
        purged = False
        for g in grefs[offs[k]:offs[k + 1]]:
            c += depth
            if g in lru:
                lru[g] = k
                move(g)
                continue
            if size >= cap:
                evicted = 0
                while evicted < batch and size:
                    oldest, last_user = next(iter(lru.items()))
                    if done[last_user] > k:  # still in flight: it and everything after it are in use
                        break
                    lru.popitem(last=False)
                    size -= 1
                    evicted += 1
                    if log is not None:
                        log.append((k, UNMAP_PERSISTENT, oldest))
                if evicted:
                    pu[k] += evicted
                    pb[k] += 1
                    purged = True
            if size < cap:
                lru[g] = k
                size += 1
                m += 1
                if log is not None:
                    log.append((k, MAP_PERSISTENT, g))
            else:
                t += 1
                if log is not None:
                    log.append((k, MAP_TRANSIENT, g))
            depth = size.bit_length()
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = size
        peak[k] = cap if purged else size
    return out


def _run_linux_lru(trace: Trace, policy: LinuxLru, log: list | None) -> dict:
    """Linux 3.11+ blkback: per-gref overflow to transient maps, purge every interval_ms (simulated time)."""
    n = trace.requests
    cap = policy.cap
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    done = trace.complete_before.tolist()
    times = trace.time_us.tolist()
    interval_us = policy.interval_ms * 1000.0
    timeout_us = None if policy.unused_seconds is None else policy.unused_seconds * 1e6
    out = _empty(n)
    maps, trans, pu, pb, cmps, res, peak, status = (out[k] for k in _RAW)
    store: dict[int, int] = {}  # gref -> last request that used it
    was_active: set[int] = set()
    overflow = False
    next_lru_us = times[0] + interval_us if n else 0.0
    depth = 0
    for k in range(n):
        size = len(store)
        peak_k = size
        if times[k] >= next_lru_us:
            next_lru_us = times[k] + interval_us
            over = size > cap or (size == cap and overflow)
            if over or timeout_us is not None:
                num_clean = min(size, (cap // 100) * policy.percent_clean + size - cap) if over else 0
                if timeout_us is None:
                    purged = _linux_purge_unused(store, was_active, num_clean, done, k, log)
                else:
                    purged = _linux_purge_timed_out(store, num_clean, done, times, k, timeout_us, log)
                if purged:
                    pu[k] = purged
                    pb[k] = -(-purged // policy.unmap_batch_pages)
                    overflow = False
                    depth = len(store).bit_length()
        c = m = t = 0
        for g in grefs[offs[k]:offs[k + 1]]:
            c += depth
            if g in store:
                store[g] = k
                was_active.add(g)
                continue
            if len(store) < cap:
                store[g] = k
                was_active.add(g)
                m += 1
                depth = len(store).bit_length()
                if log is not None:
                    log.append((k, MAP_PERSISTENT, g))
            else:
                overflow = True
                t += 1
                if log is not None:
                    log.append((k, MAP_TRANSIENT, g))
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = len(store)
        peak[k] = max(peak_k, len(store))
    return out


def _linux_purge_unused(store: dict, was_active: set, num_clean: int, done: list, k: int, log: list | None) -> int:
    """purge_persistent_gnt as in Linux 3.11 (commit 3f3aad5e): returns the number of grants unmapped.

    Skips the purge when nothing is over the cap or fewer than num_clean grants are idle; else
    unmaps grants not used since the last purge (PERSISTENT_GNT_WAS_ACTIVE clear) in rb-tree order,
    then any idle grant, until num_clean; then clears every WAS_ACTIVE flag.
    """
    size = len(store)
    in_use = sum(1 for last in store.values() if done[last] > k)
    if num_clean == 0 or num_clean > size - in_use:
        return 0
    victims: dict[int, None] = {}  # insertion-ordered set
    for scan_used in (False, True):
        for g in sorted(store):  # rb-tree order is gref order
            if len(victims) == num_clean:
                break
            if done[store[g]] > k or (not scan_used and g in was_active) or g in victims:
                continue
            victims[g] = None
    _unmap(store, victims, k, log)
    was_active.clear()
    return len(victims)


def _linux_purge_timed_out(store: dict, num_clean: int, done: list, times: list, k: int, timeout_us: float,
                           log: list | None) -> int:
    """purge_persistent_gnt since 2018 (persistent_grant_unused_seconds): every idle grant unused
    for timeout_us (last use = issue time of its last request), then idle grants in rb-tree order
    until num_clean are gone; runs every interval even below the cap."""
    now = times[k]
    idle = [g for g in sorted(store) if done[store[g]] <= k]
    victims = dict.fromkeys(g for g in idle if now - times[store[g]] >= timeout_us)
    for g in idle:
        if len(victims) >= num_clean:
            break
        victims.setdefault(g, None)
    _unmap(store, victims, k, log)
    return len(victims)


def _unmap(store: dict, victims, k: int, log: list | None) -> None:
    for g in victims:
        del store[g]
        if log is not None:
            log.append((k, UNMAP_PERSISTENT, g))
