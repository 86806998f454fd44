"""Every backend mode the simulator knows, by CLI name, and one entry point that runs any of them.

:data:`policies.POLICIES` holds the blkback stores of 2012-2018; this adds grant copy
(:class:`~analysis.xen.grants.copy.GrantCopy`) and the 2012 patch exactly as posted, BUG_ON
included (:class:`~analysis.xen.grants.patch.Patch2012`). :func:`run` dispatches a trace to the
right simulator; :func:`analysis.xen.grants.frontend.simulate_blkif` couples the 3.11 frontend.
"""

from __future__ import annotations

from analysis.errors import UsageError
from analysis.xen.grants.copy import GrantCopy, simulate_copy
from analysis.xen.grants.patch import Patch2012, simulate_patch
from analysis.xen.grants.policies import POLICIES, simulate
from analysis.xen.grants.workloads import Trace

ALL_POLICIES = {**POLICIES, GrantCopy.name: GrantCopy, Patch2012.name: Patch2012}


def make(name: str, **settings):
    """A policy of :data:`ALL_POLICIES` by name with keyword settings; unknown names raise UsageError."""
    if name not in ALL_POLICIES:
        raise UsageError(f"policy: expected one of {', '.join(ALL_POLICIES)}, found {name!r}")
    cls = ALL_POLICIES[name]
    allowed = set(cls.__dataclass_fields__)
    return cls(**{k: v for k, v in settings.items() if k in allowed and v is not None})


def run(trace: Trace, policy, *, events: bool = False):
    """Simulate ``policy`` over ``trace`` with the simulator that models it."""
    if isinstance(policy, GrantCopy):
        return simulate_copy(trace, policy, events=events)
    if isinstance(policy, Patch2012):
        return simulate_patch(trace, policy, events=events)
    return simulate(trace, policy, events=events)
