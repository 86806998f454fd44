"""Simulated unmap costs for notebook 04: ``ShootdownModel``'s function plus seeded noise, on disk.

The data set ``data/simulated/shootdown-unmap-simulated.csv`` holds, for two experiment designs,
the cost of one grant unmap (ns) that :func:`analysis.models.shootdown.unmap_ns` gives with the
parameters in ``TRUTH``, times (1 + ``NOISE_SHARE`` z) with z ~ N(0, 1) drawn from
``numpy.random.default_rng(SEED)``, design by design in the order of ``DESIGNS``:

* design ``a``: dom0 VCPUs 1..24, one thread unmapping (contention is not identified);
* design ``b``: the same VCPU counts with 1, 2 and 4 threads unmapping at once.

The truth is illustrative (the rule of thumb "~1 us + ~200 ns per receiving core", Amit, USENIX
ATC'17, plus a contention of 0.25); nothing here was measured. The sidecar
``shootdown-unmap-simulated.json`` names the model, the function and formula, every parameter with
its unit, the noise model, the seed, both designs' grids and the command that regenerates the file
(``make data-simulated``, i.e. ``python -m analysis.simulated.shootdown --out data/simulated``).
:func:`read` validates the CSV against its sidecar; :func:`regenerate` rebuilds the table from a
sidecar's parameters alone.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.models.shootdown import ShootdownModel, unmap_ns
from analysis.simulated import sidecar as sidecar_file

NAME = "shootdown-unmap-simulated"
MODEL = "ShootdownModel (kind='contention')"
FUNCTION = "analysis.models.shootdown.unmap_ns"
FORMULA = "unmap_ns = base_ns + per_vcpu_ns * dom0_vcpus * (1 + contention * (unmappers - 1))"
NOISE = ("multiplicative Gaussian: unmap_ns = formula * (1 + noise_share * z), z ~ N(0, 1) independent, "
         "drawn from numpy.random.default_rng(seed) design by design in the order of 'designs'")
COMMAND = "make data-simulated  (python -m analysis.simulated.shootdown --out data/simulated)"

#: The simulated truth (illustrative): ~1 us + ~200 ns per receiving core, plus contention 0.25.
TRUTH = {"base_ns": 1000.0, "per_vcpu_ns": 200.0, "contention": 0.25}
#: Standard deviation of the noise as a share of each noiseless value (1).
NOISE_SHARE = 0.05
SEED = 0
VCPU_GRID = (1, 2, 4, 8, 12, 16, 24)
REPEATS = 3
DESIGNS = {
    "a": {"description": "vary dom0 VCPUs only, one thread unmapping",
          "dom0_vcpus": [v for v in VCPU_GRID for _ in range(REPEATS)],
          "unmappers": [1] * (len(VCPU_GRID) * REPEATS)},
    "b": {"description": "vary dom0 VCPUs and the threads unmapping at once (1, 2, 4)",
          "dom0_vcpus": [v for v in VCPU_GRID for _ in range(REPEATS)],
          "unmappers": [1, 2, 4] * len(VCPU_GRID)},
}
COLUMNS = {
    "design": "experiment design (key of the sidecar's 'designs')",
    "dom0_vcpus": "dom0 VCPUs that take the flush IPI (count)",
    "unmappers": "threads unmapping at once (count)",
    "unmap_ns": "simulated cost of one unmap (ns)",
}


def unmap_costs(*, base_ns: float, per_vcpu_ns: float, contention: float, noise_share: float,
                seed: int, designs: dict) -> pd.DataFrame:
    """Simulated cost of one unmap (ns) for every point of every design: ``unmap_ns`` with these
    parameters times (1 + noise_share z), z ~ N(0, 1) from ``default_rng(seed)``, designs in order.

    ``designs``: name -> {"dom0_vcpus": [count], "unmappers": [count]} (equal lengths).
    """
    rng = np.random.default_rng(seed)
    frames = []
    for name, design in designs.items():
        vcpus = np.asarray(design["dom0_vcpus"], dtype=float)
        unmappers = np.asarray(design["unmappers"], dtype=float)
        mean = unmap_ns(np.vstack([vcpus, unmappers]), base_ns=base_ns, per_vcpu_ns=per_vcpu_ns,
                        contention=contention)
        noisy = mean * (1 + noise_share * rng.standard_normal(mean.size))
        frames.append(pd.DataFrame({"design": name, "dom0_vcpus": vcpus.astype(int),
                                    "unmappers": unmappers.astype(int), "unmap_ns": noisy}))
    return pd.concat(frames, ignore_index=True)


def sidecar(*, truth: dict = TRUTH, noise_share: float = NOISE_SHARE, seed: int = SEED,
            designs: dict = DESIGNS) -> dict:
    """The sidecar of the data set: model, function, parameters with units, noise, seed, designs."""
    units = {p.name: (p.unit, p.doc) for p in ShootdownModel.parameters}
    return {
        "file": f"{NAME}.csv", "simulated": True, "model": MODEL, "function": FUNCTION, "formula": FORMULA,
        "parameters": {k: {"value": v, "unit": units[k][0], "meaning": units[k][1]} for k, v in truth.items()},
        "noise": {"model": NOISE, "noise_share": {"value": noise_share, "unit": "1",
                                                  "meaning": "standard deviation as a share of each value"}},
        "seed": seed, "designs": designs, "columns": COLUMNS, "regenerate": COMMAND,
        "source": "illustrative truth: rule of thumb ~1 us + ~200 ns per receiving core (Amit, USENIX ATC'17) "
                  "plus contention 0.25; not a measurement",
    }


def truth(side: dict) -> dict:
    """The model parameters a sidecar names: {"base_ns": ns, "per_vcpu_ns": ns/VCPU, "contention": 1}."""
    return {k: float(p["value"]) for k, p in side["parameters"].items()}


def regenerate(side: dict) -> pd.DataFrame:
    """The table a sidecar describes, rebuilt from its parameters, noise share, seed and designs."""
    return unmap_costs(**truth(side), noise_share=float(side["noise"]["noise_share"]["value"]),
                       seed=int(side["seed"]), designs=side["designs"])


def caption(side: dict) -> str:
    """A plot label: "simulated: <model>, <parameters with units>, <noise>, seed <n>" from a sidecar."""
    params = ", ".join(f"{k} = {p['value']:g}" + ("" if p["unit"] == "1" else f" {p['unit']}")
                       for k, p in side["parameters"].items())
    share = side["noise"]["noise_share"]["value"]
    return (f"simulated: {side['function'].rsplit('.', 1)[-1]} of {side['model']}, {params}, "
            f"{share:.0%} Gaussian noise, seed {side['seed']}")


def write(out_dir: Path, table: pd.DataFrame, side: dict) -> Path:
    """Write ``<NAME>.csv`` (full float precision) and its sidecar ``<NAME>.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{NAME}.csv"
    table.to_csv(path, index=False)
    (out_dir / f"{NAME}.json").write_text(json.dumps(side, indent=2) + "\n")
    return path


