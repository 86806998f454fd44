"""``pgrant-lab simulate``: run grant policies over a generated workload or a recorded block trace
and print the totals."""

from __future__ import annotations

import json
import math

from analysis.constants import INDIRECT_PAGES_PER_REQUEST, SEGMENTS_PER_INDIRECT_PAGE, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.ingest.trace import FORMATS
from analysis.xen.grants import backends, generate
from analysis.xen.grants.backends import ALL_POLICIES as POLICIES
from analysis.xen.grants.frontend import FRONTENDS, pool_pages_311, simulate_blkif
from analysis.xen.grants.policies import ENGINES
from analysis.xen.grants.policies import POLICIES as COMPILED_POLICIES
from analysis.xen.grants.policies import simulate
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS

CLI_WORKLOADS = ("pool", "fresh", "phase")
LRU_M = 2  # --m for lru when not given: discard half the cap per purge
MAX_SEGMENTS = INDIRECT_PAGES_PER_REQUEST * SEGMENTS_PER_INDIRECT_PAGE  # the protocol's largest request


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate blkback's persistent-grant store for one policy and workload",
                       description="Simulate blkback's grant handling (maps, unmaps, unmap batches, lookups, memory, "
                                   "guest memcpy) for one policy (or all) over a seeded workload or a recorded "
                                   "block trace; print the totals.")
    p.add_argument("--policy", default="lru", help=f"one of {', '.join(POLICIES)}, or all (default: lru)")
    p.add_argument("--workload", default="pool", help=f"one of {', '.join(CLI_WORKLOADS)} (default: pool)")
    p.add_argument("--slots", type=int, default=ONE_PAGE_SLOTS,
                   help=f"ring slots = requests in flight (default: {ONE_PAGE_SLOTS}, a one-page x86_64 ring)")
    p.add_argument("--segments", type=int, default=SEGMENTS_PER_REQUEST,
                   help=f"segments (pages) per request (default: {SEGMENTS_PER_REQUEST})")
    p.add_argument("--cap", type=int, default=None,
                   help="most persistently mapped pages per ring (default: the frontend's pool per ring: "
                   "slots x segments in 2012, slots x (segments + indirect pages) with 3.11)")
    p.add_argument("--frontend", default="2012",
                   help="blkfront's grant pool: 2012 (LIFO pool grown on demand, one ring, 11 segments) or 3.11 "
                   "(pages granted up front per ring; grants the backend still maps reused first) (default: 2012)")
    p.add_argument("--indirect-segments", type=int, default=None, metavar="K",
                   help="--frontend 3.11: data segments per request with indirect descriptors (BLKIF_OP_INDIRECT; "
                   "blkfront's default 32), overrides --segments")
    p.add_argument("--queues", type=int, default=1,
                   help="--frontend 3.11: rings per device, each with its own grants and cap (blkfront "
                   "max_queues, default 4 in Linux; here 1)")
    p.add_argument("--m", type=int, default=None, help=f"lru only: discard cap // M pages per purge (default: {LRU_M})")
    p.add_argument("--requests", type=int, default=100000, help="requests in the trace (default: 100000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--trace", default=None, help="replay this block trace instead of generating a workload")
    p.add_argument("--format", default=None, dest="trace_format",
                   help=f"with --trace: one of {', '.join(FORMATS)}")
    p.add_argument("--device", default=None,
                   help="with --trace: the device to replay (default: the one with most requests)")
    p.add_argument("--depth", type=int, default=1,
                   help="with --trace and no completion times (fio iolog): requests in flight (default: 1)")
    p.add_argument("--engine", default="compiled",
                   help=f"one of {', '.join(ENGINES)} (default: compiled; grant_copy and patch_2012 always run "
                        "the Python reference)")
    p.add_argument("--json", action="store_true", help="print the totals as one JSON object (a list with --policy all)")
    p.set_defaults(func=run)


