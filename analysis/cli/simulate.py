"""``pgrant-lab simulate``: run one grant policy over one generated workload and print the totals."""

from __future__ import annotations

import json
import math

from analysis.blkif import ABIS, ring_slots
from analysis.constants import MAX_RING_PAGE_ORDER
from analysis.constants import INDIRECT_PAGES_PER_REQUEST, SEGMENTS_PER_INDIRECT_PAGE, SEGMENTS_PER_REQUEST
from analysis.errors import UsageError
from analysis.grants import POLICIES, generate, make_policy, simulate
from analysis.grants.workloads import ONE_PAGE_SLOTS

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
                                   "guest memcpy) for one policy over a seeded workload; print the totals.")
    p.add_argument("--policy", default="lru", help=f"one of {', '.join(POLICIES)} (default: lru)")
    p.add_argument("--workload", default="pool", help=f"one of {', '.join(CLI_WORKLOADS)} (default: pool)")
    p.add_argument("--slots", type=int, default=ONE_PAGE_SLOTS,
                   help=f"ring slots = requests in flight (default: {ONE_PAGE_SLOTS}, a one-page x86_64 ring)")
    p.add_argument("--segments", type=int, default=SEGMENTS_PER_REQUEST,
                   help=f"segments (pages) per request (default: {SEGMENTS_PER_REQUEST})")
    p.add_argument("--cap", type=int, default=None, help="most persistently mapped pages (default: slots x segments)")
    p.add_argument("--m", type=int, default=None, help=f"lru only: discard cap // M pages per purge (default: {LRU_M})")
    p.add_argument("--requests", type=int, default=100000, help="requests in the trace (default: 100000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--json", action="store_true", help="print the totals as one JSON object")
    p.set_defaults(func=run)


def _check(args) -> None:
    if args.policy not in POLICIES:
        raise UsageError(f"--policy: expected one of {', '.join(POLICIES)}, found {args.policy!r}")
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
    if args.cap is not None and args.policy == "non_persistent":
        raise UsageError(f"--cap: expected no cap with --policy non_persistent (it keeps no grants mapped), "
                         f"found --cap {args.cap}")
    if args.m is not None and args.policy != "lru":
        raise UsageError(f"--m: expected --m only with --policy lru (the LRU purge size), found --m {args.m} "
                         f"with --policy {args.policy}")
    args.m = LRU_M if args.m is None else args.m
    cap = args.cap if args.cap is not None else args.slots * args.segments
    if args.policy == "lru" and not 1 <= args.m <= cap:
        raise UsageError(f"--m: expected an integer from 1 to cap={cap} (LRU discards cap // M), found {args.m}")


def run(args) -> int:
    _check(args)
    cap = args.cap if args.cap is not None else args.slots * args.segments
    trace = generate(args.workload, args.requests, slots=args.slots, segments=args.segments, seed=args.seed)
    totals = simulate(trace, make_policy(args.policy, cap=cap, m=args.m)).totals()
    totals.update(cap=cap, slots=args.slots, segments_per_request=args.segments, seed=args.seed)
    if args.policy == "lru":
        totals["m"] = args.m
    if args.json:
        # An undefined rate (no request served) is NaN in Python and null in JSON.
        print(json.dumps({k: None if isinstance(v, float) and math.isnan(v) else v for k, v in totals.items()}))
    else:
        width = max(map(len, totals))
        for key, value in totals.items():
            shown = f"{value:.6f}" if isinstance(value, float) else value
            print(f"{key:<{width}}  {shown}")
    return 0
