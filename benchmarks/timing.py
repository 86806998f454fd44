"""Timing helpers shared by the benchmark scripts (imported from the benchmarks folder)."""

from __future__ import annotations

import time


def best_of(fn, repeats: int) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
