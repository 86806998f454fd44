"""Speed of the flush-path simulation (analysis.models.flush_sim) in simulated requests per second,
against a bare ``heapq`` event loop doing the same number of events, side by side.

Workload: 10 guests on 24 dom0 CPUs, non-persistent mode (think, blkback on a CPU, the flush
lock with handoff cost; no handlers, so three events per request), exponential times. The
baseline is the least any Python heap-based DES (SimPy included: its Environment is a heapq loop
with an Event object and a generator resumption per step) must do for the same run: three
push/pop pairs and three exponential draws per request, no state. If SimPy is importable it is
timed too, on a SimPy model of the same three stages. The printed ratio is
baseline requests/s / simulation requests/s: the cost of the mechanism's bookkeeping.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_flush_sim.py [--requests 10000000]``
(default 200,000; 10^7 takes a few minutes).
"""

from __future__ import annotations

import argparse
import heapq
import platform
import random
import statistics
import time

from analysis.models.flush_sim import simulate

GUESTS, CPUS = 10, 24
PARAMS = {"think_s": 4e-6, "cpu_s": 1e-6, "hold_base_s": 0.7e-6, "hold_per_cpu_s": 0.0, "handoff_s": 0.2e-6}


def _simulation(requests: int) -> float:
    start = time.perf_counter()
    simulate(GUESTS, dom0_cpus=CPUS, requests=requests, warmup=0.0, seed=1, **PARAMS)
    return time.perf_counter() - start


def _bare_heapq(requests: int) -> float:
    """Three timed stages per request, each one push and one pop, nothing else."""
    rnd = random.Random(1)
    expo = rnd.expovariate
    push, pop = heapq.heappush, heapq.heappop
    rates = (1 / PARAMS["think_s"], 1 / PARAMS["cpu_s"], 1 / PARAMS["hold_base_s"])
    start = time.perf_counter()
    heap = [(expo(rates[0]), g, g, 0) for g in range(GUESTS)]
    heapq.heapify(heap)
    seq, done = GUESTS, 0
    while done < requests:
        t, _, g, stage = pop(heap)
        stage = (stage + 1) % 3
        if stage == 0:
            done += 1
        seq += 1
        push(heap, (t + expo(rates[stage]), seq, g, stage))
    return time.perf_counter() - start


def _simpy(requests: int) -> float | None:
    try:
        import simpy
    except ImportError:
        return None
    rnd = random.Random(1)
    env = simpy.Environment()
    cpus, lock = simpy.Resource(env, CPUS), simpy.Resource(env, 1)
    done = [0]

    def guest():
        while True:
            yield env.timeout(rnd.expovariate(1 / PARAMS["think_s"]))
            with cpus.request() as req:
                yield req
                yield env.timeout(rnd.expovariate(1 / PARAMS["cpu_s"]))
            with lock.request() as req:
                yield req
                yield env.timeout(rnd.expovariate(1 / PARAMS["hold_base_s"]))
            done[0] += 1

    for _ in range(GUESTS):
        env.process(guest())
    start = time.perf_counter()
    while done[0] < requests:
        env.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="simulated requests per run (default 200,000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each (default 3)")
    args = parser.parse_args()
    _simulation(2_000), _bare_heapq(2_000)  # warm-up
    sim, bare, spy = [], [], []
    for _ in range(args.repeats):
        sim.append(_simulation(args.requests))
        bare.append(_bare_heapq(args.requests))
        spy.append(_simpy(args.requests))
    print(f"{args.requests:,} requests, {GUESTS} guests, {CPUS} dom0 CPUs; python {platform.python_version()}; "
          f"{args.repeats} interleaved runs")
    print(f"{'':36}{'requests/s (best)':>18}{'median s':>10}")
    rows = [("flush_sim.simulate", sim), ("bare heapq loop (baseline)", bare)]
    if spy[0] is not None:
        rows.append(("SimPy, same three stages", spy))
    for label, times in rows:
        print(f"{label:36}{args.requests / min(times):18,.0f}{statistics.median(times):10.3f}")
    print(f"ratio simulate / baseline time (min/min): {min(sim) / min(bare):.2f}x")
    if spy[0] is not None:
        print(f"ratio SimPy / simulate time (min/min): {min(spy) / min(sim):.2f}x")


if __name__ == "__main__":
    main()
