"""The flush-lock simulation of notebook 12, as a data set: ``data/simulated/flush-lock-simulated.csv``.

What it holds: total IOPS against guests (1..16) from the discrete-event simulation of the flush
path (:func:`analysis.models.flush_sim.simulate`) with the lock-collapse chain's parameters fitted
to the 2012 thread (the middle member of :func:`analysis.models.flush_path.collapse_family`), once
with exponential times (the chain's own assumptions) and once with deterministic times (the
mechanism without randomness). The sidecar ``flush-lock-simulated.json`` names the model, every
parameter with its unit, the seed and the command that regenerates the file byte for byte
(``make data-simulated``; ``python -m analysis.simulated.flush --out data/simulated``).

Columns: ``guests`` (count), ``dist`` (exp | det), ``iops`` (simulated total I/O per second),
``requests`` (simulated requests per point, after the warm-up).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.simulated import sidecar as sidecars

NAME = "flush-lock-simulated"
MODEL = "analysis.models.flush_sim.simulate (discrete-event simulation of the flush lock)"
COMMAND = "make data-simulated  (python -m analysis.simulated.flush --out data/simulated)"
GUESTS = tuple(range(1, 17))
DISTS = ("exp", "det")
DOM0_CPUS = 24  # the thread's dom0 (iops-vs-guests.csv)
REQUESTS = 20_000
SEED = 0
COLUMNS = {"guests": "guests (count)", "dist": "service-time distribution: exp | det",
           "iops": "simulated total throughput (I/O per second)", "requests": "simulated requests per point"}


def chain_parameters(points: pd.DataFrame) -> dict:
    """The middle member of the lock-collapse family that reproduces the thread's points, in us
    (analysis.models.flush_path.middle_member / chain_parameters)."""
    from analysis.models import flush_path

    return flush_path.chain_parameters(flush_path.middle_member(flush_path.collapse_family(points)))


def sidecar(parameters: dict, *, requests: int = REQUESTS, seed: int = SEED) -> dict:
    return {"simulated": True, "model": MODEL, "parameters_us": parameters, "dom0_cpus": DOM0_CPUS,
            "guests": list(GUESTS), "dists": list(DISTS), "requests_per_point": requests,
            "seed": seed, "seeds": "seed + guests for each point",
            "source_of_parameters": "lock-collapse chain fitted to the thread's digitized points (seed-thread, iops-vs-guests.csv) "
                                    "(analysis.models.flush_path.collapse_family, middle member)",
            "columns": COLUMNS, "regenerate": COMMAND}


def regenerate(side: dict) -> pd.DataFrame:
    """The table the sidecar describes, recomputed (deterministic for a given seed)."""
    from analysis.models.flush_sim import simulate

    p = side["parameters_us"]
    seconds = {"think_s": p["think_us"] * 1e-6, "hold_base_s": p["hold_base_us"] * 1e-6,
               "hold_per_cpu_s": p["hold_per_cpu_us"] * 1e-6, "handoff_s": p["handoff_us"] * 1e-6}
    rows = []
    for g in side["guests"]:
        for dist in side["dists"]:
            res = simulate(int(g), dom0_cpus=int(side["dom0_cpus"]), requests=int(side["requests_per_point"]),
                           seed=int(side["seed"]) + int(g), dist=dist, **seconds)
            rows.append({"guests": int(g), "dist": dist, "iops": round(res.iops, 3),
                         "requests": int(side["requests_per_point"])})
    return pd.DataFrame(rows)


def caption(side: dict) -> str:
    """A plot label naming the simulation and its parameters."""
    p = side["parameters_us"]
    return (f"simulated: flush-lock DES, {side['dom0_cpus']} dom0 CPUs, think {p['think_us']:.2f} us, hold "
            f"{p['hold_base_us']:.3f} us, handoff {p['handoff_us']:.3f} us per waiter, "
            f"{side['requests_per_point']:,} requests/point, seed {side['seed']} (data/simulated/{NAME}.csv)")


def write(out_dir: Path, table: pd.DataFrame, side: dict) -> Path:
    """Write ``<NAME>.csv`` and its sidecar ``<NAME>.json`` into ``out_dir``."""
    return sidecars.write(out_dir, NAME, table, side)


def _check_sidecar(path: Path, side: dict) -> None:
    params = side.get("parameters_us")
    if not isinstance(params, dict) or set(params) != {"think_us", "hold_base_us", "hold_per_cpu_us", "handoff_us"}:
        sidecars.fail(path, "parameters_us", "think_us, hold_base_us, hold_per_cpu_us and handoff_us", repr(params))
    for key in ("dom0_cpus", "requests_per_point", "seed"):
        if not isinstance(side.get(key), int):
            sidecars.fail(path, key, "an integer", repr(side.get(key)))


def _check_table(path: Path, table: pd.DataFrame, side: dict) -> None:
    if list(table.columns) != list(COLUMNS):
        sidecars.fail(path, "(header)", ", ".join(COLUMNS), ", ".join(map(str, table.columns)))
    expected = {(int(g), d) for g in side["guests"] for d in side["dists"]}
    found = set(zip(table["guests"].astype(int), table["dist"].astype(str)))
    if found != expected:
        sidecars.fail(path, "guests/dist", f"{len(expected)} points named by the sidecar", f"{len(found)}")


def read(data_dir) -> tuple[pd.DataFrame, dict]:
    """The simulated table and its sidecar from ``<data_dir>/simulated``, checked against each other."""
    return sidecars.read(data_dir, NAME, what="the simulated flush-lock data set",
                         check_sidecar=_check_sidecar, check_table=_check_table)


def main(argv: list[str] | None = None) -> int:
    from analysis.ingest.thread import load_scaling_points

    parser = argparse.ArgumentParser(description="Regenerate the flush-lock simulation of notebook 12.")
    parser.add_argument("--out", type=Path, default=Path("data/simulated"))
    parser.add_argument("--data", type=Path, default=paths.DATA_DIR, help="data folder with the thread's points")
    args = parser.parse_args(argv)
    side = sidecar(chain_parameters(load_scaling_points(args.data)))
    print(f"wrote {write(args.out, regenerate(side), side)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
