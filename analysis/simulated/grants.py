"""The simulated data sets under ``data/simulated/``: sweeps of the grant-store simulator.

Each data set is a CSV whose name contains "simulated" plus a sidecar ``<name>.json`` naming the
model, the policies, the workload, every parameter and the command that regenerates it
(``make data-simulated``, i.e. ``python -m analysis.simulated.grants --out data/simulated``).
Counts are per trace (totals) or per request; units are in the sidecar's ``columns``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.compute import map_ordered
from analysis.xen.blkif import ring_slots
from analysis.constants import (
    LINUX_MAX_PERSISTENT_GRANTS,
    LINUX_PERSISTENT_GRANT_UNUSED_SECONDS,
    SEGMENTS_PER_REQUEST,
)
from analysis.xen.grants.policies import (
    FailPastLimit,
    LinuxLru,
    Lru,
    NonPersistent,
    PersistentArray,
    PersistentTree,
    describe,
    simulate,
)
from analysis.xen.grants.workloads import ONE_PAGE_SLOTS, fresh, phase, working_set
from analysis.simulated import sidecar as sidecar_file

MODEL = "pgrant-lab grant-store simulator (analysis.xen.grants.policies.simulate), trace-driven, exact counts"
COMMAND = "make data-simulated  (python -m analysis.simulated.grants --out data/simulated)"
ONE_PAGE_CAP = ONE_PAGE_SLOTS * SEGMENTS_PER_REQUEST  # 352 pages: Ian's "same as the ring"

TOTAL_COLUMNS = {
    "requests": "requests", "segments": "pages", "maps": "grant maps", "unmaps": "grant unmaps",
    "unmap_batches": "unmap hypercalls", "tlb_flushes": "TLB flushes (ceil(pages / 32) per unmap hypercall, "
    "GNTTAB_UNMAP_BATCH_SIZE)", "lookup_comparisons": "gref comparisons",
    "max_mapped_pages": "pages (persistent + transient in flight, high-water)",
    "max_resident_pages": "pages (persistent, high-water)", "resident_pages_at_end": "pages",
    "memcpy_bytes": "bytes copied by the guest", "hits": "segments served without a map",
    "hit_rate": "fraction of served segments", "persistent_requests": "requests",
    "fallback_requests": "requests", "failed_requests": "requests", "non_persistent_requests": "requests",
}
PER_REQUEST_COLUMNS = {
    "request": "index (first of the window when rows are windows)", "requests": "requests in the window",
    "time_us": "microseconds since the first request", "segments": "pages",
    "maps": "grant maps", "transient_maps": "grant maps unmapped at completion", "unmaps": "grant unmaps",
    "unmap_batches": "unmap batches", "tlb_flushes": "TLB flushes", "lookup_comparisons": "gref comparisons",
    "resident_pages": "pages (persistent, after the request)", "mapped_pages": "pages (persistent + transient in flight)",
    "memcpy_bytes": "bytes copied by the guest", "status": "persistent | fallback | failed | non_persistent",
}


def policy_set(cap: int) -> list:
    """The policies every sweep compares, at one cap (pages)."""
    return [
        NonPersistent(),
        PersistentArray(cap=cap),
        PersistentTree(cap=cap),
        PersistentTree(cap=cap, fallback="gref"),
        FailPastLimit(cap=cap),
        Lru(cap=cap, m=2),
        Lru(cap=cap, m=4),
        LinuxLru(cap=cap),
    ]


def label(policy) -> str:
    """A short unique label: the name plus the settings that tell variants apart."""
    if isinstance(policy, Lru):
        return f"lru M={policy.m}"
    if getattr(policy, "unused_seconds", None) is not None:
        return f"{policy.name} (expire after {policy.unused_seconds:g} s unused)"
    if getattr(policy, "fallback", "request") == "gref":
        return f"{policy.name} (per-gref fallback)"
    return policy.name


def cliff(*, cap: int = ONE_PAGE_CAP, working_sets=(88, 176, 264, 352, 396, 440, 528, 704, 1056, 1408, 2112, 2816),
          orders=("random", "cyclic"), requests: int = 20000, slots: int = 16, seed: int = 1,
          workers: int | None = 1, dask: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Totals per policy and working set (pages) at a fixed cap: the fallback cliff.

    Each (order, working set) cell is one task for :func:`analysis.compute.map_ordered`
    (``workers`` local processes or a ``dask`` scheduler); the table is the same either way.
    """
    cells = [(order, w, cap, requests, slots, seed) for order in orders for w in working_sets]
    rows = [row for part in map_ordered(_cliff_cell, cells, workers=workers, dask=dask) for row in part]
    params = {"cap_pages": cap, "working_set_pages": list(working_sets), "order": list(orders), "requests": requests,
              "slots_in_flight": slots, "segments": SEGMENTS_PER_REQUEST, "seed": seed, "write_fraction": 0.5,
              "gap_us": 10.0}
    return pd.DataFrame(rows), _sidecar("working_set", policy_set(cap), params, TOTAL_COLUMNS)


