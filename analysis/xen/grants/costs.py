"""Per-operation costs, and the service time and throughput they predict from a policy's counts.

:class:`Costs` holds one named value per operation, each with a unit and a provenance. The
defaults are assumptions or rules of thumb (each field's ``source`` metadata); fitted models from
``analysis.models`` replace them with :meth:`Costs.from_models`, any value with
:meth:`Costs.override`; both record where the new values came from.

Model (operational bounds, no contention; the USL in ``analysis.models`` adds contention):

- dom0 CPU time per request (ns) = maps x map_ns_per_page + unmaps x unmap_ns_per_page
  + tlb_flushes x (shootdown_ns(dom0_vcpus) + (V - 1) x shootdown_handler_ns)
  + lookup_comparisons x lookup_ns_per_comparison + backend_ns_per_request
  + copy_hypercalls x copy_hypercall_ns + copy_ops x copy_op_ns + xen_copy_bytes x xen_copy_ns_per_byte,
  where shootdown_ns(V) = shootdown_base_ns + shootdown_ns_per_vcpu x (V - 1) is the sender's wait
  (an assumed rule of thumb, ~1 us + ~200 ns per receiving core;
  a shootdown "can take microseconds", Amit, USENIX ATC 2017, "Optimizing the TLB Shootdown Algorithm
  with Page Access Tracking") and every one of the V - 1 receivers also spends
  shootdown_handler_ns in its invalidate_interrupt handler. Xen flushes once per
  GNTTAB_UNMAP_BATCH_SIZE = 32 unmap operations of a hypercall (xen/common/grant_table.c), so
  tlb_flushes = sum over unmap hypercalls of ceil(pages / 32) (``policies.tlb_flushes``); a table
  without a ``tlb_flushes`` column (written before it existed) is charged one flush per unmap batch.
  The receivers are V - 1: Xen's flush_area_mask (xen/arch/x86/smp.c) flushes the local CPU itself
  and IPIs the mask minus the local CPU. Grant copy (GNTTABOP_copy, ``analysis.xen.grants.copy``)
  has no map, unmap or flush: one hypercall per batch, one op per page, the copy done by Xen;
- guest CPU time per request (ns) = guest_ns_per_request + memcpy_bytes x memcpy_ns_per_byte;
- throughput of N guests (requests/s) = min(N x guest_vcpus x 1e9 / guest time,
  dom0_vcpus x 1e9 / dom0 time): each guest is bounded by its own CPUs, all of them by dom0's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

_ASSUMED = "assumed (no measurement available here; replace with a fitted value)"
_SHOOTDOWN = ("assumed rule of thumb (low authority): TLB shootdown ~1 us + ~200 ns per receiving core; "
              "order of magnitude as in Amit, USENIX ATC 2017 (a shootdown can take microseconds)")


def _cost(value: float, unit: str, source: str):
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True, kw_only=True)
class Costs:
    """Per-operation costs (ns unless named otherwise) and the machine they apply to."""

    map_ns_per_page: float = _cost(1000.0, "ns/page", _ASSUMED + "; GNTTABOP_map_grant_ref per page")
    unmap_ns_per_page: float = _cost(500.0, "ns/page", _ASSUMED + "; GNTTABOP_unmap_grant_ref per page, flush excluded")
    shootdown_base_ns: float = _cost(1000.0, "ns/batch", _SHOOTDOWN)
    shootdown_ns_per_vcpu: float = _cost(200.0, "ns/batch/receiving VCPU", _SHOOTDOWN)
    lookup_ns_per_comparison: float = _cost(2.0, "ns/comparison", _ASSUMED + "; one gref compare, data in cache")
    memcpy_ns_per_byte: float = _cost(0.1, "ns/byte", _ASSUMED + "; ~10 GB/s single-core memcpy")
    shootdown_handler_ns: float = _cost(500.0, "ns/flush/receiving VCPU", _ASSUMED + "; invalidate_interrupt "
                                        "(ack, flush_area_local) on each VCPU that takes the IPI")
    copy_hypercall_ns: float = _cost(1000.0, "ns/hypercall", _ASSUMED + "; one GNTTABOP_copy hypercall (entry, "
                                     "batch set-up), as for one map batch")
    copy_op_ns: float = _cost(300.0, "ns/page", _ASSUMED + "; per gnttab_copy op: grant lookup, pin and "
                              "unpin of both frames, without the byte copy")
    xen_copy_ns_per_byte: float = _cost(0.1, "ns/byte", _ASSUMED + "; Xen's memcpy, as the guest's (~10 GB/s)")
    backend_ns_per_request: float = _cost(5000.0, "ns/request", _ASSUMED + "; blkback + ramdisk work besides grants")
    guest_ns_per_request: float = _cost(5000.0, "ns/request", _ASSUMED + "; blkfront + application per request")
    dom0_vcpus: int = _cost(24, "VCPUs", "seed thread: the experiment's dom0 had 24 VCPUs")
    guest_vcpus: int = _cost(1, "VCPUs", _ASSUMED)
    sources: dict = field(default_factory=dict, compare=False, metadata={"unit": "", "source": ""})

    def override(self, source: str, **values) -> "Costs":
        """A copy with ``values`` replaced and their provenance set to ``source`` (e.g. a fitted model)."""
        return replace(self, **values, sources={**self.sources, **{k: source for k in values}})

    def from_models(self, source: str, *, shootdown=None, memcpy=None, lookup=None) -> "Costs":
        """A copy with the values the fitted ``analysis.models`` supply, provenance set to ``source``.

        ``shootdown`` (ShootdownModel, unmap_ns(k) = base_ns + per_vcpu_ns x k for one unmap with
        its flush, k = receiving VCPUs): charged once per TLB flush, so shootdown_base_ns = base_ns
        and shootdown_ns_per_vcpu = per_vcpu_ns make shootdown_ns(V) equal the fitted cost at
        k = V - 1 (analysis.models.shootdown.receiving_vcpus). ``memcpy`` (MemcpyModel): memcpy_ns_per_byte = 1e9 / bw_bytes_s (its
        per-call fixed_ns is not used: the counts hold bytes, not calls). ``lookup`` (LookupModel,
        either kind): lookup_ns_per_comparison = step_ns (one array entry or one tree level).
        """
        values = {}
        if shootdown is not None:
            fitted = shootdown.params_
            values.update(shootdown_base_ns=fitted["base_ns"],
                          shootdown_ns_per_vcpu=fitted["per_vcpu_ns"])
        if memcpy is not None:
            values["memcpy_ns_per_byte"] = 1e9 / memcpy.params_["bw_bytes_s"]
        if lookup is not None:
            values["lookup_ns_per_comparison"] = lookup.params_["step_ns"]
        return self.override(source, **values)

    def table(self) -> pd.DataFrame:
        """One row per cost: name, value, unit, source."""
        rows = [(f.name, getattr(self, f.name), f.metadata["unit"], self.sources.get(f.name, f.metadata["source"]))
                for f in fields(self) if f.name != "sources"]
        return pd.DataFrame(rows, columns=["name", "value", "unit", "source"])

    def shootdown_ns(self, dom0_vcpus: int | None = None) -> float:
        """The unmapping VCPU's time for one TLB flush (ns) with ``dom0_vcpus`` VCPUs (default:
        self.dom0_vcpus): base + per receiving VCPU x (V - 1)."""
        vcpus = self.dom0_vcpus if dom0_vcpus is None else dom0_vcpus
        return self.shootdown_base_ns + self.shootdown_ns_per_vcpu * max(vcpus - 1, 0)

    def flush_cpu_ns(self, dom0_vcpus: int | None = None) -> float:
        """dom0 CPU time one TLB flush costs in all (ns): the sender's wait plus the V - 1 receivers'
        handler time (shootdown_handler_ns each)."""
        vcpus = self.dom0_vcpus if dom0_vcpus is None else dom0_vcpus
        return self.shootdown_ns(vcpus) + self.shootdown_handler_ns * max(vcpus - 1, 0)


def _count(counts, key: str):
    """counts[key], or 0 where the table has no such column (a policy that never does it)."""
    return counts[key] if key in counts else 0


def tlb_flushes(counts):
    """TLB flushes in ``counts``: the ``tlb_flushes`` column (ceil(pages / 32) per unmap hypercall,
    ``policies.tlb_flushes``), or ``unmap_batches`` for tables written before that column existed."""
    return counts["tlb_flushes"] if "tlb_flushes" in counts else counts["unmap_batches"]


def dom0_ns(counts, costs: Costs, dom0_vcpus: int | None = None):
    """dom0 CPU time (ns) for counts (a totals dict, per-request table or DataFrame row); see module docstring."""
    return (counts["maps"] * costs.map_ns_per_page
            + counts["unmaps"] * costs.unmap_ns_per_page
            + tlb_flushes(counts) * costs.flush_cpu_ns(dom0_vcpus)
            + counts["lookup_comparisons"] * costs.lookup_ns_per_comparison
            + counts["requests"] * costs.backend_ns_per_request
            + _count(counts, "copy_hypercalls") * costs.copy_hypercall_ns
            + _count(counts, "copy_ops") * costs.copy_op_ns
            + _count(counts, "xen_copy_bytes") * costs.xen_copy_ns_per_byte)


def guest_ns(counts, costs: Costs):
    """Guest CPU time (ns) for the same counts: per-request work plus blkfront's memcpy."""
    return counts["requests"] * costs.guest_ns_per_request + counts["memcpy_bytes"] * costs.memcpy_ns_per_byte


