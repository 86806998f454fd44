"""Read the bundled fio sweep (written by :mod:`analysis.collect.sweep`) and total it per run.

Measured on this Linux machine, not on Xen: N independent fio jobs stand in for N guests (see
``data/raw/measured-here/fio-sweep/README.md``). :func:`load` gives the tidy table of every job
joined with the run's conditions; :func:`totals` gives one row per run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import ManifestError
from analysis.ingest import fio

MANIFEST = "manifest.json"

#: Columns :func:`load` adds to the tidy table of :mod:`analysis.ingest.fio`, from the manifest.
CONDITIONS = ("file", "ioengine_run", "rw_run", "jobs", "rep", "order", "load1_before")




def read_manifest(data_dir) -> tuple[Path, dict]:
    """The sweep folder under ``data_dir`` and its parsed manifest.json."""
    folder = Path(data_dir) / paths.SWEEP_DIR
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"{path}: expected the sweep's manifest (run `make data-fio`), found no such file") from None
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}: expected JSON, found {err.msg.lower()} at line {err.lineno}") from None
    runs = manifest.get("runs") if isinstance(manifest, dict) else None
    if not isinstance(runs, list) or not runs:
        raise ManifestError(f"{path}: field 'runs': expected a non-empty list of runs, found {type(runs).__name__}")
    for number, run in enumerate(runs):
        missing = [k for k in ("file", "ioengine", "rw", "jobs", "rep", "order") if k not in run]
        if missing:
            raise ManifestError(f"{path}: run {number}: expected fields file, ioengine, rw, jobs, rep, order, "
                                f"found {', '.join(missing)} missing")
        if not (folder / run["file"]).is_file():
            raise ManifestError(f"{path}: run {number}, field 'file': expected an existing file, found {run['file']} missing")
    return folder, manifest


def load(data_dir) -> pd.DataFrame:
    """Every job of the bundled sweep as :mod:`analysis.ingest.fio`'s tidy table plus the run's conditions.

    Added columns (:data:`CONDITIONS`, from manifest.json): ``file`` (name of the json+ file),
    ``ioengine_run`` and ``rw_run`` (as planned; equal to fio's ``ioengine``/``rw``), ``jobs``
    (N, int64), ``rep`` (repetition, from 0), ``order`` (position in the measuring schedule),
    ``load1_before`` (the 1-minute load average just before the run: others' load on the machine).
    Raises ManifestError when the manifest is missing or names files that do not exist.
    """
    folder, manifest = read_manifest(data_dir)
    runs = pd.DataFrame(manifest["runs"])
    runs["load1_before"] = [float(r.get("loadavg_before", [math.nan])[0]) for r in manifest["runs"]]
    runs = runs[["file", "ioengine", "rw", "jobs", "rep", "order", "load1_before"]]
    runs = runs.rename(columns={"ioengine": "ioengine_run", "rw": "rw_run"}).astype(
        {"file": "string", "ioengine_run": "string", "rw_run": "string", "jobs": "int64", "rep": "int64",
         "order": "int64", "load1_before": "float64"})
    table = fio.read_many(folder / name for name in runs["file"])
    table["file"] = table["source"].str.rsplit("/", n=1).str[-1].astype("string")
    table = table.merge(runs, on="file", how="left", validate="many_to_one")
    per_run = table.groupby("file")["job"].nunique()
    expected = runs.set_index("file")["jobs"]
    wrong = per_run[per_run != expected.reindex(per_run.index)]
    if len(wrong):
        name = wrong.index[0]
        raise ManifestError(f"{folder / MANIFEST}: run {name}, field 'jobs': expected {expected[name]} fio jobs "
                            f"in the file, found {wrong.iloc[0]}")
    return table


def totals(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run: summed IOPS and bandwidth over its jobs, with the per-job spread.

    Columns: ioengine, rw, jobs, rep, iops (sum over jobs, I/O/s), bw_bytes_s (sum, B/s),
    iops_job_mean / iops_job_std / iops_job_min / iops_job_max (per-job IOPS spread),
    clat_mean_ns (ios-weighted mean completion latency over the jobs), clat_p99_ns_max (worst
    job's p99, ns), ios (sum), cpu_pct (usr+sys CPU of all jobs, % of one CPU), load1_before
    (1-minute load average before the run). "All clients" aggregates are left out so nothing counts twice.
    """
    rows = table[~table["is_aggregate"]]
    weighted = rows.assign(_clat_x_ios=rows["clat_mean_ns"] * rows["ios"].astype("float64"),
                           _cpu_pct=rows["usr_cpu_pct"] + rows["sys_cpu_pct"])
    grouped = weighted.groupby(["ioengine_run", "rw_run", "jobs", "rep"], sort=True, observed=True)
    out = grouped.agg(
        iops=("iops", "sum"),
        bw_bytes_s=("bw_bytes_s", "sum"),
        iops_job_mean=("iops", "mean"),
        iops_job_std=("iops", "std"),
        iops_job_min=("iops", "min"),
        iops_job_max=("iops", "max"),
        ios=("ios", "sum"),
        cpu_pct=("_cpu_pct", "sum"),
        load1_before=("load1_before", "first"),
        clat_p99_ns_max=("clat_p99_ns", "max"),
        _clat_x_ios=("_clat_x_ios", "sum"),
    )
    out["clat_mean_ns"] = out.pop("_clat_x_ios") / out["ios"].astype("float64")
    out = out.reset_index().rename(columns={"ioengine_run": "ioengine", "rw_run": "rw"})
    return out.astype({"ioengine": "string", "rw": "string", "jobs": "int64", "rep": "int64", "ios": "int64"})


