"""The per-segment loops of :mod:`analysis.xen.grants.policies`, compiled with numba.

Each kernel is a line-for-line translation of the pure-Python kernel of the same name in
``policies.py`` (the reference), on arrays instead of dicts: grant references are first renumbered
to dense ids (``_dense_ids``; the renumbering keeps their order, which is the rb-tree order the
Linux purge walks), then a dict becomes an array indexed by id, an OrderedDict a doubly linked
list over ids, a set a boolean array. Counting rules are those of the module docstring of
``policies.py``; tests/test_xen_grants_compiled.py checks every counter equal to the Python path on
seeded workloads and on a trace. Event logs (``simulate(..., events=True)``) stay Python-only.

Why numba rather than Cython or C through cffi: the kernels stay Python source beside the
reference (one language to review), numba installs as a wheel with no compiler at install time,
and it compiles integer loops over NumPy arrays to the same machine code as C (the benchmark's C
floor measures how close). Compiled functions are cached on disk (``cache=True``), so the
compile cost (seconds) is paid once per machine, not per process.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analysis.xen.grants.policies import FAILED, FALLBACK, PERSISTENT, _empty_arrays  # noqa: F401

# Above this many distinct possible values, renumber grefs with np.unique instead of indexing by gref.
_DIRECT_IDS_LIMIT = 1 << 24


def _dense_ids(grefs: np.ndarray) -> tuple[np.ndarray, int]:
    """Grant references renumbered 0..U-1 in increasing gref order, and U (an upper bound on it)."""
    if len(grefs) == 0:
        return grefs.astype(np.int64), 1
    top = int(grefs.max())
    if int(grefs.min()) >= 0 and top < max(_DIRECT_IDS_LIMIT, 4 * len(grefs)):
        return grefs.astype(np.int64, copy=False), top + 1  # the gref is its own id: same order, no sort
    unique, ids = np.unique(grefs, return_inverse=True)
    return ids.astype(np.int64), len(unique)


@njit(inline="always", cache=True)
def _bit_length(x):
    b = 0
    while x > 0:
        x >>= 1
        b += 1
    return b


@njit(cache=True)
def _capped(offs, ids, nid, cap, array, request_fallback, maps, trans, cmps, res, status):
    position = np.full(nid, -1, dtype=np.int64)
    count = 0
    depth = 0
    for k in range(len(offs) - 1):
        a, b = offs[k], offs[k + 1]
        if request_fallback and count >= cap:
            maps[k] = b - a
            trans[k] = b - a
            status[k] = FALLBACK
            res[k] = count
            continue
        c = 0
        m = 0
        t = 0
        for i in range(a, b):
            g = ids[i]
            p = position[g]
            if p >= 0:
                c += p + 1 if array else depth
                continue
            c += count if array else depth
            if count < cap:
                position[g] = count
                count += 1
                depth = _bit_length(count)
                m += 1
            else:
                t += 1
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = count


@njit(cache=True)
def _fail(offs, ids, nid, cap, maps, cmps, res, status):
    stored = np.zeros(nid, dtype=np.bool_)
    seen_in = np.full(nid, -1, dtype=np.int64)  # the last request that counted this gref as new
    count = 0
    for k in range(len(offs) - 1):
        a, b = offs[k], offs[k + 1]
        cmps[k] = (b - a) * _bit_length(count)
        new = 0
        for i in range(a, b):
            g = ids[i]
            if not stored[g] and seen_in[g] != k:
                seen_in[g] = k
                new += 1
        if count + new > cap:
            status[k] = FAILED
        else:
            for i in range(a, b):
                stored[ids[i]] = True
            count += new
            maps[k] = new
        res[k] = count


@njit(cache=True)
def _lru(offs, ids, nid, done, cap, batch, maps, trans, pu, pb, cmps, res, peak, status):
    head = nid  # sentinel of the recency list: nxt[head] is the least recently used
    nxt = np.full(nid + 1, -1, dtype=np.int64)
    prv = np.full(nid + 1, -1, dtype=np.int64)
    nxt[head] = head
    prv[head] = head
    inside = np.zeros(nid, dtype=np.bool_)
    last = np.zeros(nid, dtype=np.int64)
    size = 0
    depth = 0
    for k in range(len(offs) - 1):
        c = 0
        m = 0
        t = 0
        purged = False
        for i in range(offs[k], offs[k + 1]):
            g = ids[i]
            c += depth
            if inside[g]:
                last[g] = k
                # move to the most recent end
                nxt[prv[g]] = nxt[g]
                prv[nxt[g]] = prv[g]
                tail = prv[head]
                nxt[tail] = g
                prv[g] = tail
                nxt[g] = head
                prv[head] = g
                continue
            if size >= cap:
                evicted = 0
                while evicted < batch and size:
                    oldest = nxt[head]
                    if done[last[oldest]] > k:  # still in flight: it and everything after it are in use
                        break
                    nxt[head] = nxt[oldest]
                    prv[nxt[oldest]] = head
                    inside[oldest] = False
                    size -= 1
                    evicted += 1
                if evicted:
                    pu[k] += evicted
                    pb[k] += 1
                    purged = True
            if size < cap:
                inside[g] = True
                last[g] = k
                tail = prv[head]
                nxt[tail] = g
                prv[g] = tail
                nxt[g] = head
                prv[head] = g
                size += 1
                m += 1
            else:
                t += 1
            depth = _bit_length(size)
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = size
        peak[k] = cap if purged else size


@njit(cache=True)
def _linux_lru(offs, ids, nid, done, times, cap, interval_us, percent_clean, unmap_batch, timed, timeout_us,
               maps, trans, pu, pb, cmps, res, peak, status):
    n = len(offs) - 1
    stored = np.zeros(nid, dtype=np.bool_)
    active = np.zeros(nid, dtype=np.bool_)
    last = np.zeros(nid, dtype=np.int64)
    members = np.empty(max(cap, 1), dtype=np.int64)  # the store never holds more than cap grants
    slot = np.zeros(nid, dtype=np.int64)  # index of a stored gref in members
    victim = np.zeros(nid, dtype=np.bool_)
    count = 0
    overflow = False
    next_lru_us = times[0] + interval_us if n else 0.0
    depth = 0
    for k in range(n):
        size = count
        peak_k = size
        if times[k] >= next_lru_us:
            next_lru_us = times[k] + interval_us
            over = size > cap or (size == cap and overflow)
            if over or timed:
                num_clean = min(size, (cap // 100) * percent_clean + size - cap) if over else 0
                order = np.sort(members[:count])  # rb-tree order is gref order
                chosen = np.empty(count, dtype=np.int64)
                nv = 0
                if not timed:
                    in_use = 0
                    for g in order:
                        if done[last[g]] > k:
                            in_use += 1
                    if num_clean != 0 and num_clean <= size - in_use:
                        for scan_used in (False, True):
                            for g in order:
                                if nv == num_clean:
                                    break
                                if done[last[g]] > k or (not scan_used and active[g]) or victim[g]:
                                    continue
                                victim[g] = True
                                chosen[nv] = g
                                nv += 1
                        for g in order:  # was_active.clear(): every active gref is stored
                            active[g] = False
                else:
                    now = times[k]
                    for g in order:
                        if done[last[g]] <= k and now - times[last[g]] >= timeout_us:
                            victim[g] = True
                            chosen[nv] = g
                            nv += 1
                    for g in order:
                        if nv >= num_clean:
                            break
                        if done[last[g]] <= k and not victim[g]:
                            victim[g] = True
                            chosen[nv] = g
                            nv += 1
                for j in range(nv):
                    g = chosen[j]
                    victim[g] = False
                    stored[g] = False
                    moved = members[count - 1]
                    members[slot[g]] = moved
                    slot[moved] = slot[g]
                    count -= 1
                if nv:
                    pu[k] = nv
                    pb[k] = -(-nv // unmap_batch)
                    overflow = False
                    depth = _bit_length(count)
        c = 0
        m = 0
        t = 0
        for i in range(offs[k], offs[k + 1]):
            g = ids[i]
            c += depth
            if stored[g]:
                last[g] = k
                active[g] = True
                continue
            if count < cap:
                stored[g] = True
                last[g] = k
                active[g] = True
                members[count] = g
                slot[g] = count
                count += 1
                m += 1
                depth = _bit_length(count)
            else:
                overflow = True
                t += 1
        maps[k] = m + t
        trans[k] = t
        cmps[k] = c
        status[k] = FALLBACK if t else PERSISTENT
        res[k] = count
        peak[k] = max(peak_k, count)


def run(trace, policy) -> dict:
    """The raw per-request counts of ``policy`` on ``trace`` (the dict the Python kernels return)."""
    from analysis.xen.grants import policies as P

    n = trace.requests
    if isinstance(policy, P.NonPersistent):
        return P._run_non_persistent(trace, None)  # no per-segment loop: already vectorised
    out = _empty_arrays(n)
    offs = trace.offsets.astype(np.int64, copy=False)
    ids, nid = _dense_ids(trace.grefs)
    if isinstance(policy, (P.PersistentArray, P.PersistentTree)):
        _capped(offs, ids, nid, policy.cap, isinstance(policy, P.PersistentArray), policy.fallback == "request",
                out["maps"], out["transient_maps"], out["lookup_comparisons"], out["resident_pages"], out["status"])
        out["peak_resident_pages"] = out["resident_pages"]
    elif isinstance(policy, P.FailPastLimit):
        _fail(offs, ids, nid, policy.cap, out["maps"], out["lookup_comparisons"], out["resident_pages"], out["status"])
        out["peak_resident_pages"] = out["resident_pages"]
    elif isinstance(policy, P.Lru):
        _lru(offs, ids, nid, trace.complete_before.astype(np.int64, copy=False), policy.cap,
             max(1, policy.cap // policy.m), *(out[k] for k in P._RAW))
    else:
        timed = policy.unused_seconds is not None
        _linux_lru(offs, ids, nid, trace.complete_before.astype(np.int64, copy=False),
                   trace.time_us.astype(np.float64, copy=False), policy.cap, policy.interval_ms * 1000.0,
                   policy.percent_clean, policy.unmap_batch_pages, timed,
                   policy.unused_seconds * 1e6 if timed else 0.0, *(out[k] for k in P._RAW))
    return out