def service_ns_per_request(counts, costs: Costs, dom0_vcpus: int | None = None):
    """Mean CPU time per request (ns), dom0 plus guest, for totals over ``counts["requests"]`` requests."""
    return (dom0_ns(counts, costs, dom0_vcpus) + guest_ns(counts, costs)) / counts["requests"]


def throughput_iops(counts, costs: Costs, guests, dom0_vcpus: int | None = None):
    """Predicted requests/s for ``guests`` identical guests (scalar or array): the lower of the two bounds."""
    vcpus = costs.dom0_vcpus if dom0_vcpus is None else dom0_vcpus
    per_guest = costs.guest_vcpus * 1e9 * counts["requests"] / guest_ns(counts, costs)
    dom0_bound = vcpus * 1e9 * counts["requests"] / dom0_ns(counts, costs, vcpus)
    return np.minimum(np.asarray(guests) * per_guest, dom0_bound)


def per_request_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """A per-request table (Result.frame()) with a ``requests`` column of ones, ready for the cost functions."""
    return frame.assign(requests=1)


def with_costs(table: pd.DataFrame, costs: Costs, guests: int, dom0_vcpus: int | None = None) -> pd.DataFrame:
    """Add dom0_us_per_request, guest_us_per_request (microseconds), throughput_iops (requests/s for
    ``guests`` identical guests) and goodput_iops (successful requests/s) to a table of totals (one row
    per simulation) or of single requests."""
    counts = table if "requests" in table else per_request_counts(table)
    throughput = throughput_iops(counts, costs, guests, dom0_vcpus)
    ok_fraction = 1.0 - counts["failed_requests"] / counts["requests"] if "failed_requests" in counts else 1.0
    return table.assign(
        dom0_us_per_request=dom0_ns(counts, costs, dom0_vcpus) / counts["requests"] / 1000.0,
        guest_us_per_request=guest_ns(counts, costs) / counts["requests"] / 1000.0,
        throughput_iops=throughput,
        goodput_iops=throughput * ok_fraction,
    )


