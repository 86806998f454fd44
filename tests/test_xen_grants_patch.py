"""Issue 13, item 5: the 2012 patch's BUG_ON is reachable by a guest; the simulator reports a crash."""

from analysis.constants import PATCH_2012_MAX_PERSISTENT_GRANTS
from analysis.xen.grants import PersistentArray, simulate
from analysis.xen.grants.backends import run
from analysis.xen.grants.patch import Patch2012, bug_on_trace


def test_one_short_request_then_full_fresh_requests_crash_dom0_at_2816():
    trace = bug_on_trace(extra_requests=3)
    segs = trace.segments
    assert segs[0] == 1 and set(segs[1:]) == {11}
    # After the 1-segment request and 255 full ones the array holds 2806 < 2816 grants.
    assert 1 + 255 * 11 == int(segs[:256].sum()) == 2806 < PATCH_2012_MAX_PERSISTENT_GRANTS
    result = run(trace, Patch2012())
    frame = result.frame()
    totals = result.totals()
    assert totals["crashed_at_request"] == 256
    assert (frame["status"][:256] == "persistent").all()
    assert (frame["status"][256:] == "crashed").all()
    # The crashing request passed the check, mapped 10 grants (2816) and the 11th hit the BUG_ON.
    assert frame["maps"][256] == 10 and frame["resident_pages"][256] == PATCH_2012_MAX_PERSISTENT_GRANTS
    assert totals["crashed_requests"] == 4 and totals["fallback_requests"] == 0
    assert frame["maps"][257:].sum() == 0


def test_the_same_trace_does_not_crash_the_fallback_model():
    trace = bug_on_trace()
    totals = simulate(trace, PersistentArray(cap=PATCH_2012_MAX_PERSISTENT_GRANTS)).totals()
    assert totals["fallback_requests"] == 3  # the crashing request and the two after it
    # Any cap: 1 + 11 = 12 = 22 - 11 + 1 grants pass the check and the third request crashes.
    assert run(bug_on_trace(cap=22, segments=11), Patch2012(cap=22)).totals()["crashed_at_request"] == 2


def test_full_requests_alone_fill_2816_exactly_and_fall_back_without_crashing():
    from analysis.xen.grants.workloads import fresh

    totals = run(fresh(300, segments=11, slots=1), Patch2012()).totals()
    assert totals["crashed_requests"] == 0 and totals["max_resident_pages"] == 2816
    assert totals["fallback_requests"] == 300 - 256
