"""Cost of blkback's lookup of a persistent grant by gref: linear array scan vs balanced tree.

The thread's claim (Oliver Chick, 2012-09-19 10:51 UTC): "we have to perform a linear search
through this array to find the page, for every gref we receive. The overhead of this is low,
however future work might want to use a more efficient data structure to reduce this O(n)
operation." (Linux 3.8 merged an rb-tree keyed by gref instead: drivers/block/xen-blkback/blkback.c,
get_persistent_gnt(), line 228 at torvalds/linux bb642e8, walks ``persistent_gnts.rb_node``.)

    kind="linear": lookup_ns(n) = base_ns + step_ns * n          (step = one array entry)
    kind="log":    lookup_ns(n) = base_ns + step_ns * log2(n)    (step = one tree level)

where n is the number of grants mapped (>= 1). For a hit at a uniformly random position a scan
reads (n + 1) / 2 entries on average, so the fitted linear step_ns is about half the cost of one
comparison. ``lookup_crossover`` gives the smallest n at which the linear scan costs a stated
share of a CPU more than the tree at a given IOPS.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.constants import PAGE_BYTES, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.models.base import CurveModel, Parameter, domain_message

NS_PER_S = 1e9
KINDS = ("linear", "log")


def linear_lookup_ns(n, *, base_ns, step_ns):
    """Lookup time in ns of a linear scan over ``n`` mapped grants.

    base_ns: cost independent of n (hashing nothing, call and loop set-up), ns.
    step_ns: cost per mapped grant in the array, ns.
    """
    return base_ns + step_ns * np.asarray(n, dtype=float)


def log_lookup_ns(n, *, base_ns, step_ns):
    """Lookup time in ns of a balanced-tree search over ``n`` mapped grants (n >= 1).

    base_ns: cost independent of n, ns.
    step_ns: cost per tree level (one comparison and pointer chase), ns.
    """
    return base_ns + step_ns * np.log2(np.asarray(n, dtype=float))


class LookupModel(CurveModel):
    """Lookup time vs number of mapped grants, ``kind="linear"`` (O(n)) or ``"log"`` (O(log n)).

    ``fit(n_grants, lookup_ns)``: grants mapped (>= 1), measured ns per lookup. ``params_``:
    ``base_ns`` (ns), ``step_ns`` (ns per grant scanned, or per tree level).
    """

    label = "Lookup"
    x_name, y_name = "grants mapped", "lookup time"
    default_units = ("grants", "ns")
    parameters = (
        Parameter("base_ns", "ns", "lookup cost independent of the number of grants"),
        Parameter("step_ns", "ns", "cost per grant scanned (linear) or per tree level (log)"),
    )

    def __init__(self, *, kind: str = "linear", **settings):
        super().__init__(**settings)
        self.kind = kind

    def _implied_fixed(self):
        if self.kind not in KINDS:
            raise UsageError(f"LookupModel kind={self.kind!r}: expected one of {list(KINDS)}")
        return {}

    @property
    def label(self):  # noqa: D401 - shown in summaries
        return f"Lookup ({self.kind})"

    def _domain_error(self, x):
        return domain_message("grants mapped", x, x >= 1, ">= 1")

    def _model_function(self):
        return linear_lookup_ns if self.kind == "linear" else log_lookup_ns

    def guess(self, x, y):
        feature = x if self.kind == "linear" else np.log2(x)
        if np.ptp(feature) > 0:
            slope, intercept = np.polyfit(feature, y, 1)
        else:
            slope, intercept = 0.0, y.mean()
        return {"base_ns": max(float(intercept), 0.0), "step_ns": max(float(slope), 1e-6)}

    def cpu_share(self, n_grants, *, iops, lookups_per_io=SEGMENTS_PER_REQUEST, **overrides):
        """CPUs spent looking up grants at ``iops`` I/Os per second, ``lookups_per_io`` grefs each
        (default: a full request of SEGMENTS_PER_REQUEST segments)."""
        return iops * lookups_per_io * self.predict(n_grants, **overrides) / NS_PER_S


def lookup_crossover(linear: LookupModel, tree: LookupModel, *, iops, cpu_share=0.01,
                     lookups_per_io=SEGMENTS_PER_REQUEST, n_max=1 << 20) -> float:
    """Smallest number of mapped grants at which the linear scan costs ``cpu_share`` CPUs more
    than the tree at ``iops`` (``lookups_per_io`` lookups per I/O); inf if not reached by n_max."""
    if linear.kind != "linear" or tree.kind != "log":
        raise UsageError(f"lookup_crossover: expected a 'linear' and a 'log' LookupModel, found "
                         f"{linear.kind!r} and {tree.kind!r}")
    n = np.arange(1, n_max + 1, dtype=float)
    extra = linear.cpu_share(n, iops=iops, lookups_per_io=lookups_per_io) - tree.cpu_share(
        n, iops=iops, lookups_per_io=lookups_per_io)
    hits = np.flatnonzero(extra >= cpu_share)
    return float(n[hits[0]]) if hits.size else math.inf


def lookup_cpu_share(pages_per_s, lookup_ns):
    """CPUs spent on gref lookups: pages_per_s x lookup_ns / 1e9 (1.0 = one CPU busy).

    blkback looks up one gref per segment, and a segment is one 4 KiB page, so lookups per second
    equal pages per second however the pages group into requests (130,000 4 KiB IOPS = 130,000
    lookups/s, whatever the segments per request). ``lookup_ns``: one lookup at the array size the
    frontend can reach (at most slots x segments = 352 grants for the 2012 blkfront,
    ``analysis.xen.grants.frontend.reachable_grants_2012``), e.g. a measured median or
    ``LookupModel.predict(n)``.
    """
    return np.asarray(pages_per_s, dtype=float) * np.asarray(lookup_ns, dtype=float) / NS_PER_S


def pages_per_s(iops, bytes_per_io: int = PAGE_BYTES):
    """4 KiB pages (= grefs looked up) per second at ``iops`` I/Os of ``bytes_per_io`` bytes each."""
    return np.asarray(iops, dtype=float) * math.ceil(bytes_per_io / PAGE_BYTES)
