"""The unmap flush path as a closed queueing network, solved by exact Mean Value Analysis.

N guests are N customers (one request in flight each). A request visits

1. a delay station, ``think_us``: the guest's own time, the ramdisk I/O and everything in dom0
   that holds neither the flush lock nor a dom0 CPU (pure delay: no queueing);
2. the dom0 CPUs, a station with ``dom0_cpus`` servers: blkback's CPU work per request,
   ``cpu_us`` (map, submit, complete, respond);
3. the global flush lock, one FCFS server whose hold time per flush is
   ``hold_us(P) = hold_base_us + hold_per_cpu_us * (P - 1)`` for P dom0 CPUs (P - 1 remote targets).

Why one lock for the whole host: Xen's x86 ``flush_area_mask`` takes ``spin_lock(&flush_lock)``
(xen/arch/x86/smp.c:230 at xen-project/xen 0772f7b8), sends the flush IPI to the target mask
(smp.c:235, ``send_IPI_mask``; the physical-mode sender loops over the targets, smp.c:174) and
spins until every target has cleared its bit (smp.c:236) before ``spin_unlock`` (smp.c:238). The
local CPU is flushed locally and cleared from the target mask (smp.c:232): P - 1 remote targets.
Each target runs ``smp_invalidate_interrupt`` (smp.c:209-219), the handler time ``handler_us``.
One flush per request: blkback unmaps all of a request's grants in one ``gnttab_unmap_refs``
call (Linux drivers/block/xen-blkback/blkback.c ``xen_blkbk_unmap``, v3.6), and Xen flushes
once per ``GNTTAB_UNMAP_BATCH_SIZE`` = 32 unmap operations (xen/common/grant_table.c:245 at blob
beb6b2d40d; ``gnttab_unmap_grant_ref`` flushes the unmapping domain's dirty CPU mask after each
batch), more than the 11 segments of a request.

The handlers take time from every dom0 CPU: with total throughput X flushes/s each CPU loses
the share ``u = X * handler_us`` of its time, so blkback's work takes ``cpu_us / (1 - u)`` there
(the shadow-server treatment of preemptive interrupt work: Sevcik 1977, "Priority scheduling
disciplines in queueing network models of computer systems", IFIP Congress; Lazowska et al.
1984, *Quantitative System Performance*, sec. 9.3). X depends on u; at each population step the
two equations give a quadratic in X, solved exactly (``_mva_curve``).

Exact MVA (Reiser & Lavenberg 1980, "Mean-value analysis of closed multichain queuing
networks", J. ACM 27(2), eqs. 2.1-2.3; load-dependent stations with marginal probabilities,
Lazowska et al. 1984, sec. 20.4): for n = 1..N,

    R_lock(n) = S (1 + Q_lock(n - 1))
    R_cpu(n)  = sum_j j / mu(j) p_cpu(j - 1 | n - 1),  mu(j) = min(j, P) / D_cpu
    X(n)      = n / (think_us + R_cpu(n) + R_lock(n))
    Q_lock(n) = X(n) R_lock(n);  p_cpu(j | n) = X(n) / mu(j) p_cpu(j - 1 | n - 1)

Property used by notebook 12: in this network X(N) never decreases with N (it saturates at
1 / S); it cannot produce a collapse, only a plateau.
"""

from __future__ import annotations

import numpy as np

from analysis.errors import UsageError
from analysis.models.base import CurveModel, Parameter, domain_message

#: Microseconds per second: parameters are in us (well scaled for the fits), throughput in 1/s.
US_PER_S = 1e6

def hold_time_us(dom0_cpus, *, hold_base_us, hold_per_cpu_us):
    """Flush-lock hold time in us: hold_base_us + hold_per_cpu_us * (P - 1) for P dom0 CPUs."""
    return hold_base_us + hold_per_cpu_us * (np.asarray(dom0_cpus, dtype=float) - 1)


def _mva_curve(n_max: int, cpus: int, think_us: float, cpu_us: float, hold_us: float,
               handler_us: float) -> np.ndarray:
    """X(n) for n = 1..n_max (requests/us) by exact MVA with the handler share solved exactly.

    With m(n) = sum_j j / min(j, P) p_cpu(j - 1 | n - 1) the CPU residence is
    R_cpu = m cpu_us / (1 - k X), k = handler_us (P - 1) / P the CPU share lost per flush/s, so
    X (A + m cpu_us / (1 - k X)) = n with A = think_us + R_lock: the quadratic
    k A X^2 - (A + m cpu_us + n k) X + n = 0, whose smaller root keeps k X < 1."""
    out = np.empty(n_max)
    q_lock = 0.0
    p_cpu = np.array([1.0])  # p_cpu(j | 0): the empty network
    j_all = np.arange(1, n_max + 1, dtype=float)
    k = handler_us * (cpus - 1) / cpus
    for n in range(1, n_max + 1):
        servers = np.minimum(j_all[:n], cpus)
        visits = j_all[:n] / servers * p_cpu[:n]
        m = float(visits.sum())
        r_lock = hold_us * (1 + q_lock)
        a = think_us + r_lock
        b = a + m * cpu_us + n * k
        if k > 0:
            x = (b - np.sqrt(max(b * b - 4 * k * a * n, 0.0))) / (2 * k * a) if a > 0 else n / b
        else:
            x = n / b
        demand = cpu_us / (1 - k * x) if k > 0 else cpu_us
        out[n - 1] = x
        q_lock = x * r_lock
        tail = x * demand / servers * p_cpu[:n]
        p_cpu = np.concatenate([[max(1.0 - tail.sum(), 0.0)], tail])
    return out


