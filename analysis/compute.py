"""Run independent tasks in parallel: this process, local processes, or a Dask cluster.

One mechanism for every fan-out of the suite (parsing many fio files, the simulator's parameter
sweeps). Results come back in the order of the inputs, so a table built from them is the same
whichever way it was computed; the first error, in input order, is raised as a serial run would
raise it. Dask is optional (``pip install 'pgrant-lab[dask]'``) and imported only when asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from analysis.errors import UsageError


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def map_ordered(fn: Callable, items: Sequence, *, workers: int | None = 1, dask: str | None = None,
                min_items_per_worker: int = 1) -> list:
    """``[fn(item) for item in items]``, computed in parallel where asked.

    ``workers``: local processes (None: one per usable CPU; 1: this process, no pool); fewer are
    started when there are fewer than ``min_items_per_worker`` items each (a pool costs 0.1-0.3 s
    to start). ``dask``: a scheduler address (``tcp://host:8786``) or ``"local"`` for a
    LocalCluster of this machine; overrides ``workers``. ``fn`` and the items must be picklable.
    """
    items = list(items)
    if dask is not None:
        return _map_dask(fn, items, dask)
    n = usable_cpus() if workers is None else workers
    if n < 1:
        raise UsageError(f"workers={n}: expected a number of processes >= 1")
    n = min(n, max(1, len(items) // max(1, min_items_per_worker)))
    if n == 1:
        return [fn(item) for item in items]
    from concurrent.futures import ProcessPoolExecutor  # imported only when a pool is used

    with ProcessPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, items, chunksize=max(1, len(items) // (4 * n))))


def _map_dask(fn: Callable, items: list, address: str) -> list:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(f"dask={address}: expected the optional Dask extra to be installed "
                         "(pip install 'pgrant-lab[dask]'), found no module dask.distributed") from None
    if address == "local":
        with LocalCluster(n_workers=usable_cpus(), threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            return _gather(client, fn, items)
    try:
        client = Client(address, timeout="10s")
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"dask={address}: expected a reachable Dask scheduler address, found {err}") from None
    with client:
        return _gather(client, fn, items)


def _gather(client, fn: Callable, items: list) -> list:
    futures = client.map(fn, items, pure=False)
    # errors="raise" re-raises a worker's exception here (our one-sentence errors pickle as they are).
    return client.gather(futures, errors="raise")