def _check(args) -> None:
    if args.trace is None and (args.trace_format is not None or args.device is not None):
        raise UsageError("--format/--device: expected them only with --trace FILE, found no --trace")
    if args.trace is not None and args.trace_format not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)} with --trace, found {args.trace_format!r}")
    if args.depth < 1:
        raise UsageError(f"--depth: expected a positive number of requests in flight, found {args.depth}")
    if args.engine not in ENGINES:
        raise UsageError(f"--engine: expected one of {', '.join(ENGINES)}, found {args.engine!r}")
    if args.policy not in POLICIES and args.policy != "all":
        raise UsageError(f"--policy: expected one of {', '.join(POLICIES)} or all, found {args.policy!r}")
    if args.frontend not in FRONTENDS:
        raise UsageError(f"--frontend: expected one of {', '.join(FRONTENDS)}, found {args.frontend!r}")
    if args.frontend == "2012" and (args.indirect_segments is not None or args.queues != 1):
        raise UsageError("--indirect-segments/--queues: expected them only with --frontend 3.11 (the 2012 frontend "
                         f"has one ring and no indirect descriptors), found --indirect-segments "
                         f"{args.indirect_segments} --queues {args.queues}")
    if args.frontend == "3.11":
        if args.trace is not None:
            raise UsageError("--trace: expected --frontend 2012 with a recorded trace (the trace is turned into "
                             "grants by the 2012 blkfront model), found --frontend 3.11")
        if args.workload != "pool":
            raise UsageError(f"--workload: expected pool with --frontend 3.11 (the frontend model generates the "
                             f"requests), found {args.workload!r}")
        if args.queues < 1:
            raise UsageError(f"--queues: expected a positive number of rings per device, found {args.queues}")
        if args.indirect_segments is not None:
            args.segments = args.indirect_segments
    if args.workload not in CLI_WORKLOADS:
        raise UsageError(f"--workload: expected one of {', '.join(CLI_WORKLOADS)}, found {args.workload!r}")
    if args.slots < 1:
        raise UsageError(f"--slots: expected a positive number of ring slots, found {args.slots}")
    if not 1 <= args.segments <= MAX_SEGMENTS:
        raise UsageError(f"--segments: expected 1 to {MAX_SEGMENTS} segments per request "
                         f"({SEGMENTS_PER_REQUEST} direct, more with indirect descriptors), found {args.segments}")
    if args.requests < 1:
        raise UsageError(f"--requests: expected a positive number of requests, found {args.requests}")
    if args.seed < 0:
        raise UsageError(f"--seed: expected an integer >= 0 (numpy seeds are non-negative), found {args.seed}")
    if args.cap is not None and args.cap < 1:
        raise UsageError(f"--cap: expected a positive number of pages, found {args.cap}")
    if args.cap is not None and args.policy in ("non_persistent", "grant_copy"):
        raise UsageError(f"--cap: expected no cap with --policy {args.policy} (it keeps no grants mapped), "
                         f"found --cap {args.cap}")
    if args.m is not None and args.policy not in ("lru", "all"):
        raise UsageError(f"--m: expected --m only with --policy lru (the LRU purge size), found --m {args.m} "
                         f"with --policy {args.policy}")
    args.m = LRU_M if args.m is None else args.m
    cap = _cap(args)
    if args.policy in ("lru", "all") and not 1 <= args.m <= cap:
        raise UsageError(f"--m: expected an integer from 1 to cap={cap} (LRU discards cap // M), found {args.m}")


def _cap(args) -> int:
    if args.cap is not None:
        return args.cap
    if args.frontend == "3.11":
        return pool_pages_311(args.slots, args.segments)
    return args.slots * args.segments


def _trace(args):
    """The Trace to simulate: a recorded trace through the blkfront model, or a generated workload."""
    if args.trace is None:
        return generate(args.workload, args.requests, slots=args.slots, segments=args.segments, seed=args.seed)
    from analysis.ingest.trace import device_table, read_trace
    from analysis.xen.grants.blkfront import trace_from_requests

    table = device_table(read_trace(args.trace, args.trace_format), args.device)
    return trace_from_requests(table, max_segments=args.segments, slots=args.slots, depth=args.depth)


def _totals(args, trace, policy_name: str, cap: int) -> dict:
    policy = backends.make(policy_name, cap=cap, m=args.m)
    if args.frontend == "3.11":
        totals = simulate_blkif(args.requests, policy, slots=args.slots, segments=args.segments, queues=args.queues,
                                seed=args.seed).totals()
    elif policy_name in COMPILED_POLICIES:
        totals = simulate(trace, policy, engine=args.engine).totals()
    else:  # grant copy and the 2012 patch have their own (Python) simulators
        totals = backends.run(trace, policy).totals()
    totals.update(cap=cap, slots=args.slots, segments_per_request=args.segments, frontend=args.frontend,
                  queues=args.queues)
    if args.trace is None:
        totals["seed"] = args.seed
    else:
        totals.update(trace=args.trace, format=args.trace_format, device=trace.params["device"],
                      trace_requests=trace.params["trace_requests"], depth=args.depth,
                      completion_times=trace.params["completion_times"])
    if policy_name == "lru":
        totals["m"] = args.m
    return totals


def _jsonable(totals: dict) -> dict:
    # An undefined rate (no request served) is NaN in Python and null in JSON.
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in totals.items()}


def _shown(value) -> str:
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def run(args) -> int:
    _check(args)
    cap = _cap(args)
    trace = None if args.frontend == "3.11" else _trace(args)
    names = list(POLICIES) if args.policy == "all" else [args.policy]
    rows = [_totals(args, trace, name, cap) for name in names]
    if args.json:
        print(json.dumps([_jsonable(r) for r in rows] if args.policy == "all" else _jsonable(rows[0])))
    elif args.policy != "all":
        totals = rows[0]
        width = max(map(len, totals))
        for key, value in totals.items():
            print(f"{key:<{width}}  {_shown(value)}")
    else:
        # Settings shared by every policy first, one per line; then one column per policy.
        keys = list(dict.fromkeys(k for r in rows for k in r if k != "policy"))
        shared = [k for k in keys if len({_shown(r.get(k, "")) for r in rows}) == 1]
        keys = [k for k in keys if k not in shared]
        width = max(map(len, keys + shared))
        for key in shared:
            print(f"{key:<{width}}  {_shown(rows[0][key])}")
        cells = [[_shown(r.get(k, "")) for r in rows] for k in keys]
        widths = [max(len(name), *(len(c[i]) for c in cells)) for i, name in enumerate(names)]
        print(f"{'policy':<{width}}  " + "  ".join(f"{n:>{w}}" for n, w in zip(names, widths)))
        for key, row in zip(keys, cells):
            print(f"{key:<{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(row, widths)))
    return 0
