"""Issue 13, item 4: the 2012 rule's fallback share is a warm-up then 100 %, and a 2012 blkfront
never reaches the patch's own cap."""

import numpy as np
import pytest

from analysis.constants import PATCH_2012_MAX_PERSISTENT_GRANTS
from analysis.xen.grants import PersistentArray, simulate
from analysis.xen.grants.fallback import (
    frontend_2012_falls_back,
    harmonic,
    steady_state_fallback_share,
    warmup_requests,
    warmup_segments,
)
from analysis.xen.grants.workloads import pool, working_set


def _first_fallback(w, cap, seed, requests=800):
    status = simulate(working_set(requests, working_set_pages=w, seed=seed), PersistentArray(cap=cap)).frame()["status"]
    fell = np.flatnonzero(status.to_numpy() == "fallback")
    return fell, len(status)


@pytest.mark.parametrize("w, cap", [(352, 352), (440, 352)])
def test_warm_up_is_a_coupon_collector_and_then_everything_falls_back(w, cap):
    firsts = []
    for seed in range(24):
        fell, n = _first_fallback(w, cap, seed)
        assert len(fell) and np.array_equal(fell, np.arange(fell[0], n))  # 100 % from then on, for ever
        firsts.append(fell[0])
    # The array is full after about W (H(W) - H(W - cap)) segments; the request that completes it is
    # still persistent, the next one falls back.
    expected = warmup_requests(w, cap) + 1
    assert np.mean(firsts) == pytest.approx(expected, rel=0.12)
    assert steady_state_fallback_share(w, cap) == 1.0


def test_a_working_set_below_the_cap_never_falls_back():
    fell, _ = _first_fallback(300, 352, seed=1)
    assert len(fell) == 0
    assert warmup_segments(300, 352) == float("inf") and steady_state_fallback_share(300, 352) == 0.0


def test_coupon_collector_formula():
    assert harmonic(1) == 1.0 and harmonic(3) == pytest.approx(11 / 6)
    assert warmup_segments(352, 352) == pytest.approx(352 * harmonic(352))
    assert warmup_segments(10, 1) == pytest.approx(1.0)  # the first page always is a new one


def test_a_2012_blkfront_never_reaches_the_patchs_own_cap():
    assert not frontend_2012_falls_back(PATCH_2012_MAX_PERSISTENT_GRANTS)
    assert frontend_2012_falls_back(352)
    totals = simulate(pool(20000, min_segments=1, seed=5), PersistentArray(cap=PATCH_2012_MAX_PERSISTENT_GRANTS)).totals()
    assert totals["fallback_requests"] == 0 and totals["max_resident_pages"] <= 352
