"""The bundled fio sweep: measure it (``make data-fio``), load it, and total it per run.

Measured on this Linux machine, not on Xen: N independent fio jobs (``numjobs=N``, each with its
own memory-backed file under /dev/shm) stand in for N guests, each issuing 4 KiB reads. The sweep
covers rw in {read, randread}, ioengine in {psync (iodepth 1), libaio (iodepth 8)}, N = 1..8, with
:data:`REPETITIONS` repetitions per point in a seeded random order (so slow drift and the other
processes sharing the machine spread over all points instead of biasing one). Each run writes
json+ to ``<ioengine>-<rw>-n<N>-r<rep>.json``; ``manifest.json`` records every command line, the
fio version, the machine (CPU model, cores, memory, kernel) and the load average before and after
each run. A few real log files from two extra runs go to ``logs/``.

Stages: :func:`measure` (raw data; only ``make data-fio`` calls it) -> :func:`load` (tidy table of
every job joined with the run's conditions) -> :func:`totals` (one row per run).

Command line: ``python -m analysis.collect.sweep measure OUTDIR``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from analysis import machine, outdir, paths
from analysis.errors import ManifestError, UsageError

#: Where ``make data-fio`` writes the sweep, relative to the data folder.
SWEEP_DIR = paths.SWEEP_DIR
MANIFEST = "manifest.json"

RW_MODES = ("read", "randread")
#: ioengine -> iodepth. psync is synchronous (fio caps it at 1); libaio keeps 8 in flight.
ENGINES = {"psync": 1, "libaio": 8}
JOB_COUNTS = tuple(range(1, 9))
REPETITIONS = 3
BLOCK = "4k"
FILE_SIZE = "64M"  # per job: 8 x 64 MiB on /dev/shm
RUNTIME = "1s"
RAMP_TIME = "200ms"
ORDER_SEED = 20121024  # the date of the 2012 persistent-grants thread; any fixed seed would do
JOB_NAME = "guest"

#: Columns :func:`load` adds to the tidy table of :mod:`analysis.ingest.fio`, from the manifest.
CONDITIONS = ("file", "ioengine_run", "rw_run", "jobs", "rep", "order", "load1_before")


# ---------------------------------------------------------------------------------------------
# measure (raw data)


def measure(out_dir: Path, *, reps: int = REPETITIONS, job_counts=JOB_COUNTS, runtime: str = RUNTIME,
            ramp_time: str = RAMP_TIME, file_size: str = FILE_SIZE, log=print) -> Path:
    """Run the sweep with fio and write json+ files, logs/, manifest.json and README.md to ``out_dir``.

    The folder is built next to ``out_dir`` and swapped in only when every run succeeded, so a
    failed sweep never leaves a half-replaced data set.
    """
    out_dir = Path(out_dir)
    outdir.claim(out_dir, command=COMMAND, option="OUTDIR", allow_raw=True, recognise=_earlier_sweep)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    data_dir = Path(tempfile.mkdtemp(prefix="pgrant-sweep-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        points = [(engine, rw, n, rep) for rep in range(reps)
                  for engine in ENGINES for rw in RW_MODES for n in job_counts]
        order = random.Random(ORDER_SEED)
        schedule = []
        for rep in range(reps):  # every point once per repetition, shuffled within it
            block = [p for p in points if p[3] == rep]
            order.shuffle(block)
            schedule += block
        started = _now()
        runs = []
        for index, (engine, rw, n, rep) in enumerate(schedule):
            name = f"{engine}-{rw}-n{n}-r{rep}.json"
            command = _fio_command(engine, rw, n, data_dir, runtime, ramp_time, file_size) + [
                "--output-format=json+", f"--output={name}"]
            runs.append(_run(command, partial, file=name, ioengine=engine, rw=rw, jobs=n, rep=rep, order=index))
            log(f"[{index + 1}/{len(schedule)}] {name}: load {runs[-1]['loadavg_before'][0]:.2f}")
        logs = _measure_logs(partial / "logs", data_dir, runtime, file_size)
        here = machine.facts()
        manifest = {
            "description": "fio sweep measured on this Linux machine (NOT Xen): numjobs=N independent jobs on "
                           "memory-backed files stand in for N guests; 4 KiB reads",
            "measured_here": True,
            "started_utc": started,
            "finished_utc": _now(),
            "fio_version": here["fio"],
            "machine": here,
            "data_files": f"{data_dir.parent}/ (tmpfs), one {file_size} file per job, deleted afterwards",
            "design": {"rw": list(RW_MODES), "ioengine_iodepth": ENGINES, "jobs": list(job_counts),
                       "repetitions": reps, "bs": BLOCK, "file_size_per_job": file_size, "runtime": runtime, "ramp_time": ramp_time,
                       "order": f"random within each repetition, seed {ORDER_SEED}"},
            "runs": runs,
            "logs": logs,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        (partial / "README.md").write_text(_readme(manifest))
        outdir.write_marker(partial, command=COMMAND)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        partial.rename(out_dir)
        out_dir.chmod(0o755)  # mkdtemp made it private
        return out_dir
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


COMMAND = "python -m analysis.collect.sweep measure"


def _earlier_sweep(out_dir: Path) -> bool:
    """A sweep written before analysis.outdir's marker existed: its manifest says measured_here."""
    try:
        return json.loads((out_dir / MANIFEST).read_text()).get("measured_here") is True
    except (OSError, ValueError, AttributeError):
        return False


