"""Discrete-event simulation of Xen PV block I/O through the unmap flush path.

The mechanism, one request at a time per guest (closed loop, as fio with iodepth 1 per guest):

1. the guest thinks/does its I/O for ``think_s`` (persistent mode: plus ``memcpy_s``, the copy
   between the persistent pool and the bio, done in the guest);
2. blkback needs one of ``dom0_cpus`` CPUs for ``cpu_s`` (persistent mode: plus ``lookup_s``, the
   gref lookup); requests queue FCFS for a free CPU;
3. non-persistent mode only: the unmap's TLB flush takes the host's global ``flush_lock``
   (FCFS queue; xen/arch/x86/smp.c:230 at xen-project/xen 0772f7b8), IPIs the P - 1 remote dom0
   CPUs (smp.c:235) and spins until all have acknowledged (smp.c:236). The lock is held for
   ``hold_base_s + hold_per_cpu_s * (P - 1) + handoff_s * k`` with k the requests waiting for or
   holding the lock (``handoff_s`` = 0: plain FCFS, the MVA model; > 0: the lock-collapse chain);
4. every remote target CPU runs the flush handler for ``handler_s`` (smp.c:209-219): a busy CPU's
   blkback job is pushed back by ``handler_s`` (the interrupt preempts it), an idle CPU is busy
   with the handler for ``handler_s``.

Not modelled (stated exclusions): the initiating blkback thread keeps no dom0 CPU while it waits
for the lock (with 24 CPUs and <= 16 guests CPUs are rarely all busy), the grant-table lock,
Linux's m2p_override lock and blkback's pending-request pool.

``dist="exp"`` draws every time from an exponential distribution with the given mean, and when
``handoff_s`` > 0 redraws the lock holder's remaining time whenever k changes, which is exact for
the memoryless chain of :mod:`analysis.models.lock_collapse` (its service rate depends on the
current k); ``dist="det"`` uses the means themselves (the handoff k is taken when the hold starts).
``open_rate_per_s`` replaces the guests by Poisson arrivals at that rate (for the M/M/1 checks).

Why a hand-written heap loop and not SimPy: SimPy's own scheduler is a ``heapq`` loop
(simpy/core.py, ``Environment.schedule`` / ``step``) with a generator resumption and an Event
object per step on top; this loop does only the heap operations, so it cannot be slower than
SimPy and benchmarks/bench_flush_sim.py shows its cost against a bare heapq loop of the same
number of events.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass

from analysis.errors import UsageError

_ARRIVE, _CPU_END, _LOCK_END, _OPEN = 0, 1, 2, 3
_HANDLER = -1  # a CPU busy with a flush handler and no request


@dataclass(frozen=True)
class SimResult:
    """What one simulation measured after its warm-up (times in s, rates in 1/s)."""

    iops: float
    requests: int
    sim_time_s: float
    lock_utilisation: float
    mean_in_lock: float
    mean_lock_sojourn_s: float
    lock_throughput_per_s: float
    cpu_utilisation: float
    mean_response_s: float


def _check(name: str, value: float, *, positive: bool = False) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and (value > 0 if positive else value >= 0)):
        raise UsageError(f"{name}={value!r}: expected a finite number {'> 0' if positive else '>= 0'}")


def simulate(guests: int, *, dom0_cpus: int, think_s: float, cpu_s: float = 0.0,
             hold_base_s: float = 0.0, hold_per_cpu_s: float = 0.0, handoff_s: float = 0.0,
             handler_s: float = 0.0, persistent: bool = False, memcpy_s: float = 0.0,
             lookup_s: float = 0.0, dist: str = "exp", requests: int = 100_000,
             warmup: float = 0.1, seed: int = 0, open_rate_per_s: float | None = None) -> SimResult:
    """Simulate ``requests`` completed requests (after ``warmup`` x requests discarded) of the
    flush path (module docstring); all times in seconds. Returns a :class:`SimResult`."""
    if dist not in ("exp", "det"):
        raise UsageError(f"dist={dist!r}: expected 'exp' or 'det'")
    if not (isinstance(dom0_cpus, int) and dom0_cpus >= 1):
        raise UsageError(f"dom0_cpus={dom0_cpus!r}: expected an integer >= 1")
    if open_rate_per_s is None and not (isinstance(guests, int) and guests >= 1):
        raise UsageError(f"guests={guests!r}: expected an integer >= 1")
    if not (isinstance(requests, int) and requests >= 1):
        raise UsageError(f"requests={requests!r}: expected an integer >= 1")
    for name, value in (("think_s", think_s), ("cpu_s", cpu_s), ("hold_base_s", hold_base_s),
                        ("hold_per_cpu_s", hold_per_cpu_s), ("handoff_s", handoff_s),
                        ("handler_s", handler_s), ("memcpy_s", memcpy_s), ("lookup_s", lookup_s)):
        _check(name, value)
    if open_rate_per_s is not None:
        _check("open_rate_per_s", open_rate_per_s, positive=True)
    if not 0 <= warmup < 1:
        raise UsageError(f"warmup={warmup!r}: expected a share in [0, 1)")

    rnd = random.Random(seed)
    expo = rnd.expovariate
    exp_dist = dist == "exp"

    def draw(mean: float) -> float:
        if mean <= 0:
            return 0.0
        return expo(1.0 / mean) if exp_dist else mean

    think = think_s + (memcpy_s if persistent else 0.0)
    work = cpu_s + (lookup_s if persistent else 0.0)
    hold = hold_base_s + hold_per_cpu_s * (dom0_cpus - 1)
    use_lock = not persistent
    handlers = use_lock and handler_s > 0 and dom0_cpus > 1
    resample = exp_dist and handoff_s > 0

    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    seq = 0
    now = 0.0
    # CPUs
    cpu_job = [None] * dom0_cpus
    cpu_end = [0.0] * dom0_cpus
    cpu_ver = [0] * dom0_cpus
    idle = set(range(dom0_cpus))
    cpu_queue: deque = deque()
    # lock
    lock_queue: deque = deque()
    holder = None
    lock_ver = 0
    in_lock = 0
    lock_enter: dict = {}
    started: dict = {}
    flushes = 0
    # statistics
    total = requests + int(warmup * requests)
    warm_n = total - requests
    done = 0
    t0 = 0.0
    last = 0.0
    area_lock = busy_lock = area_cpu = 0.0
    sojourn_sum = 0.0
    sojourn_n = 0
    response_sum = 0.0
    busy_cpus = 0
    next_id = 0

    def start_cpu(c, r):
        nonlocal seq, busy_cpus
        if cpu_job[c] is None:
            busy_cpus += 1
        cpu_job[c] = r
        cpu_end[c] = now + draw(work)
        cpu_ver[c] += 1
        seq += 1
        push(heap, (cpu_end[c], seq, _CPU_END, c, cpu_ver[c]))

    def start_flush(r):
        nonlocal holder, lock_ver, seq, flushes, busy_cpus
        holder = r
        lock_ver += 1
        seq += 1
        push(heap, (now + draw(hold + handoff_s * in_lock), seq, _LOCK_END, r, lock_ver))
        if handlers:
            flushes += 1
            skip = flushes % dom0_cpus  # the initiator's CPU flushes locally (smp.c:232)
            for c in range(dom0_cpus):
                if c == skip:
                    continue
                if cpu_job[c] is None:
                    idle.discard(c)
                    busy_cpus += 1
                    cpu_job[c] = _HANDLER
                    cpu_end[c] = now + handler_s
                else:
                    cpu_end[c] += handler_s
                cpu_ver[c] += 1
                seq += 1
                push(heap, (cpu_end[c], seq, _CPU_END, c, cpu_ver[c]))

    def to_lock(r):
        nonlocal in_lock, lock_ver, seq
        lock_enter[r] = now
        in_lock += 1
        if holder is None:
            start_flush(r)
        else:
            lock_queue.append(r)
            if resample:  # memoryless: the holder's remaining time at the new rate
                lock_ver += 1
                seq += 1
                push(heap, (now + expo(1.0 / (hold + handoff_s * in_lock)), seq, _LOCK_END, holder, lock_ver))

    def arrive(r):
        if work > 0:
            if idle:
                start_cpu(idle.pop(), r)
            else:
                cpu_queue.append(r)
        elif use_lock:
            to_lock(r)
        else:
            complete(r)

    def complete(r):
        nonlocal done, seq, response_sum, t0, area_lock, busy_lock, area_cpu, sojourn_sum, sojourn_n
        done += 1
        if done == warm_n:
            t0 = now
            area_lock = busy_lock = area_cpu = sojourn_sum = response_sum = 0.0
            sojourn_n = 0
        elif done > warm_n:
            response_sum += now - started.get(r, now)
        if open_rate_per_s is None:
            seq += 1
            started[r] = t = now + draw(think)
            push(heap, (t, seq, _ARRIVE, r, 0))
        else:
            started.pop(r, None)

    if open_rate_per_s is None:
        for g in range(guests):
            # det mode: spread the first arrivals so that guests do not move in lock step
            t = draw(think) if exp_dist else rnd.random() * max(think, 1e-12)
            started[g] = t
            seq += 1
            push(heap, (t, seq, _ARRIVE, g, 0))
    else:
        seq += 1
        push(heap, (expo(open_rate_per_s), seq, _OPEN, 0, 0))

    while done < total:
        t, _, kind, a, b = pop(heap)
        if kind == _CPU_END and b != cpu_ver[a]:
            continue
        if kind == _LOCK_END and b != lock_ver:
            continue
        dt = t - last
        area_lock += in_lock * dt
        busy_lock += (holder is not None) * dt
        area_cpu += busy_cpus * dt
        last = now = t
        if kind == _ARRIVE:
            arrive(a)
        elif kind == _CPU_END:
            r = cpu_job[a]
            if cpu_queue:
                start_cpu(a, cpu_queue.popleft())
            else:
                cpu_job[a] = None
                idle.add(a)
                busy_cpus -= 1
            if r != _HANDLER:
                if use_lock:
                    to_lock(r)
                else:
                    complete(r)
        elif kind == _LOCK_END:
            r = holder
            in_lock -= 1
            if done >= warm_n:
                sojourn_sum += now - lock_enter.pop(r)
                sojourn_n += 1
            else:
                lock_enter.pop(r)
            holder = None
            if lock_queue:
                start_flush(lock_queue.popleft())
            complete(r)
        else:  # open arrival
            next_id += 1
            started[next_id] = now
            seq += 1
            push(heap, (now + expo(open_rate_per_s), seq, _OPEN, 0, 0))
            arrive(next_id)

    span = now - t0
    return SimResult(
        iops=requests / span, requests=requests, sim_time_s=span,
        lock_utilisation=busy_lock / span, mean_in_lock=area_lock / span,
        mean_lock_sojourn_s=sojourn_sum / sojourn_n if sojourn_n else math.nan,
        lock_throughput_per_s=sojourn_n / span, cpu_utilisation=area_cpu / (dom0_cpus * span),
        mean_response_s=response_sum / requests,
    )
