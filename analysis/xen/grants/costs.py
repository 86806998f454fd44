"""Per-operation costs, and the service time and throughput they predict from a policy's counts.

:class:`Costs` holds one named value per operation, each with a unit and a provenance. The
defaults are assumptions or rules of thumb (each field's ``source`` metadata); fitted models from
``analysis.models`` replace them with :meth:`Costs.from_models`, any value with
:meth:`Costs.override`; both record where the new values came from.

Model (operational bounds, no contention; the USL in ``analysis.models`` adds contention):

- dom0 CPU time per request (ns) = maps x map_ns_per_page + unmaps x unmap_ns_per_page
  + unmap_batches x shootdown_ns(dom0_vcpus) + lookup_comparisons x lookup_ns_per_comparison
  + backend_ns_per_request, where shootdown_ns(V) = shootdown_base_ns + shootdown_ns_per_vcpu x (V - 1)
  (an assumed rule of thumb, ~1 us + ~200 ns per receiving core; a shootdown "can take microseconds",
  Amit, USENIX ATC 2017, "Optimizing the TLB Shootdown Algorithm with Page Access Tracking");
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

        ``shootdown`` (ShootdownModel, unmap_ns(V) = base_ns + per_vcpu_ns x V for one unmap with
        its flush): charged once per unmap batch, so shootdown_base_ns = base_ns + per_vcpu_ns and
        shootdown_ns_per_vcpu = per_vcpu_ns make shootdown_ns(V) equal the fitted cost (the receiving
        VCPUs are V - 1). ``memcpy`` (MemcpyModel): memcpy_ns_per_byte = 1e9 / bw_bytes_s (its
        per-call fixed_ns is not used: the counts hold bytes, not calls). ``lookup`` (LookupModel,
        either kind): lookup_ns_per_comparison = step_ns (one array entry or one tree level).
        """
        values = {}
        if shootdown is not None:
            fitted = shootdown.params_
            values.update(shootdown_base_ns=fitted["base_ns"] + fitted["per_vcpu_ns"],
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
        """Cost of one unmap batch's TLB shootdown (ns) with ``dom0_vcpus`` VCPUs (default: self.dom0_vcpus)."""
        vcpus = self.dom0_vcpus if dom0_vcpus is None else dom0_vcpus
        return self.shootdown_base_ns + self.shootdown_ns_per_vcpu * max(vcpus - 1, 0)


def dom0_ns(counts, costs: Costs, dom0_vcpus: int | None = None):
    """dom0 CPU time (ns) for counts (a totals dict, per-request table or DataFrame row); see module docstring."""
    return (counts["maps"] * costs.map_ns_per_page
            + counts["unmaps"] * costs.unmap_ns_per_page
            + counts["unmap_batches"] * costs.shootdown_ns(dom0_vcpus)
            + counts["lookup_comparisons"] * costs.lookup_ns_per_comparison
            + counts["requests"] * costs.backend_ns_per_request)


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
