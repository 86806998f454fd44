"""TLB-shootdown cost of grant unmaps, and the total IOPS it implies for N guests.

The thread's claim (Oliver Chick, 2012-09-19 10:51 UTC): "The cost of unmapping scales badly with
the number of CPUs in Dom0 ... the IPIs from performing unmap's is a bottleneck at 5 guests".

Per-unmap cost (``ShootdownModel``; x = receiving VCPUs k, optionally concurrent unmappers m):

    unmap_ns(k, m) = base_ns + per_vcpu_ns * k * (1 + contention * (m - 1))

k counts the CPUs that take the flush IPI. Xen's flush_area_mask (xen/arch/x86/smp.c) flushes the
local CPU itself and sends INVALIDATE_TLB_VECTOR to the mask minus the local CPU
(``cpumask_clear_cpu(cpu, &flush_cpumask)`` before ``send_IPI_mask``), so with every one of dom0's V
VCPUs in the dirty mask k = V - 1. The same k = V - 1 is used by ``scaling_params``/``throughput``
(which take ``dom0_vcpus`` = V), by ``analysis.xen.grants.costs.Costs.shootdown_ns`` and by
``analysis.decide.decision.cost_balance``; a measurement on native Linux fits k = remote CPUs.

``kind="linear"`` fixes contention = 0 (one IPI per VCPU, no interference); ``kind="contention"``
lets each additional concurrent unmapper inflate the IPI part (targets busy acknowledging other
flushes take longer to acknowledge ours).

Total throughput for N guests (``ShootdownModel.throughput`` and ``ShootdownScaling``), under
these stated assumptions:
  1. each guest is served by one blkback thread on its own dom0 VCPU (N <= V);
  2. one I/O costs that thread ``service_ns`` of work that is not unmapping, plus the unmaps;
  3. a flush stalls *every* dom0 VCPU for its duration (Xen IPIs every CPU in dom0's dirty mask),
     so each thread also loses the flush time of the other N - 1 threads' I/Os.
  4. with N guests unmapping concurrently, each flush takes longer by a fixed relative amount per
     additional concurrent unmapper (``contention``, as in the per-unmap model above).
Then each thread needs T(N) = service_ns + N * flush_ns * (1 + contention * (N - 1)) per I/O.
Written with contention_ns = flush_ns * contention (which keeps the fit linear in its
parameters and well-posed when flush_ns is small):

    X(N) = 1e9 * N / (service_ns + flush_ns * N + contention_ns * N * (N - 1))   [IOPS]

where flush_ns is the stalling flush time per I/O at one guest. This is the USL in physical units:
lambda = 1e9 / (service_ns + flush_ns), sigma = flush_ns / (service_ns + flush_ns),
kappa = contention_ns / (service_ns + flush_ns) (``ShootdownScaling.to_usl``), so sigma reads as
the share of one guest's I/O time spent in stalling flushes, and the peak is
N* = sqrt(service_ns / contention_ns).
"""

from __future__ import annotations

import math

import numpy as np

from analysis.errors import ModelFitError, UsageError
from analysis.models.base import CurveModel, Parameter, domain_message
from analysis.models.usl import _quadratic_coefficients

NS_PER_S = 1e9


def unmap_ns(x, *, base_ns, per_vcpu_ns, contention):
    """Cost of one grant unmap with its TLB shootdown, in ns.

    x: array of shape (2, n): receiving VCPUs k = V - 1 (count, >= 0) and concurrent unmappers m
    (count, >= 1).
    base_ns: cost of an unmap that needs no IPI (hypercall, page-table update, local flush), ns.
    per_vcpu_ns: cost added by each receiving VCPU that must be interrupted and acknowledge, ns.
    contention: relative growth of the IPI part per additional concurrent unmapper (1).
    """
    vcpus, unmappers = x
    return base_ns + per_vcpu_ns * vcpus * (1 + contention * (unmappers - 1))


def receiving_vcpus(dom0_vcpus):
    """VCPUs that take the flush IPI when one of ``dom0_vcpus`` unmaps: V - 1 (never below 0).

    Xen xen/arch/x86/smp.c flush_area_mask (line 259 at commit e9aca947): the local CPU flushes
    itself (flush_area_local) and is removed from the mask (cpumask_clear_cpu(cpu, &flush_cpumask))
    before send_IPI_mask(&flush_cpumask, INVALIDATE_TLB_VECTOR); the sender then spins until every
    receiver's invalidate_interrupt has cleared its bit.
    """
    return np.maximum(np.asarray(dom0_vcpus, dtype=float) - 1, 0)