def mva_iops(x, *, think_us, cpu_us, hold_base_us, hold_per_cpu_us, handler_us):
    """Total requests/s of N guests on P dom0 CPUs by exact MVA (module docstring).

    x: array of shape (2, n): guests N (integer, >= 1) and dom0 CPUs P (integer, >= 1).
    think_us: time per request outside the lock and the dom0 CPUs (guest, I/O),, us.
    cpu_us: blkback CPU time per request on a dom0 CPU,, us.
    hold_base_us: flush-lock hold time with no remote target (lock, local flush, IPI latency),, us.
    hold_per_cpu_us: hold time added per remote target CPU (one ICR write and its ack),, us.
    handler_us: flush-IPI handler time on each remote target CPU per flush,, us.
    """
    guests, cpus = np.asarray(x, dtype=float)
    out = np.empty(guests.shape)
    for p in np.unique(cpus):
        sel = cpus == p
        n_max = int(guests[sel].max())
        curve = _mva_curve(n_max, int(p), think_us, cpu_us,
                           float(hold_time_us(p, hold_base_us=hold_base_us, hold_per_cpu_us=hold_per_cpu_us)),
                           handler_us)
        out[sel] = curve[guests[sel].astype(int) - 1]
    return out * US_PER_S


class _GuestsCpusModel(CurveModel):
    """Shared by the flush-path models: x is guests (1-D, with the ``dom0_cpus`` setting) or a
    (2, n) array of guests and dom0 CPUs."""

    x_name, y_name = "guests", "total throughput"
    default_units = ("guests", "IOPS")

    def __init__(self, *, dom0_cpus: int = 24, **settings):
        super().__init__(**settings)
        self.dom0_cpus = dom0_cpus

    def _prepare_x(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            if not (isinstance(self.dom0_cpus, (int, np.integer)) and self.dom0_cpus >= 1):
                raise UsageError(f"dom0_cpus={self.dom0_cpus!r}: expected an integer >= 1")
            x = np.vstack([x, np.full_like(x, float(self.dom0_cpus))])
        return x

    def _domain_error(self, x):
        guests, cpus = x
        integral = np.isclose(guests, np.round(guests)) & (guests >= 1)
        return (domain_message("guests", guests, integral, "a whole number >= 1")
                or domain_message("dom0_cpus", cpus, np.isclose(cpus, np.round(cpus)) & (cpus >= 1),
                                  "a whole number >= 1"))

    def predict(self, guests, dom0_cpus=None, **overrides):
        """Total IOPS at ``guests`` (and ``dom0_cpus``, default the setting)."""
        guests = np.asarray(guests, dtype=float)
        cpus = self.dom0_cpus if dom0_cpus is None else dom0_cpus
        x = np.vstack([guests.ravel(), np.broadcast_to(np.asarray(cpus, dtype=float), guests.shape).ravel()])
        return self._evaluate(x, self._values(overrides)).reshape(guests.shape)


class FlushMVA(_GuestsCpusModel):
    """Closed queueing model of the flush path (exact MVA; formula and sources in the module
    docstring), fitted to total IOPS vs guests.

    ``fit(guests, iops)`` with the ``dom0_cpus`` setting (default 24), or ``fit(x, iops)`` with x
    of shape (2, n) (guests, dom0 CPUs). At one CPU count only three combinations are identified
    (think_us, the CPU demand and the hold time): fix ``hold_per_cpu_us`` and ``handler_us``
    (``fixed={...}``, e.g. ``analysis.models.flush_path.PUBLISHED_MID``), as the CLI does.
    """

    label = "Flush-path MVA"
    parameters = (
        Parameter("think_us", "us", "time per request outside the flush lock and dom0 CPUs (guest, I/O)"),
        Parameter("cpu_us", "us", "blkback CPU time per request on one dom0 CPU"),
        Parameter("hold_base_us", "us", "flush-lock hold time with no remote target CPU", 0.0, 1e3),
        Parameter("hold_per_cpu_us", "us", "flush-lock hold time added per remote target CPU", 0.0, 100.0),
        Parameter("handler_us", "us", "flush-IPI handler time per remote target CPU per flush", 0.0, 100.0),
    )
    function = staticmethod(mva_iops)

    def guess(self, x, y):
        """Saturation gives the hold time (X <= 1/S), the smallest load the time per request."""
        guests, cpus = x
        fixed = self.fixed or {}
        hold_total = 0.8 * US_PER_S / float(np.max(y))
        per_cpu = fixed.get("hold_per_cpu_us", 0.0)
        base = max(hold_total - per_cpu * (float(np.median(cpus)) - 1), 1e-3)
        i = int(np.argmin(guests))
        per_request = US_PER_S * guests[i] / y[i]
        rest = max(per_request - hold_total, 1e-3)
        return {"think_us": 0.8 * rest, "cpu_us": 0.2 * rest, "hold_base_us": base,
                "hold_per_cpu_us": per_cpu, "handler_us": fixed.get("handler_us", 0.0)}

    def saturation(self, dom0_cpus=None, **overrides) -> float:
        """The plateau 1 / hold(P) in requests/s (the lock's capacity), P = ``dom0_cpus``."""
        v = self._values(overrides)
        p = self.dom0_cpus if dom0_cpus is None else dom0_cpus
        return US_PER_S / float(hold_time_us(p, hold_base_us=v["hold_base_us"], hold_per_cpu_us=v["hold_per_cpu_us"]))


def check_integer_guests(values, what: str) -> None:
    """UsageError unless every value is a whole number >= 1 (the models are defined on them)."""
    arr = np.asarray(values, dtype=float)
    bad = ~(np.isclose(arr, np.round(arr)) & (arr >= 1))
    if bad.any():
        raise UsageError(f"{what}: expected whole numbers of guests >= 1, found {arr[bad][0]:g}")


