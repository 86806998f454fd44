"""analysis.xen.grants.frontend_compiled: the coupled 3.11+ loop in numba equals the Python reference."""

from __future__ import annotations

import pytest

from analysis.ingest.trace import read_trace
from analysis.xen.grants.blkfront import blkif_from_requests
from analysis.xen.grants.copy import GrantCopy
from analysis.xen.grants.frontend import simulate_blkif
from analysis.xen.grants.policies import LinuxLru, NonPersistent, PersistentArray, PersistentTree
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture

POLICIES = [PersistentArray(cap=200), PersistentTree(cap=500, fallback="gref"),
            PersistentTree(cap=300, fallback="request"), NonPersistent(), GrantCopy(), LinuxLru(cap=100000)]


def _same(python, compiled):
    assert (python.trace.grefs == compiled.trace.grefs).all()
    assert python.per_request.keys() == compiled.per_request.keys()
    for key, values in python.per_request.items():
        assert (values == compiled.per_request[key]).all(), key


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"{p.name}-{getattr(p, 'cap', '')}-{getattr(p, 'fallback', '')}")
@pytest.mark.parametrize(("segments", "queues", "slots"), [(1, 1, 8), (11, 3, 8), (32, 2, 32), (600, 1, 4)])
def test_seeded_streams_give_every_counter_and_gref_of_the_reference(policy, segments, queues, slots):
    runs = [simulate_blkif(1200, policy, segments=segments, queues=queues, slots=slots, seed=5, engine=engine)
            for engine in ("python", "compiled")]
    _same(*runs)


@pytest.mark.parametrize("policy", POLICIES[:5], ids=lambda p: p.name)
def test_a_recorded_trace_gives_every_counter_and_gref_of_the_reference(recorded_trace, policy):
    table = read_trace(recorded_trace.lat_log, "fio-lat-log")
    runs = [blkif_from_requests(table, policy, max_segments=32, slots=32, queues=2, engine=engine)
            for engine in ("python", "compiled")]
    assert runs[0].per_request["indirect_pages"].sum() > 0
    _same(*runs)


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^engine: expected one of python, compiled, found 'c'"):
        simulate_blkif(10, NonPersistent(), engine="c")
