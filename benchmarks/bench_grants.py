"""Speed of the grant-store simulator: requests/second per policy against a bare loop over the trace.

Baseline (the floor): a Python loop over the same trace that only reads each request's grefs, as
every policy must. Both run here, side by side, on the same 1 million request trace (blkfront's
pool workload, one-page ring, 11 segments, cap 352 pages), best of ``REPEATS`` runs.
Run: ``.venv/bin/python benchmarks/bench_grants.py [requests]`` (``make bench`` runs it).
"""

from __future__ import annotations

import sys
import time

from analysis.xen.grants import FailPastLimit, LinuxLru, Lru, NonPersistent, PersistentArray, PersistentTree, pool, simulate
from timing import best_of

REPEATS = 2


def _floor(trace) -> None:
    offs, grefs = trace.offsets.tolist(), trace.grefs.tolist()
    for k in range(trace.requests):
        for _ in grefs[offs[k]:offs[k + 1]]:
            pass


def _best(fn) -> float:
    return best_of(fn, REPEATS)


def main(requests: int = 1_000_000) -> None:
    start = time.perf_counter()
    trace = pool(requests, seed=1)
    print(f"trace: pool, {requests} requests, {int(trace.segments.sum())} segments, generated in {time.perf_counter() - start:.2f} s")
    floor_s = _best(lambda: _floor(trace))
    print(f"{'policy':<38}{'seconds':>9}{'requests/s':>14}{'x floor':>9}")
    print(f"{'bare loop reading the trace':<38}{floor_s:>9.2f}{requests / floor_s:>14,.0f}{1.0:>9.2f}")
    for policy in (NonPersistent(), PersistentArray(cap=353), PersistentTree(cap=352, fallback="gref"),
                   FailPastLimit(cap=352), Lru(cap=352, m=2), LinuxLru(cap=352)):
        seconds = _best(lambda: simulate(trace, policy))
        name = policy.name + (" (cap 353: all hits)" if isinstance(policy, PersistentArray) else "")
        print(f"{name:<38}{seconds:>9.2f}{requests / seconds:>14,.0f}{seconds / floor_s:>9.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
