"""The 2012 patch's blkback exactly as posted, including the ``BUG_ON`` a guest can reach.

Source: the patch in the seed thread (drivers/block/xen-blkback/blkback.c hunks):

* ``xen_blkbk_map`` decides once per request: ``use_pers_gnts = can_grant_persist &&
  pers_gnt_c < BLKIF_MAX_SEGMENTS_PER_REQUEST * BLKIF_MAX_PERS_REQUESTS_PER_DEV`` (11 x 256 = 2816);
* if true, every segment is looked up (``get_pers_gnt``: a linear scan of ``pers_gnts``); a miss
  allocates a page (``alloc_page(GFP_KERNEL)``) and calls ``add_pers_gnt``, which begins with
  ``BUG_ON(blkif->pers_gnt_c >= 2816)``;
* if false, the request is mapped for this request only (no lookup) and unmapped at completion.

The check runs once, before the request's segments are added, so a request that starts with
``pers_gnt_c`` in 2806..2815 and brings more new grefs than 2816 - pers_gnt_c passes the check and
then adds grant number 2817: ``BUG_ON(2816 >= 2816)`` panics dom0. :func:`bug_on_trace` builds the
shortest such trace a guest can send (one 1-segment request, then 11-segment requests of fresh
grefs): after 1 + 255 x 11 = 2806 grants the next request passes the check and crashes. The
simulator reports that request as ``crashed`` (a distinct outcome; ``PersistentArray`` instead maps
the rest transiently, which is what the patch *should* have done).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.constants import PATCH_2012_MAX_PERSISTENT_GRANTS, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.xen.grants.outcomes import CRASHED, BlkifResult
from analysis.xen.grants.policies import FALLBACK, MAP_PERSISTENT, MAP_TRANSIENT, PERSISTENT, _finish
from analysis.xen.grants.workloads import Trace


@dataclass(frozen=True, kw_only=True)
class Patch2012:
    """The 2012 patch as posted: per-request cap check, linear search, BUG_ON past ``cap`` pages."""

    cap: int = PATCH_2012_MAX_PERSISTENT_GRANTS
    name = "patch_2012"


def bug_on_trace(cap: int = PATCH_2012_MAX_PERSISTENT_GRANTS, segments: int = SEGMENTS_PER_REQUEST,
                 extra_requests: int = 2) -> Trace:
    """The shortest guest trace that crashes the patch's blkback: fresh grefs only.

    The array must hold cap - segments + 1 grants (the largest count that passes the
    ``use_pers_gnts`` check yet leaves fewer than ``segments`` free) when a full request arrives.
    The first request carries (cap - segments + 1) mod segments segments (``segments`` if that is
    0), then full requests follow. For the patch (cap = 256 x 11 = 2816, 11 segments): one
    1-segment request and 255 full ones give 1 + 255 x 11 = 2806 < 2816; request 256 passes the
    check, maps 10 grants (2816) and its 11th hits ``BUG_ON(2816 >= 2816)``. ``extra_requests``
    more full requests follow the crashing one (they are never served). depth 1: one in flight.
    """
    if segments < 2 or cap < segments:
        raise UsageError(f"bug_on_trace: expected segments >= 2 and cap >= segments, found {segments}, {cap}")
    target = cap - segments + 1
    first = target % segments or segments
    full = (target - first) // segments
    sizes = [first] + [segments] * (full + 1 + extra_requests)
    grefs, start = [], 8
    for size in sizes:
        grefs.append(list(range(start, start + size)))
        start += size
    return Trace.from_requests(grefs, depth=1)


def simulate_patch(trace: Trace, policy: Patch2012, *, events: bool = False) -> BlkifResult:
    """Run the patch's rules over ``trace``; the request whose add_pers_gnt hits the BUG_ON and every
    later one get status ``crashed`` (nothing after it is served: dom0 has panicked)."""
    if not isinstance(policy.cap, (int, np.integer)) or policy.cap < 1:
        raise UsageError(f"cap: expected a positive number of pages, found {policy.cap!r}")
    cap = policy.cap
    n = trace.requests
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    raw = {k: [0] * n for k in ("maps", "transient_maps", "purge_unmaps", "purge_batches", "lookup_comparisons",
                                "resident_pages", "peak_resident_pages", "status")}
    log = [] if events else None
    position: dict[int, int] = {}
    count = 0
    crashed_at = n
    for k in range(n):
        req = grefs[offs[k]:offs[k + 1]]
        if count >= cap:  # use_pers_gnts false: map for this request only, no lookup
            raw["maps"][k] = raw["transient_maps"][k] = len(req)
            raw["status"][k] = FALLBACK
            raw["resident_pages"][k] = raw["peak_resident_pages"][k] = count
            if log is not None:
                log.extend((k, MAP_TRANSIENT, g) for g in req)
            continue
        c = m = 0
        crashed = False
        for g in req:
            p = position.get(g)
            if p is not None:
                c += p + 1
                continue
            c += count
            if count >= cap:  # add_pers_gnt: BUG_ON(pers_gnt_c >= 2816)
                crashed = True
                break
            position[g] = count
            count += 1
            m += 1
            if log is not None:
                log.append((k, MAP_PERSISTENT, g))
        raw["maps"][k] = m
        raw["lookup_comparisons"][k] = c
        raw["resident_pages"][k] = raw["peak_resident_pages"][k] = count
        if crashed:
            crashed_at = k
            break
        raw["status"][k] = PERSISTENT
    for k in range(crashed_at, n):
        raw["status"][k] = CRASHED
        if k > crashed_at:
            raw["resident_pages"][k] = raw["peak_resident_pages"][k] = count
    per_request = _finish(trace, raw, persistent_frontend=True)
    after = np.arange(n) >= crashed_at
    per_request["hits"][after] = 0
    # Requests after the crash are never queued to a live backend; the crashing one was copied.
    per_request["memcpy_bytes"][np.arange(n) > crashed_at] = 0
    return BlkifResult(policy=policy, trace=trace, per_request=per_request, events=log)
