"""Speed of the grant policies: pure Python, numba-compiled and a C floor, side by side on one trace.

Trace: blkfront's pool workload (one-page ring, 32 in flight, 11 segments per request, LIFO free
list), the same arrays for all three. Per policy it prints segments per second for

- ``python``: ``simulate(trace, policy)``, the reference kernels (on the first ``PYTHON_REQUESTS``
  requests only: they are 30-100x slower);
- ``compiled``: ``simulate(trace, policy, engine="compiled")``, end to end (gref renumbering, the
  numba kernel, the vectorised totals);
- ``kernel``: the numba kernel alone, on the renumbered grefs;
- ``C floor``: the same loop in C (benchmarks/c/grant_policies.c, ``cc -O2``, called through
  ctypes) on the same renumbered grefs; its counts are checked equal to the kernel's;

and the ratio kernel / C (1.0 = as fast as C). Steady state is the best of ``REPEATS`` runs after a
warm-up call; the first-call compile time of every kernel is measured separately, in a fresh
process with an empty numba cache. Run: ``.venv/bin/python benchmarks/bench_trace_replay.py
[requests]`` (``make bench`` runs it). Report ratios, not absolute times: the machine is shared.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis.xen.grants import FailPastLimit, LinuxLru, Lru, NonPersistent, PersistentArray, PersistentTree, pool, simulate
from analysis.xen.grants import compiled
from analysis.xen.grants import policies as P
from timing import best_of

REPEATS = 3
PYTHON_REQUESTS = 100_000
HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
CAP = 352  # slots x segments: the pool's whole working set fits
POLICIES = (NonPersistent(), PersistentArray(cap=CAP + 1), PersistentTree(cap=CAP, fallback="gref"),
            FailPastLimit(cap=CAP), Lru(cap=CAP, m=2), LinuxLru(cap=CAP))
I64P = ctypes.POINTER(ctypes.c_int64)


def _build_c() -> ctypes.CDLL:
    WORK.mkdir(exist_ok=True)
    lib = WORK / "grant_policies.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(HERE / "c" / "grant_policies.c")], check=True)
    return ctypes.CDLL(str(lib))


def _p(a: np.ndarray):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double) if a.dtype == np.float64 else I64P)


def _kernel_args(trace, policy):
    """(numba kernel, C function name, positional args for numba, for C) on fresh output arrays."""
    ids, nid = compiled._dense_ids(trace.grefs)
    offs, done, times = trace.offsets, trace.complete_before.astype(np.int64), trace.time_us.astype(np.float64)
    out = P._empty_arrays(trace.requests)
    n = trace.requests
    if isinstance(policy, (PersistentArray, PersistentTree)):
        flags = (isinstance(policy, PersistentArray), policy.fallback == "request")
        cols = [out[k] for k in ("maps", "transient_maps", "lookup_comparisons", "resident_pages", "status")]
        return out, (compiled._capped, (offs, ids, nid, policy.cap, *flags, *cols)), \
            ("capped", (offs, n, ids, nid, policy.cap, *map(int, flags), *cols))
    if isinstance(policy, FailPastLimit):
        cols = [out[k] for k in ("maps", "lookup_comparisons", "resident_pages", "status")]
        return out, (compiled._fail, (offs, ids, nid, policy.cap, *cols)), \
            ("fail_past_limit", (offs, n, ids, nid, policy.cap, *cols))
    cols = [out[k] for k in P._RAW]
    if isinstance(policy, Lru):
        batch = max(1, policy.cap // policy.m)
        return out, (compiled._lru, (offs, ids, nid, done, policy.cap, batch, *cols)), \
            ("lru", (offs, n, ids, nid, done, policy.cap, batch, *cols))
    rest = (policy.cap, policy.interval_ms * 1000.0, policy.percent_clean, policy.unmap_batch_pages, False, 0.0)
    return out, (compiled._linux_lru, (offs, ids, nid, done, times, *rest, *cols)), \
        ("linux_lru", (offs, n, ids, nid, done, times, *rest, *cols))


def _call_c(lib, name, args):
    conv = []
    for a in args:
        if isinstance(a, np.ndarray):
            conv.append(_p(a))
        elif isinstance(a, float):
            conv.append(ctypes.c_double(a))
        else:
            conv.append(ctypes.c_int64(int(a)) if not isinstance(a, bool) else ctypes.c_int(int(a)))
    getattr(lib, name)(*conv)


def _best(fn) -> float:
    return best_of(fn, REPEATS)


def _fresh(out: dict) -> None:
    for a in out.values():
        a[:] = 0


def _compile_times() -> str:
    """First call of every kernel in a new process with an empty numba cache (seconds, printed there)."""
    code = ("import time\nt0 = time.perf_counter()\nfrom analysis.xen.grants import compiled, pool, simulate\n"
            "from analysis.xen.grants import PersistentArray, PersistentTree, FailPastLimit, Lru, LinuxLru\n"
            "t1 = time.perf_counter(); print(f'import {t1 - t0:.2f} s', end='')\ntr = pool(50)\n"
            "for p in (PersistentArray(cap=9), FailPastLimit(cap=9), Lru(cap=9), LinuxLru(cap=9)):\n"
            "    t = time.perf_counter(); simulate(tr, p, engine='compiled')\n"
            "    print(f', {p.name} {time.perf_counter() - t:.2f} s', end='')\nprint()\n")
    with tempfile.TemporaryDirectory(prefix="pgrant-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    return proc.stdout.strip() or proc.stderr.strip()


def main(requests: int = 1_000_000) -> None:
    if shutil.which("cc") is None:
        sys.exit("bench_trace_replay: expected a C compiler `cc` on PATH for the C floor, found none")
    lib = _build_c()
    print(f"first call (compile) in a fresh process, empty numba cache: {_compile_times()}")
    start = time.perf_counter()
    trace = pool(requests, seed=1)
    short = pool(min(requests, PYTHON_REQUESTS), seed=1)
    segs, short_segs = int(trace.segments.sum()), int(short.segments.sum())
    print(f"trace: pool, {requests} requests, {segs} segments, generated in {time.perf_counter() - start:.2f} s; "
          f"python runs on the first {short.requests} requests ({short_segs} segments)")
    head = f"{'policy':<18}{'python':>12}{'compiled':>12}{'kernel':>12}{'C floor':>12}{'kernel/C':>10}{'C/python':>10}"
    print("segments per second (M = 10^6), best of", REPEATS)
    print(head)
    for policy in POLICIES:
        py_s = _best(lambda: simulate(short, policy))
        simulate(trace, policy, engine="compiled")  # warm-up: compile or load from the cache
        comp_s = _best(lambda: simulate(trace, policy, engine="compiled"))
        row = [f"{policy.name:<18}", f"{short_segs / py_s / 1e6:>11.2f}M", f"{segs / comp_s / 1e6:>11.1f}M"]
        if isinstance(policy, NonPersistent):
            print("".join(row) + f"{'(vectorised, no per-segment loop)':>44}")
            continue
        out, (kernel, kargs), (cname, cargs) = _kernel_args(trace, policy)
        kernel_s = _best(lambda: (_fresh(out), kernel(*kargs)))
        reference = {k: v.copy() for k, v in out.items()}
        c_s = _best(lambda: (_fresh(out), _call_c(lib, cname, cargs)))
        same = all(np.array_equal(out[k], reference[k]) for k in out)
        row += [f"{segs / kernel_s / 1e6:>11.1f}M", f"{segs / c_s / 1e6:>11.1f}M", f"{kernel_s / c_s:>10.2f}",
                f"{(segs / c_s) / (short_segs / py_s):>10.0f}"]
        print("".join(row) + ("" if same else "  C COUNTS DIFFER"))
    print("kernel/C: time of the numba kernel over time of the C loop on the same arrays (goal <= 2); "
          "compiled includes renumbering grefs and the per-request totals.")
    _frontend_311(requests)


def _frontend_311(requests: int) -> None:
    """The 3.11+ frontend coupled with a backend rule (frontend.replay_blkif): Python reference vs numba,
    end to end (stream, loop, per-request totals), 4 rings, 32-segment indirect requests."""
    from analysis.xen.grants.frontend import simulate_blkif

    short = min(requests, PYTHON_REQUESTS)
    print(f"3.11+ frontend coupled loop, 4 rings, 32 segments + 1 indirect page per request "
          f"(python on {short} requests, compiled on {requests}); segments per second, best of {REPEATS}")
    print(f"{'policy':<18}{'python':>12}{'compiled':>12}{'compiled/python':>17}")
    for policy in (PersistentTree(cap=1056, fallback="gref"), NonPersistent()):
        run = lambda n, engine: simulate_blkif(n, policy, segments=32, queues=4, seed=1, engine=engine)  # noqa: E731
        run(100, "compiled")  # warm-up: compile or load from the cache
        py_s, comp_s = _best(lambda: run(short, "python")), _best(lambda: run(requests, "compiled"))
        pages = 33
        py, comp = short * pages / py_s, requests * pages / comp_s
        print(f"{policy.name:<18}{py / 1e6:>11.2f}M{comp / 1e6:>11.1f}M{comp / py:>17.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
