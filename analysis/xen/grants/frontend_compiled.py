"""The coupled 3.11+ frontend and backend loop of :func:`analysis.xen.grants.frontend.replay_blkif`,
compiled with numba.

A line-for-line translation of the Python reference on arrays (the reasons for numba are those of
:mod:`analysis.xen.grants.compiled`):

- each ring's grant list (``FreeList311``, a deque of [page, gref]) is a circular buffer of grefs
  per ring, ``-1`` for an ended grant (INVALID; the page itself is never needed, only whether
  its gref is still valid);
- the backend stores (one dict gref -> position per ring) are one array indexed by gref, since
  a gref belongs to one ring's list: grefs are claimed from one counter starting at 8, so they
  are dense and at most 8 + the number of pages taken;
- the grants of an in-flight request are its slice of the output ``grefs``, given back in issue
  order when ``complete_before`` says so (FIFO completion, as the reference's deque).

No policy here purges (linux_lru is refused when a ring's pool can exceed its cap), so a store
only grows. tests/test_xen_grants_frontend_compiled.py checks every counter and every gref equal
to the Python reference on seeded streams and on a trace fio recorded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analysis.xen.grants.compiled import _bit_length
from analysis.xen.grants.policies import FALLBACK, NON_PERSISTENT, PERSISTENT

#: The first gref claimed (grefs 0-7 are reserved: GNTTAB_NR_RESERVED_ENTRIES).
FIRST_GREF = 8


@njit(cache=True)
def _replay(pages, offs, done, queue_of, queues, pool, cap, persistent, request_fallback, array, copy,
            grefs, maps, trans, cmps, res, ring_res, status):
    n = len(pages)
    # Ring q's list: buf[q, (head[q] + i) % pool] for i < size[q], head first; -1 = gref ended.
    buf = np.full((queues, pool), -1, dtype=np.int64)
    head = np.zeros(queues, dtype=np.int64)
    size = np.full(queues, pool, dtype=np.int64)
    position = np.full(FIRST_GREF + len(grefs) + 1, -1, dtype=np.int64)  # gref -> position in its ring's store
    stored = np.zeros(queues, dtype=np.int64)  # pages in each ring's store
    next_gref = FIRST_GREF
    total = 0
    oldest = 0
    for k in range(n):
        # Completions first, in issue order: still mapped -> head (list_add), else ended -> tail.
        while oldest < k and done[oldest] <= k:
            r = queue_of[oldest]
            for i in range(offs[oldest], offs[oldest + 1]):
                g = grefs[i]
                if position[g] >= 0:
                    head[r] = (head[r] - 1) % pool
                    buf[r, head[r]] = g
                else:
                    buf[r, (head[r] + size[r]) % pool] = -1
                size[r] += 1
            oldest += 1
        q = queue_of[k]
        a, b = offs[k], offs[k + 1]
        for i in range(a, b):  # take from the head; an ended grant claims a fresh gref
            g = buf[q, head[q]]
            head[q] = (head[q] + 1) % pool
            size[q] -= 1
            if g < 0:
                g = next_gref
                next_gref += 1
            grefs[i] = g
        m = 0
        t = 0
        c = 0
        if copy:
            status[k] = NON_PERSISTENT
        elif not persistent:
            m = b - a
            t = b - a
            status[k] = NON_PERSISTENT
        elif request_fallback and stored[q] >= cap:
            m = b - a
            t = b - a
            status[k] = FALLBACK
        else:
            for i in range(a, b):
                g = grefs[i]
                s = stored[q]
                p = position[g]
                if p >= 0:
                    c += p + 1 if array else _bit_length(s)
                    continue
                c += s if array else _bit_length(s)
                m += 1
                if s < cap:
                    position[g] = s
                    stored[q] = s + 1
                    total += 1
                else:
                    t += 1
            status[k] = FALLBACK if t else PERSISTENT
        maps[k] = m
        trans[k] = t
        cmps[k] = c
        res[k] = total
        ring_res[k] = stored[q]


def replay(pages: np.ndarray, done: np.ndarray, queue_of: np.ndarray, *, queues: int, pool: int, cap: int,
           persistent: bool, request_fallback: bool, array: bool, copy: bool) -> dict:
    """The reference's raw per-request lists as arrays, plus ``grefs`` and ``ring_resident_pages``."""
    n = len(pages)
    offs = np.concatenate([[0], np.cumsum(pages)]).astype(np.int64)
    out = {name: np.zeros(n, dtype=np.int64) for name in ("maps", "transient_maps", "lookup_comparisons",
                                                          "resident_pages", "ring_resident_pages", "status")}
    grefs = np.zeros(int(offs[-1]), dtype=np.int64)
    _replay(pages.astype(np.int64), offs, done.astype(np.int64), queue_of.astype(np.int64), queues, pool,
            cap if persistent else 0, persistent, request_fallback, array, copy, grefs, out["maps"],
            out["transient_maps"], out["lookup_comparisons"], out["resident_pages"], out["ring_resident_pages"],
            out["status"])
    out["grefs"] = grefs
    return out
