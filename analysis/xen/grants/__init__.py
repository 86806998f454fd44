"""Grant-store simulator (issue 7): workloads, blkback's grant policies, their costs, simulated data sets.

Stages: :mod:`~analysis.xen.grants.workloads` (seeded request traces) -> :mod:`~analysis.xen.grants.policies`
(counts per request) -> :mod:`~analysis.xen.grants.costs` (service time, throughput) ->
:mod:`~analysis.simulated.grants` (the files under ``data/simulated/``).
"""

from analysis.xen.grants.costs import Costs, dom0_ns, guest_ns, service_ns_per_request, throughput_iops, with_costs
from analysis.xen.grants.policies import (
    POLICIES,
    STATUS_NAMES,
    FailPastLimit,
    LinuxLru,
    Lru,
    NonPersistent,
    PersistentArray,
    PersistentTree,
    Result,
    describe,
    make_policy,
    simulate,
)
from analysis.xen.grants.workloads import WORKLOADS, Trace, fresh, generate, phase, pool, working_set

__all__ = [
    "Costs", "dom0_ns", "guest_ns", "service_ns_per_request", "throughput_iops", "with_costs",
    "POLICIES", "STATUS_NAMES", "FailPastLimit", "LinuxLru", "Lru", "NonPersistent", "PersistentArray",
    "PersistentTree", "Result", "describe", "make_policy", "simulate",
    "WORKLOADS", "Trace", "fresh", "generate", "phase", "pool", "working_set",
]