def blkback_threads_iops(counts, costs: Costs, guests, dom0_vcpus: int | None = None):
    """Requests/s of ``guests`` identical guests, each served by one blkback thread on its own dom0
    VCPU (guests <= V), when every TLB flush interrupts the other V - 1 VCPUs.

    A thread's time per request is its own dom0 work with the sender's flush wait, shootdown_ns(V)
    per flush, plus the handler time the other guests' flushes steal from its VCPU: for each of its
    requests the N - 1 other threads flush as often, so it pays (N - 1) x flushes x handler_ns.
    X(N, V) = N x 1e9 / (dom0_ns - flushes x (V - 1) x handler_ns + (N - 1) x flushes x handler_ns),
    capped by the guests' own bound. At fixed N it falls as V grows (every flush waits for more
    acknowledgements); at fixed V it grows with N but less than linearly (the handler term).
    """
    vcpus = costs.dom0_vcpus if dom0_vcpus is None else dom0_vcpus
    n = np.asarray(guests, dtype=float)
    if np.any(n > vcpus):
        raise ValueError(f"guests: expected at most dom0_vcpus = {vcpus} (one blkback thread per VCPU), found {n.max()}")
    flushes = tlb_flushes(counts)
    handler = costs.shootdown_handler_ns
    sender_ns = dom0_ns(counts, costs, vcpus) - flushes * handler * max(vcpus - 1, 0)
    thread_ns = sender_ns + (n - 1) * flushes * handler
    with np.errstate(divide="ignore"):  # no guest time: the guests do not bound it
        per_guest = costs.guest_vcpus * 1e9 * counts["requests"] / np.float64(guest_ns(counts, costs))
    return np.minimum(n * per_guest, n * 1e9 * counts["requests"] / thread_ns)
