"""Collapse of a spinning lock: the birth-death chain of Boyd-Wickizer et al., for the flush lock.

Source: S. Boyd-Wickizer, M. F. Kaashoek, R. Morris, N. Zeldovich, "Non-scalable locks are
dangerous", Proceedings of the Linux Symposium 2012, section 3 (the Markov model of a ticket
lock). State k = guests whose request is waiting for or holding the lock (0..N). A guest outside
the lock arrives after an exponential time ``think_us``, so

    arrival rate in state k:   a_k = (N - k) / think_us
    service time in state k:   s_k = hold_us + handoff_us * k      (service rate 1 / s_k)

where ``handoff_us`` is the extra time each waiting core adds to one handoff: on release every
spinner re-reads the lock's cache line, and the next owner gets it only after those transfers
(the paper's "c" per waiting core, grounded in its cache-line measurements). The stationary
distribution is exact (detailed balance of a birth-death chain):

    pi_k = pi_0 prod_{i=0}^{k-1} a_i s_{i+1},        X = sum_{k>=1} pi_k / s_k   [flushes/us; x 1e6 for /s]

With one flush per request (see :mod:`analysis.models.mva` for the Xen and Linux lines: one
``gnttab_unmap_refs`` per request, at most 32 unmaps per flush, the global ``flush_lock`` of
xen/arch/x86/smp.c:230) X is the total IOPS. The chain needs only that a handoff costs more
the more CPUs spin on the lock's one cache line, which holds for any spinlock whose waiters all
spin on the same word (the paper models the Linux ticket lock).

The hold time depends on the dom0 CPUs P as in the MVA model: hold_us = hold_base_us +
hold_per_cpu_us * (P - 1). Unlike the MVA plateau, X(N) here rises, peaks and falls: past the
peak, more waiters make every handoff slower (the paper's "collapse").
"""

from __future__ import annotations

import numpy as np

from analysis.models.base import Parameter
from analysis.models.mva import US_PER_S, _GuestsCpusModel, hold_time_us


def chain_distribution(n_guests: int, *, think_us: float, hold_us: float, handoff_us: float) -> np.ndarray:
    """Stationary probabilities pi_0..pi_N of the chain (module docstring) for N guests."""
    k = np.arange(1, n_guests + 1, dtype=float)
    log_terms = np.log((n_guests - k + 1) / think_us) + np.log(hold_us + handoff_us * k)
    log_pi = np.concatenate([[0.0], np.cumsum(log_terms)])
    log_pi -= log_pi.max()
    pi = np.exp(log_pi)
    return pi / pi.sum()


def collapse_iops(x, *, think_us, hold_base_us, hold_per_cpu_us, handoff_us):
    """Total requests/s of the lock-collapse chain for N guests on P dom0 CPUs.

    x: array of shape (2, n): guests N (integer, >= 1) and dom0 CPUs P (integer, >= 1).
    think_us: mean time a guest's request spends outside the flush lock,, us.
    hold_base_us: flush-lock hold time with no remote target CPU,, us.
    hold_per_cpu_us: hold time added per remote target CPU (P - 1 targets),, us.
    handoff_us: time added to each lock handoff per guest waiting or holding,, us.
    """
    guests, cpus = np.asarray(x, dtype=float)
    n = np.round(guests)[:, None]
    hold = hold_time_us(cpus, hold_base_us=hold_base_us, hold_per_cpu_us=hold_per_cpu_us)[:, None]
    k = np.arange(1, int(n.max()) + 1, dtype=float)[None, :]
    live = k <= n
    service = hold + handoff_us * k
    with np.errstate(divide="ignore", invalid="ignore"):
        # log of a_{k-1} s_k for k = 1..N (the chain_distribution product), -inf beyond N
        log_terms = np.where(live, np.log(np.where(live, n - k + 1, 1.0) / think_us) + np.log(service), -np.inf)
    log_pi = np.concatenate([np.zeros_like(n), np.cumsum(log_terms, axis=1)], axis=1)
    log_pi -= log_pi.max(axis=1, keepdims=True)
    pi = np.exp(log_pi)
    pi /= pi.sum(axis=1, keepdims=True)
    return US_PER_S * np.sum(pi[:, 1:] / service, axis=1)


class LockCollapse(_GuestsCpusModel):
    """Boyd-Wickizer et al.'s lock-collapse chain for the flush lock (module docstring), fitted
    to total IOPS vs guests.

    ``fit(guests, iops)`` with the ``dom0_cpus`` setting (default 24) or x of shape (2, n). At one
    CPU count hold_base_us and hold_per_cpu_us are one number: fix ``hold_per_cpu_us`` (the CLI uses
    the published middle value, ``analysis.models.flush_path.PUBLISHED_MID``).
    """

    label = "Lock collapse"
    parameters = (
        Parameter("think_us", "us", "mean time per request outside the flush lock (guest, I/O, blkback)"),
        Parameter("hold_base_us", "us", "flush-lock hold time with no remote target CPU", 0.0, 1e3),
        Parameter("hold_per_cpu_us", "us", "flush-lock hold time added per remote target CPU", 0.0, 100.0),
        Parameter("handoff_us", "us", "time added to each lock handoff per waiting guest", 0.0, 100.0),
    )
    function = staticmethod(collapse_iops)

    def guess(self, x, y):
        """The best point bounds the hold time (X <= 1 / hold); the smallest load gives the time
        per request; the fall after the peak gives the handoff cost."""
        guests, cpus = x
        fixed = self.fixed or {}
        i_peak = int(np.argmax(y))
        hold_total = 0.9 * US_PER_S / float(y[i_peak])
        per_cpu = fixed.get("hold_per_cpu_us", 0.0)
        base = max(hold_total - per_cpu * (float(np.median(cpus)) - 1), 1e-3)
        i = int(np.argmin(guests))
        think = max(US_PER_S * guests[i] / y[i] - hold_total, 1e-3)
        i_last = int(np.argmax(guests))
        handoff = 1e-3 * hold_total
        if guests[i_last] > guests[i_peak] and y[i_last] < y[i_peak]:
            handoff = max((US_PER_S / y[i_last] - hold_total) / guests[i_last], handoff)
        return {"think_us": think, "hold_base_us": base, "hold_per_cpu_us": per_cpu, "handoff_us": handoff}

    def peak(self, dom0_cpus=None, n_max: int = 256, **overrides) -> tuple[int, float]:
        """(N*, X(N*)): the whole number of guests in 1..n_max with the most IOPS, and those IOPS."""
        n = np.arange(1, n_max + 1, dtype=float)
        x = self.predict(n, dom0_cpus=dom0_cpus, **overrides)
        i = int(np.argmax(x))
        return int(n[i]), float(x[i])