def _cliff_cell(cell: tuple) -> list[dict]:
    order, w, cap, requests, slots, seed = cell
    trace = working_set(requests, working_set_pages=w, slots=slots, order=order, seed=seed)
    return [{"label": label(policy), **describe(policy), "order": order, "working_set_pages": w,
             **simulate(trace, policy).totals()} for policy in policy_set(cap)]


def lru_tradeoff(*, caps=(ONE_PAGE_CAP, 2 * ONE_PAGE_CAP, LINUX_MAX_PERSISTENT_GRANTS), ms=(1, 2, 3, 4, 8, 16),
                 ratios=(1.25, 1.5, 2.0), requests: int = 20000, slots: int = 16, seed: int = 1,
                 workers: int | None = 1, dask: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Ian's LRU: hit rate and unmap batches for N (cap, pages), M and working set = ratio x N.

    Each (cap, ratio) cell is one task for :func:`analysis.compute.map_ordered`, as in :func:`cliff`.
    """
    cells = [(cap, ratio, tuple(ms), requests, slots, seed) for cap in caps for ratio in ratios]
    rows = [row for part in map_ordered(_lru_cell, cells, workers=workers, dask=dask) for row in part]
    params = {"cap_pages": list(caps), "m": list(ms), "working_set_ratio": list(ratios), "requests": requests,
              "slots_in_flight": slots, "segments": SEGMENTS_PER_REQUEST, "order": "random", "seed": seed}
    return pd.DataFrame(rows), _sidecar("working_set", [Lru(cap=c, m=m) for c in caps for m in ms], params, TOTAL_COLUMNS)


def _lru_cell(cell: tuple) -> list[dict]:
    cap, ratio, ms, requests, slots, seed = cell
    w = int(round(cap * ratio))
    trace = working_set(requests, working_set_pages=w, slots=slots, order="random", seed=seed)
    rows = []
    for m in ms:
        policy = Lru(cap=cap, m=m)
        rows.append({"label": label(policy), **describe(policy), "ratio": ratio, "working_set_pages": w,
                     **simulate(trace, policy).totals()})
    return rows


def _per_request(trace, policies, every: int = 1) -> pd.DataFrame:
    """One row per request and policy, or per window of ``every`` requests (counts summed, pages at
    their maximum, time and index of the window's first request, status of its last)."""
    frames = []
    for policy in policies:
        table = simulate(trace, policy).frame().drop(columns=["peak_resident_pages", "hits"])
        table.insert(0, "request", np.arange(len(table)))
        if every > 1:
            table = table.groupby(table["request"] // every).agg(
                {"request": "first", "time_us": "first", "segments": "sum", "maps": "sum", "transient_maps": "sum",
                 "unmaps": "sum", "unmap_batches": "sum", "tlb_flushes": "sum", "lookup_comparisons": "sum", "resident_pages": "max",
                 "mapped_pages": "max", "memcpy_bytes": "sum", "status": "last"})
            table.insert(1, "requests", every)
        table.insert(0, "label", label(policy))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def malicious(*, cap: int = ONE_PAGE_CAP, requests: int = 2000, slots: int = ONE_PAGE_SLOTS,
              seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Per-request counts for a frontend sending fresh grefs every time (the DoS the cap is for)."""
    trace = fresh(requests, slots=slots, seed=seed)
    policies = policy_set(cap)
    return _per_request(trace, policies), _sidecar("fresh", policies, {"cap_pages": cap, **trace.params}, PER_REQUEST_COLUMNS)


def burst_then_idle(*, cap: int = LINUX_MAX_PERSISTENT_GRANTS, requests: int = 12000, slots: int = ring_slots(1),
                    seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Per-request memory over time for the phase workload (a two-page ring bursting for 30 ms, then
    idle for about 75 s with one request in flight), with and without Linux's 60 s expiry."""
    trace = phase(requests, slots=slots, burst_requests=3000, idle_requests=3000, idle_gap_us=25000.0, seed=seed)
    policies = [NonPersistent(), PersistentTree(cap=cap, fallback="gref"), Lru(cap=cap, m=2), LinuxLru(cap=cap),
                LinuxLru(cap=cap, unused_seconds=LINUX_PERSISTENT_GRANT_UNUSED_SECONDS)]
    return (_per_request(trace, policies, every=10),
            _sidecar("phase", policies, {"cap_pages": cap, "rows": "windows of 10 requests", **trace.params}, PER_REQUEST_COLUMNS))


def predictability(*, cap: int = ONE_PAGE_CAP, working_sets=(264, 352, 440), requests: int = 2000, slots: int = 16,
                   seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Per-request counts near the cap: what one guest sees request by request (Jan Beulich's point)."""
    policies = [PersistentArray(cap=cap), PersistentTree(cap=cap, fallback="gref"), FailPastLimit(cap=cap), Lru(cap=cap, m=2)]
    frames = []
    for w in working_sets:
        table = _per_request(working_set(requests, working_set_pages=w, slots=slots, seed=seed), policies)
        frames.append(table.assign(working_set_pages=w))
    params = {"cap_pages": cap, "working_set_pages": list(working_sets), "requests": requests, "slots_in_flight": slots,
              "segments": SEGMENTS_PER_REQUEST, "order": "random", "seed": seed}
    return pd.concat(frames, ignore_index=True), _sidecar("working_set", policies, params, PER_REQUEST_COLUMNS)


DATASETS = {
    "grants-cliff-simulated": cliff,
    "grants-lru-tradeoff-simulated": lru_tradeoff,
    "grants-malicious-simulated": malicious,
    "grants-phase-simulated": burst_then_idle,
    "grants-predictability-simulated": predictability,
}


def _sidecar(workload: str, policies, params: dict, columns: dict) -> dict:
    return {"model": MODEL, "simulated": True, "workload": workload, "policies": [describe(p) for p in policies],
            "parameters": params, "columns": columns, "regenerate": COMMAND}


def caption(sidecar: dict, **shown) -> str:
    """A plot label: "simulated: <model>, workload <name> (<parameters>)" from a sidecar, plus ``shown``."""
    skip = {"write_fraction", "gap_us", "rows"}
    params = {k: v for k, v in sidecar["parameters"].items() if k not in skip and not isinstance(v, list)}
    params.update(shown)
    text = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"simulated: grant-store simulator, workload {sidecar['workload']} ({text})"


def write(out_dir: Path, name: str, table: pd.DataFrame, sidecar: dict) -> Path:
    """Write ``<name>.csv`` and ``<name>.json`` into ``out_dir``; ``name`` must contain "simulated"."""
    if "simulated" not in name:
        raise ValueError(f"simulated data set names contain 'simulated', found {name!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.csv"
    table.to_csv(path, index=False, float_format="%.6g")
    (out_dir / f"{name}.json").write_text(json.dumps({"file": path.name, **sidecar}, indent=2, default=str) + "\n")
    return path


def read(data_dir: Path, name: str) -> tuple[pd.DataFrame, dict]:
    """Read a simulated data set and its sidecar from ``<data_dir>/simulated/`` (analysis.simulated.sidecar)."""
    return sidecar_file.read(data_dir, name)


def read_all(data_dir: Path, names=tuple(DATASETS)) -> dict[str, tuple[pd.DataFrame, dict]]:
    """``{name: (table, sidecar)}`` for each of ``names``, each data set read once."""
    return {name: read(data_dir, name) for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the grant-store simulator's data sets.")
    parser.add_argument("--out", type=Path, default=Path("data/simulated"))
    parser.add_argument("--workers", type=int, default=1, help="local processes for the sweeps (default 1)")
    parser.add_argument("--dask", metavar="ADDRESS", help="run the sweeps on a Dask scheduler ('local' or tcp://...)")
    args = parser.parse_args(argv)
    sweeps = {"grants-cliff-simulated", "grants-lru-tradeoff-simulated"}
    for name, build in DATASETS.items():
        kwargs = {"workers": args.workers, "dask": args.dask} if name in sweeps else {}
        print(f"wrote {write(args.out, name, *build(**kwargs))}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