_fail = sidecar_file.fail


def _number(path: Path, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(path, field, "a finite number", repr(value))
    return float(value)


def _check_sidecar(path: Path, side: dict) -> None:
    """The shootdown data set's sidecar: model, function, parameters, noise, seed, designs."""
    for key in ("model", "function", "regenerate"):
        if not isinstance(side.get(key), str) or not side[key]:
            _fail(path, key, "a non-empty string", repr(side.get(key)))
    params = side.get("parameters")
    names = [p.name for p in ShootdownModel.parameters]
    if not isinstance(params, dict) or sorted(params) != sorted(names):
        _fail(path, "parameters", f"exactly {', '.join(names)}",
              ", ".join(params) if isinstance(params, dict) else repr(params))
    for name, entry in params.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("unit"), str):
            _fail(path, f"parameters.{name}", "an object with 'value' and 'unit'", repr(entry))
        _number(path, f"parameters.{name}.value", entry.get("value"))
    noise = side.get("noise")
    share = noise.get("noise_share") if isinstance(noise, dict) else None
    if not isinstance(share, dict) or _number(path, "noise.noise_share.value", share.get("value")) < 0:
        _fail(path, "noise.noise_share.value", "a number >= 0", repr(share))
    if isinstance(side.get("seed"), bool) or not isinstance(side.get("seed"), int):
        _fail(path, "seed", "an integer", repr(side.get("seed")))
    designs = side.get("designs")
    if not isinstance(designs, dict) or not designs:
        _fail(path, "designs", "an object of designs", repr(designs))
    for name, design in designs.items():
        vcpus, unmappers = (design.get(k) if isinstance(design, dict) else None for k in ("dom0_vcpus", "unmappers"))
        if not (isinstance(vcpus, list) and isinstance(unmappers, list) and len(vcpus) == len(unmappers) > 0):
            _fail(path, f"designs.{name}", "lists 'dom0_vcpus' and 'unmappers' of equal, non-zero length",
                  repr(design)[:80])


def _check_table(path: Path, table: pd.DataFrame, side: dict) -> None:
    if list(table.columns) != list(COLUMNS):
        _fail(path, "header", f"columns {', '.join(COLUMNS)}", ", ".join(map(str, table.columns)))
    for column in ("dom0_vcpus", "unmappers", "unmap_ns"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) < 0)
        if bad.any():
            row = int(np.argmax(bad))
            _fail(path, f"{column} (row {row + 2})", "a finite number >= 0", repr(table[column].iloc[row]))
    found = list(dict.fromkeys(table["design"].astype(str)))
    if found != list(side["designs"]):
        _fail(path, "design", f"the sidecar's designs {', '.join(side['designs'])} in order", ", ".join(found))
    for name, design in side["designs"].items():
        rows = table[table["design"].astype(str) == name]
        for column in ("dom0_vcpus", "unmappers"):
            if rows[column].astype(float).tolist() != [float(v) for v in design[column]]:
                _fail(path, f"{column} of design {name}", f"the sidecar's grid ({len(design[column])} values)",
                      f"{len(rows)} rows that differ from it")


def read(data_dir) -> tuple[pd.DataFrame, dict]:
    """The simulated unmap costs and their sidecar from ``<data_dir>/simulated/``, validated.

    Raises :class:`analysis.errors.SimulatedDataError` (one sentence: file, field, expected, found)
    when either file is missing or malformed, or the CSV's designs or grids disagree with the sidecar.
    """
    return sidecar_file.read(data_dir, NAME, what="the simulated unmap costs", check_sidecar=_check_sidecar,
                             check_table=_check_table, na_filter=False)  # "n/a" stays text, reported as found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the simulated unmap costs of notebook 04.")
    parser.add_argument("--out", type=Path, default=Path("data/simulated"))
    args = parser.parse_args(argv)
    side = sidecar()
    print(f"wrote {write(args.out, regenerate(side), side)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
