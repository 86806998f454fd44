"""Grant copy: the third mode, and where each of the three modes is cheapest.

With grant copy (GNTTABOP_copy, as QEMU's qdisk and tapdisk3 use it) the backend maps nothing: it
asks Xen to copy each segment between the guest's granted page and its own buffer, one op per page,
many ops per hypercall. There is no map, no unmap and no TLB flush; Xen does the copy. QEMU's
xen_disk (hw/block/xen_disk.c, "xen_disk: remove use of grant map/unmap", Paul Durrant) writes
``feature-persistent`` = !feature_grant_copy, so a grant-copy backend never negotiates persistent
grants and blkfront does not copy (its grants are ended after each request).

:class:`GrantCopy` runs over a :class:`~analysis.xen.grants.workloads.Trace`: per request one
hypercall, one op per page and ``segments x PAGE_BYTES`` bytes copied by Xen; maps, unmaps, flushes
and the guest's memcpy are zero.

:func:`mode_cpu_ns` prices one request of ``pages`` pages in each mode from a
:class:`~analysis.xen.grants.costs.Costs` (all CPU time, dom0 + Xen + guest, in ns):

    persistent = pages x memcpy_ns_per_byte x PAGE_BYTES          (the guest's copy; hits, no map)
    map_unmap  = pages x (map_ns_per_page + unmap_ns_per_page)
                 + ceil(pages / 32) x flush_cpu_ns(V)             (one unmap hypercall per request)
    grant_copy = copy_hypercall_ns + pages x (copy_op_ns + xen_copy_ns_per_byte x PAGE_BYTES)

The 2013 Xen summit result (persistent grants lose where the copy costs more than mapping: few dom0
CPUs, large requests) follows: the copy grows with the bytes, the flush with V and only once per 32
pages. :func:`map_beats_persistent_below_vcpus` gives the crossover in V for a request size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.constants import GNTTAB_UNMAP_BATCH_SIZE, PAGE_BYTES
from analysis.xen.grants.costs import Costs
from analysis.xen.grants.outcomes import BlkifResult
from analysis.xen.grants.policies import NON_PERSISTENT, _finish
from analysis.xen.grants.workloads import Trace

MODES = ("persistent", "map_unmap", "grant_copy")


@dataclass(frozen=True, kw_only=True)
class GrantCopy:
    """GNTTABOP_copy: no map, no unmap, no flush; one hypercall per request, one op per page."""

    name = "grant_copy"


def copy_counts(segments: np.ndarray) -> dict:
    """Per-request grant-copy counts for requests of ``segments`` pages: hypercalls, ops, bytes."""
    segments = np.asarray(segments, dtype=np.int64)
    return {"copy_hypercalls": (segments > 0).astype(np.int64), "copy_ops": segments,
            "xen_copy_bytes": segments * PAGE_BYTES}


def simulate_copy(trace: Trace, policy: GrantCopy, *, events: bool = False) -> BlkifResult:
    """Grant copy over ``trace``: zero maps, unmaps, flushes, lookups and guest memcpy."""
    n = trace.requests
    zeros = np.zeros(n, dtype=np.int64)
    raw = {"maps": zeros, "transient_maps": zeros, "purge_unmaps": zeros, "purge_batches": zeros,
           "lookup_comparisons": zeros, "resident_pages": zeros, "peak_resident_pages": zeros,
           "status": np.full(n, NON_PERSISTENT)}
    per_request = _finish(trace, raw, persistent_frontend=False)
    per_request["hits"] = zeros.copy()  # nothing is served from a store: every page is copied
    per_request.update(copy_counts(trace.segments))
    return BlkifResult(policy=policy, trace=trace, per_request=per_request, events=[] if events else None)


def mode_cpu_ns(costs: Costs, pages, dom0_vcpus: int | None = None) -> dict:
    """CPU ns per request of ``pages`` pages in each of :data:`MODES` (module docstring formulas).

    Excludes what all three modes pay alike (backend_ns_per_request, guest_ns_per_request) and the
    persistent lookups (a few ns per page, ``lookup_ns_per_comparison``, next to a page copy).
    """
    pages = np.asarray(pages, dtype=float)
    flushes = np.ceil(pages / GNTTAB_UNMAP_BATCH_SIZE)
    return {
        "persistent": pages * PAGE_BYTES * costs.memcpy_ns_per_byte,
        "map_unmap": pages * (costs.map_ns_per_page + costs.unmap_ns_per_page) + flushes * costs.flush_cpu_ns(dom0_vcpus),
        "grant_copy": costs.copy_hypercall_ns + pages * (costs.copy_op_ns + PAGE_BYTES * costs.xen_copy_ns_per_byte),
    }


def cheapest_mode(costs: Costs, pages: int, dom0_vcpus: int | None = None) -> str:
    """The mode of :data:`MODES` with the least CPU per request (ties go to the earlier one)."""
    per_mode = mode_cpu_ns(costs, pages, dom0_vcpus)
    return min(MODES, key=lambda m: float(per_mode[m]))


def map_beats_persistent_below_vcpus(costs: Costs, pages: int) -> float:
    """The dom0 VCPU count V* below which mapping (non-persistent) costs less CPU per request than
    persistent grants' copy, for requests of ``pages`` pages; inf if mapping always wins, 1.0 if
    it never does (not even at V = 1, no receiver).

    Solves pages x (map + unmap) + f x (base + (per_vcpu + handler) (V - 1)) = pages x 4096 x
    memcpy_ns_per_byte for V, with f = ceil(pages / 32) flushes per request.
    """
    f = math.ceil(pages / GNTTAB_UNMAP_BATCH_SIZE)
    copy = pages * PAGE_BYTES * costs.memcpy_ns_per_byte
    fixed = pages * (costs.map_ns_per_page + costs.unmap_ns_per_page) + f * costs.shootdown_base_ns
    per_receiver = f * (costs.shootdown_ns_per_vcpu + costs.shootdown_handler_ns)
    if fixed >= copy:
        return 1.0
    if per_receiver <= 0:
        return math.inf
    return 1.0 + (copy - fixed) / per_receiver
