"""``pgrant-lab simulate``: run grant policies over a generated workload or a recorded block trace
and print the totals."""

from __future__ import annotations

import json
import math

from analysis.xen.blkif import ABIS, ring_slots
from analysis.constants import MAX_RING_PAGE_ORDER
from analysis.constants import INDIRECT_PAGES_PER_REQUEST, SEGMENTS_PER_INDIRECT_PAGE, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.ingest.trace import FORMATS
from analysis.xen.grants import backends, generate
from analysis.xen.grants.backends import ALL_POLICIES as POLICIES
from analysis.xen.grants.frontend import FRONTENDS, POLICIES_311, pool_pages_311, simulate_blkif
from analysis.xen.grants.policies import ENGINES
from analysis.xen.grants.policies import POLICIES as COMPILED_POLICIES
from analysis.xen.grants.policies import simulate
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS

CLI_WORKLOADS = ("pool", "fresh", "phase")
LRU_M = 2  # --m for lru when not given: discard half the cap per purge
MAX_SEGMENTS = INDIRECT_PAGES_PER_REQUEST * SEGMENTS_PER_INDIRECT_PAGE  # the protocol's largest request
# The simulator holds the whole trace and its per-request results in memory. Peak RSS measured with
# `/usr/bin/time -f %M pgrant-lab simulate --requests N --segments S` (N = 1e5..4e5, S = 1, 11, 44,
# workloads pool/fresh/phase) grows by about 300 bytes per request plus 48 per page (segment) of
# it; the bound below keeps a run under MAX_TRACE_BYTES, so a typo cannot exhaust the machine.
# Most ring slots: the largest ring (2**MAX_RING_PAGE_ORDER pages) of the ABI with the smallest entries.
MAX_SLOTS = max(ring_slots(MAX_RING_PAGE_ORDER, abi) for abi in ABIS)
BYTES_PER_REQUEST = 300
BYTES_PER_PAGE = 48
MAX_TRACE_BYTES = 1024**3


def max_requests(segments: int) -> int:
    """The most requests a run of ``segments``-page requests may simulate within MAX_TRACE_BYTES."""
    return MAX_TRACE_BYTES // (BYTES_PER_REQUEST + BYTES_PER_PAGE * segments)


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate blkback's persistent-grant store for one policy and workload",
                       description="Simulate blkback's grant handling (maps, unmaps, unmap batches, lookups, memory, "
                                   "guest memcpy) for one policy (or all) over a seeded workload or a recorded "
                                   "block trace; print the totals.")
    p.add_argument("--policy", default="lru", help=f"one of {', '.join(POLICIES)}, or all (default: lru; with "
                   f"--frontend 3.11 one of {', '.join(POLICIES_311)}, and all means those)")
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
                   help=f"one of {', '.join(ENGINES)} (default: compiled; with --frontend 2012, grant_copy and "
                        "patch_2012 always run the Python reference)")
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
        if args.trace is None and args.workload != "pool":
            raise UsageError(f"--workload: expected pool with --frontend 3.11 (the frontend model generates the "
                             f"requests, or replays --trace), found {args.workload!r}")
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
    if args.requests > max_requests(args.segments):
        raise UsageError(f"--requests: expected at most {max_requests(args.segments)} requests of {args.segments} "
                         f"segments (about {BYTES_PER_REQUEST} + {BYTES_PER_PAGE} x segments bytes each, within "
                         f"{MAX_TRACE_BYTES // 1024**2} MiB), found {args.requests}")
    if args.seed < 0:
        raise UsageError(f"--seed: expected an integer >= 0 (numpy seeds are non-negative), found {args.seed}")
    if args.slots > MAX_SLOTS:
        raise UsageError(f"--slots: expected at most {MAX_SLOTS} ring slots (the largest ring), found {args.slots}")
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


def _source(args):
    """What to simulate, read once for every policy: with the 2012 frontend a Trace (a recorded
    trace through its blkfront model, or a generated workload); with 3.11 the recorded trace's
    request table (its grefs depend on the policy), or None for the generated workload."""
    if args.trace is None:
        if args.frontend == "3.11":
            return None
        return generate(args.workload, args.requests, slots=args.slots, segments=args.segments, seed=args.seed)
    from analysis.ingest.trace import device_table, read_trace
    from analysis.xen.grants.blkfront import trace_from_requests

    table = device_table(read_trace(args.trace, args.trace_format), args.device)
    if args.frontend == "3.11":
        return table
    return trace_from_requests(table, max_segments=args.segments, slots=args.slots, depth=args.depth)


def _run_311(args, source, policy):
    if source is None:
        return simulate_blkif(args.requests, policy, slots=args.slots, segments=args.segments, queues=args.queues,
                              seed=args.seed, engine=args.engine)
    from analysis.xen.grants.blkfront import blkif_from_requests

    return blkif_from_requests(source, policy, max_segments=args.segments, slots=args.slots, queues=args.queues,
                               depth=args.depth, engine=args.engine)


def _totals(args, source, policy_name: str, cap: int) -> dict:
    policy = backends.make(policy_name, cap=cap, m=args.m)
    trace = source
    if args.frontend == "3.11":
        result = _run_311(args, source, policy)
        trace = result.trace
        totals = result.totals()
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
    source = _source(args)
    names = [args.policy] if args.policy != "all" else list(POLICIES_311 if args.frontend == "3.11" else POLICIES)
    rows = [_totals(args, source, name, cap) for name in names]
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