def shootdown_iops(n, *, service_ns, flush_ns, contention_ns):
    """Total IOPS of ``n`` guests when each guest's flushes stall every dom0 VCPU.

    service_ns: dom0 time per I/O that is not a stalling flush (one blkback thread), ns.
    flush_ns: stalling flush time per I/O with one guest (unmaps per I/O x unmap cost), ns.
    contention_ns: stalling time added per I/O per pair of concurrently unmapping guests, ns
      (flush_ns x the relative contention per extra unmapper).
    """
    n = np.asarray(n, dtype=float)
    return NS_PER_S * n / (service_ns + flush_ns * n + contention_ns * n * (n - 1))


class ShootdownModel(CurveModel):
    """Per-unmap cost vs dom0 VCPUs (and concurrent unmappers, ``kind="contention"``).

    ``fit(dom0_vcpus, unmap_ns, unmappers=None)``: VCPU counts that must take the flush IPI
    (>= 0), measured cost per unmap in
    ns, and optionally the number of threads unmapping at once (default 1 for every point; then
    ``contention`` is not identified and the summary says so). ``params_``: ``base_ns``,
    ``per_vcpu_ns``, ``contention`` (fixed at 0 for ``kind="linear"``).
    """

    label = "Shootdown"
    x_name, y_name = "receiving VCPUs (V - 1)", "unmap cost"
    default_units = ("VCPUs", "ns")
    parameters = (
        Parameter("base_ns", "ns", "cost of an unmap without IPIs (hypercall, PTE update)"),
        Parameter("per_vcpu_ns", "ns/VCPU", "cost per dom0 VCPU that must take the flush IPI"),
        Parameter("contention", "1", "relative growth of the IPI part per extra concurrent unmapper"),
    )
    function = staticmethod(unmap_ns)

    def _domain_error(self, x):
        # V = 0 is a valid point: no other CPU to interrupt (e.g. remote CPUs k = 0 measured here).
        return (domain_message("dom0_vcpus", x[0], x[0] >= 0, ">= 0")
                or domain_message("unmappers", x[1], x[1] >= 1, ">= 1"))

    def __init__(self, *, kind: str = "contention", **settings):
        super().__init__(**settings)
        self.kind = kind

    def _implied_fixed(self):
        if self.kind not in ("linear", "contention"):
            raise UsageError(f"ShootdownModel kind={self.kind!r}: expected 'linear' or 'contention'")
        return {"contention": 0.0} if self.kind == "linear" else {}

    def _prepare_x(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = np.vstack([x, np.ones_like(x)])
        return x

    def fit(self, dom0_vcpus, unmap_ns, unmappers=None):
        """Fit unmap cost (ns) vs dom0 VCPUs (and concurrent unmappers); returns self."""
        vcpus = np.asarray(dom0_vcpus, dtype=float)
        m = np.ones_like(vcpus) if unmappers is None else np.asarray(unmappers, dtype=float)
        if m.shape != vcpus.shape:
            raise ModelFitError(f"Shootdown fit: expected unmappers of the same length as "
                                f"dom0_vcpus ({vcpus.size}), found {m.size}")
        return super().fit(np.vstack([vcpus, m]), unmap_ns)

    def guess(self, x, y):
        slope, intercept = np.polyfit(x[0], y, 1) if np.ptp(x[0]) > 0 else (y.mean() / x[0].mean(), 0)
        return {"base_ns": max(float(intercept), 0.0), "per_vcpu_ns": max(float(slope), 1e-3),
                "contention": 0.1}

    def predict(self, dom0_vcpus, unmappers=1, **overrides):
        """Cost of one unmap in ns at the given VCPU count(s) and concurrent unmappers."""
        vcpus = np.asarray(dom0_vcpus, dtype=float)
        m = np.broadcast_to(np.asarray(unmappers, dtype=float), vcpus.shape)
        return self._evaluate(np.stack([vcpus, m]), self._values(overrides))

    def scaling_params(self, *, dom0_vcpus, service_ns, unmaps_per_io=1, **overrides) -> dict:
        """``ShootdownScaling`` parameters implied at ``dom0_vcpus`` = V: flush_ns = unmaps_per_io x
        (base_ns + per_vcpu_ns (V - 1)) and contention_ns = unmaps_per_io x per_vcpu_ns (V - 1)
        contention, so that T(N) = service_ns + N unmaps_per_io unmap_ns(V - 1, m=N): the V - 1
        receiving VCPUs of Xen's flush_area_mask (module docstring)."""
        v = self._values(overrides)
        ipi_ns = v["per_vcpu_ns"] * receiving_vcpus(dom0_vcpus)
        return {"service_ns": service_ns, "flush_ns": unmaps_per_io * (v["base_ns"] + ipi_ns),
                "contention_ns": unmaps_per_io * ipi_ns * v["contention"]}

    def throughput(self, n_guests, *, dom0_vcpus, service_ns, unmaps_per_io=1, **overrides):
        """Total IOPS of ``n_guests`` under the stall assumptions in the module docstring, with
        ``unmaps_per_io`` flushes per I/O each costing unmap_ns(dom0_vcpus, unmappers=N)."""
        return shootdown_iops(n_guests, **self.scaling_params(
            dom0_vcpus=dom0_vcpus, service_ns=service_ns, unmaps_per_io=unmaps_per_io, **overrides))


class ShootdownScaling(CurveModel):
    """The shootdown model's total IOPS vs guests (``shootdown_iops``), fitted to a scaling curve.

    ``fit(n_guests, total_iops)``. ``params_``: ``service_ns`` (non-flush dom0 time per I/O),
    ``flush_ns`` (stalling flush time per I/O at one guest), ``contention_ns`` (added stalling
    time per I/O per pair of concurrent guests); all ns. ``contention()`` = contention_ns /
    flush_ns, the per-unmapper relative growth of ``ShootdownModel``.
    """

    label = "ShootdownScaling"
    x_name, y_name = "guests", "total throughput"
    default_units = ("guests", "IOPS")
    parameters = (
        Parameter("service_ns", "ns", "dom0 time per I/O that is not a stalling flush"),
        Parameter("flush_ns", "ns", "stalling TLB-flush time per I/O with one guest"),
        Parameter("contention_ns", "ns", "stalling time added per I/O per pair of concurrent guests"),
    )
    function = staticmethod(shootdown_iops)

    def _domain_error(self, x):
        return domain_message("guests", x, x > 0, "> 0")

    def guess(self, x, y):
        """From T(N) = 1e9 N / X = service + (flush - contention_ns) N + contention_ns N^2,
        a quadratic fitted by linear least squares; a flat split of the per-I/O time otherwise."""
        coef = _quadratic_coefficients(x, NS_PER_S * x / np.where(y > 0, y, np.nan))
        per_io_ns = NS_PER_S / float(np.max(y / x))
        if coef is None:
            return {"service_ns": 0.9 * per_io_ns, "flush_ns": 0.1 * per_io_ns, "contention_ns": 0.0}
        a, b, c = coef
        floor = 1e-3 * per_io_ns
        return {"service_ns": max(a, floor), "flush_ns": max(b + c, floor), "contention_ns": max(c, floor)}

    def peak(self, **overrides) -> tuple[float, float]:
        """(N*, X(N*)) with N* = sqrt(service_ns / contention_ns); (inf, 1e9 / flush_ns) without
        contention (the saturation level)."""
        v = self._values(overrides)
        if v["contention_ns"] <= 0:
            return math.inf, NS_PER_S / v["flush_ns"] if v["flush_ns"] > 0 else math.inf
        n_star = math.sqrt(v["service_ns"] / v["contention_ns"])
        return n_star, float(shootdown_iops(n_star, **v))

    def contention(self, **overrides) -> float:
        """contention_ns / flush_ns: relative growth of a flush per extra concurrent unmapper (1)."""
        v = self._values(overrides)
        return v["contention_ns"] / v["flush_ns"] if v["flush_ns"] > 0 else math.inf

    def to_usl(self, **overrides) -> dict:
        """The equivalent USL parameters {lambda (IOPS/guest), sigma, kappa} (module docstring)."""
        v = self._values(overrides)
        per_io = v["service_ns"] + v["flush_ns"]
        return {"lambda": NS_PER_S / per_io, "sigma": v["flush_ns"] / per_io,
                "kappa": v["contention_ns"] / per_io}


def peak_calibrated(n_peak: float, x_peak_iops: float, flush_ns: float) -> dict:
    """ShootdownScaling parameters whose curve peaks at ``n_peak`` guests with ``x_peak_iops``
    total IOPS, for a chosen stalling flush time per I/O ``flush_ns``.

    The peak N* = sqrt(service_ns / contention_ns) pins contention_ns = service_ns / N*^2, and
    X(N*) fixes T(N*) = 1e9 N* / X* = service_ns (2 - 1/N*) + flush_ns N*. Feasible (service_ns
    >= 0) only for flush_ns <= 1e9 / X*, the flush budget per I/O; raises UsageError beyond it.
    """
    per_io_ns = NS_PER_S * n_peak / x_peak_iops
    budget_ns = per_io_ns / n_peak
    if not 0 <= flush_ns <= budget_ns:
        raise UsageError(f"flush_ns={flush_ns:g}: expected 0..{budget_ns:.6g} ns, the flush budget per "
                         f"I/O of a peak of {x_peak_iops:g} IOPS at {n_peak:g} guests")
    service_ns = (per_io_ns - flush_ns * n_peak) / (2 - 1 / n_peak)
    return {"service_ns": service_ns, "flush_ns": flush_ns, "contention_ns": service_ns / n_peak**2}
