"""Time and CPU budgets per request: what a rate of I/O leaves for each operation."""

from __future__ import annotations

from analysis import constants as C


def budget_ns_per_request(iops: float, *, workers: int = 1) -> float:
    """Time one request may take, in ns, when `workers` threads together serve `iops` requests/s.

    budget = workers / iops (s); e.g. 650,000 IOPS through one blkback thread leaves 1.54 us, through
    5 (one per guest's device, as in the seed's peak) 7.7 us.
    """
    return workers / iops * 1e9


def cpu_seconds_per_second(cost_ns, rate_per_s: float):
    """CPU time spent per second of wall time, in s/s (1.0 = one CPU busy), when an operation costing
    cost_ns runs rate_per_s times a second; e.g. a 100 ns copy at 650,000 IOPS uses 0.065 CPU."""
    return cost_ns * (1e-9 * rate_per_s)


def seed_unmap_growth_per_cpu_ns(*, dom0_cpus_busy: int | None = None) -> float:
    """Growth of the time per I/O, in ns per extra guest, that the seed's two points imply.

    The seed reports 650,000 IOPS at 5 guests and 400,000 at 10 (analysis.constants SEED_*). If each
    extra guest adds one more dom0 CPU that every unmap must shoot down, and the unmaps are the
    bottleneck, the time per I/O t(G) = 1/X(G) (serialized unmaps, dom0_cpus_busy=None) or
    dom0_cpus_busy/X(G) (that many dom0 CPUs all busy) grows by
        (t(10) - t(5)) / (10 - 5)
    per extra guest. The two cases bracket what the seed's curve implies per extra CPU.
    """
    workers = 1 if dom0_cpus_busy is None else dom0_cpus_busy
    t_peak = budget_ns_per_request(C.SEED_PEAK_IOPS, workers=workers)
    t_decline = budget_ns_per_request(C.SEED_IOPS_AT_DECLINE, workers=workers)
    return (t_decline - t_peak) / (C.SEED_GUESTS_AT_DECLINE - C.SEED_PEAK_GUESTS)


