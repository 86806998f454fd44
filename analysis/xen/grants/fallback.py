"""The 2012 rule's fallback, in closed form: warm-up length and steady state.

Under the 2012 patch's rule (``use_pers_gnts = pers_gnt_c < cap``, checked before the lookup) the
array only grows; once it holds ``cap`` grants every later request falls back, for ever, even when
all its grefs are in the array (it is mapped again, unmapped at completion, and blkfront still
copies it: worse than either mode). So "x % of requests fall back" over a trace measures the trace's
length, not the rule: the numbers that describe the rule are the steady-state share (0 or 1) and
how long the array takes to fill.

For a working set of W pages touched uniformly at random, the array fills after the first
``cap`` distinct pages are seen: a coupon-collector wait of W (H(W) - H(W - cap)) segments in
expectation (H = harmonic numbers; W H(W) segments when cap = W). A working set below the cap
never fills it. The 2012 frontend's pool is at most slots x segments = 352 pages
(:func:`analysis.xen.grants.frontend.reachable_grants_2012`), so with the patch's own cap of
256 x 11 = 2816 a 2012 blkfront never falls back at all.
"""

from __future__ import annotations

import math

from analysis.constants import PATCH_2012_MAX_PERSISTENT_GRANTS, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.xen.grants.frontend import reachable_grants_2012
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS


def harmonic(n: int) -> float:
    """H(n) = 1 + 1/2 + ... + 1/n (H(0) = 0)."""
    return math.fsum(1.0 / k for k in range(1, n + 1))


def _check(working_set_pages: int, cap: int) -> None:
    for name, value in (("working_set_pages", working_set_pages), ("cap", cap)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{name}: expected a positive integer, found {value!r}")


def warmup_segments(working_set_pages: int, cap: int) -> float:
    """Expected segments until the array holds ``cap`` grants, pages drawn uniformly from W.

    Coupon collector: W (H(W) - H(W - cap)) for cap <= W (W H(W) at cap = W); inf for cap > W
    (the array never fills, nothing ever falls back).
    """
    _check(working_set_pages, cap)
    w = working_set_pages
    if cap > w:
        return math.inf
    return w * (harmonic(w) - harmonic(w - cap))


def warmup_requests(working_set_pages: int, cap: int, segments: int = SEGMENTS_PER_REQUEST) -> float:
    """:func:`warmup_segments` in requests of ``segments`` pages."""
    return warmup_segments(working_set_pages, cap) / segments


def steady_state_fallback_share(working_set_pages: int, cap: int) -> float:
    """Share of requests that fall back once the warm-up is over: 1.0 if W >= cap, else 0.0."""
    _check(working_set_pages, cap)
    return 1.0 if working_set_pages >= cap else 0.0


def frontend_2012_falls_back(cap: int = PATCH_2012_MAX_PERSISTENT_GRANTS, slots: int = ONE_PAGE_SLOTS,
                             segments: int = SEGMENTS_PER_REQUEST) -> bool:
    """Can a 2012 blkfront ever fill the patch's array? Only if its pool (slots x segments) reaches cap."""
    return reachable_grants_2012(slots, segments) >= cap