def _fio_command(engine, rw, n, data_dir, runtime, ramp_time, file_size) -> list[str]:
    return ["fio", f"--name={JOB_NAME}", f"--directory={data_dir}", f"--rw={rw}", f"--bs={BLOCK}",
            f"--ioengine={engine}", f"--iodepth={ENGINES[engine]}", f"--size={file_size}", f"--numjobs={n}",
            "--time_based", f"--runtime={runtime}", f"--ramp_time={ramp_time}"]


def _run(command: list[str], cwd: Path, **conditions) -> dict:
    before, started = os.getloadavg(), _now()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    after = os.getloadavg()
    if proc.returncode != 0:
        raise RuntimeError(f"fio failed ({proc.returncode}): {' '.join(command)}: {proc.stderr.strip()}")
    return {**conditions, "command": " ".join(command), "started_utc": started,
            "loadavg_before": [round(x, 2) for x in before], "loadavg_after": [round(x, 2) for x in after]}


def _measure_logs(folder: Path, data_dir: Path, runtime: str, file_size: str) -> list[dict]:
    """Two runs that keep fio's log files: window-averaged logs + histogram log, and per-I/O logs."""
    folder.mkdir()
    averaged = _fio_command("psync", "randread", 2, data_dir, runtime, "0", file_size) + [
        "--write_bw_log=avg", "--write_iops_log=avg", "--write_lat_log=avg", "--log_avg_msec=100",
        "--write_hist_log=avg", "--log_hist_msec=100", "--output-format=json+", "--output=avg.json"]
    # rate-limited so that one line per I/O stays small (about 2000 lines per log)
    per_io = _fio_command("libaio", "randread", 1, data_dir, runtime, "0", file_size) + [
        "--rate_iops=2000", "--write_bw_log=perio", "--write_iops_log=perio", "--write_lat_log=perio",
        "--log_offset=1", "--output-format=json+", "--output=perio.json"]
    return [_run(averaged, folder, file="avg.json", what="log_avg_msec=100 window averages + clat histogram log"),
            _run(per_io, folder, file="perio.json", what="one line per I/O, log_offset=1, rate_iops=2000")]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _readme(manifest: dict) -> str:
    d = manifest["design"]
    return f"""# fio sweep measured here (not Xen)

Source: **measured on this machine** by `make data-fio` (`python -m analysis.collect.sweep measure
data/raw/measured-here/fio-sweep`), {manifest['started_utc']} to {manifest['finished_utc']}.

- Machine: {machine.describe(manifest)}; {manifest['fio_version']}. An ordinary Linux machine
  shared with other processes: **not a Xen host, no blkfront/blkback involved**. The load average
  before and after each run is in `manifest.json`; treat the numbers as noisy. With only
  {manifest['machine']['logical_cores']} cores shared with other busy processes, more fio jobs also win a larger
  share of the CPUs from those processes (compare the jobs' `usr_cpu`+`sys_cpu`), so total IOPS
  can keep rising past {manifest['machine']['logical_cores']} jobs: that is CPU scheduling on this machine, not device or
  Xen scaling.
- What: N = {d['jobs'][0]}..{d['jobs'][-1]} independent fio jobs (`numjobs=N`, one {d['file_size_per_job']} file each on
  tmpfs under /dev/shm, standing in for N guests), {d['bs']} reads, rw in {d['rw']},
  ioengine (iodepth) in {d['ioengine_iodepth']}, `runtime={d['runtime']}` after `ramp_time={d['ramp_time']}`,
  {d['repetitions']} repetitions per point, {d['order']}.
- Files: `<ioengine>-<rw>-n<N>-r<rep>.json` (fio `--output-format=json+`, one entry per job);
  `manifest.json` (every command line, machine facts, load averages); `logs/` (two extra runs
  keeping fio's bw/iops/lat logs with `log_avg_msec=100` plus a clat histogram log, and per-I/O
  logs with `log_offset=1` at `rate_iops=2000`; see `manifest.json` "logs").
- Read with `analysis.ingest.sweep.load(data_dir)` (tidy table, one row per job and direction) and
  `analysis.ingest.sweep.totals(table)` (one row per run).
"""


# ---------------------------------------------------------------------------------------------
# command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.collect.sweep", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("measure", help="run the fio sweep (about 3-4 minutes) and write its folder")
    p.add_argument("out_dir", type=Path, metavar="OUTDIR")
    args = parser.parse_args(argv)
    try:
        out = measure(args.out_dir, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    except UsageError as err:
        print(f"python -m analysis.collect.sweep: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
