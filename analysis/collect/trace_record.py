"""Record the bundled block trace here: fio writes its iolog and per-I/O lat log (``make data-trace``).

What runs: one fio job doing mixed random I/O (70 % reads; 4 KiB to 256 KiB requests, more than
11 segments for the large ones) with ``direct=1`` and ``ioengine=libaio``, up to 32 requests in
flight, Poisson arrivals at ``rate_iops``, for ``runtime``, on a file in a temporary folder on
the machine's own disk (O_DIRECT needs a real block device below the file system; tmpfs has
none). fio writes the trace twice: ``write_iolog`` (version 3: arrival times in us, no
completions) and ``write_lat_log`` with ``log_offset=1`` (one line per I/O at completion, with
its total latency: arrival and completion). Both are read by :mod:`analysis.ingest.trace`.

This is a 2-vCPU KVM guest and its virtio disk, **not Xen**: there is no blkfront here; the
trace is the request stream a guest's block layer issued, which is what a blkfront would have
turned into ring requests (:mod:`analysis.xen.grants.blkfront`).

The folder is written whole: a temporary sibling folder, renamed at the end; it replaces only an
earlier recording of this module (``recorded_by`` in its manifest), never other files.
Run: ``python -m analysis.collect.trace_record data/raw/measured-here/trace-fio-randrw``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from analysis import machine
from analysis.errors import MeasurementError, PgrantLabError, UsageError

JOB = """[global]
filename={data}
size=128M
direct=1
ioengine=libaio
iodepth=32
rw=randrw
rwmixread=70
bssplit=4k/45:8k/10:16k/10:32k/5:64k/15:128k/10:256k/5
rate_iops={rate_iops}
rate_process=poisson
runtime={runtime}
time_based=1
randseed=20121024

[trace]
write_iolog=trace.iolog
write_lat_log=trace
log_offset=1
"""
RATE_IOPS = 1500
RUNTIME = "4s"


def record(out_dir: Path, *, rate_iops: int = RATE_IOPS, runtime: str = RUNTIME) -> Path:
    """Run the job and write ``out_dir`` (README.md, manifest.json, trace.iolog, trace_lat.1.log, fio.json)."""
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    if shutil.which("fio") is None:
        raise MeasurementError("fio: expected fio on PATH (Debian: apt-get install fio), found none")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    # fio runs in `partial`: the data file's path must be absolute, and outside the folder we keep.
    scratch = Path(tempfile.mkdtemp(prefix=".pgrant-trace-data-", dir=out_dir.parent)).resolve()
    try:
        job = JOB.format(data=scratch / "disk.dat", rate_iops=rate_iops, runtime=runtime)
        (partial / "trace.fio").write_text(job)
        command = ["fio", "--output-format=json", "--output=fio.json", "trace.fio"]
        start = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        proc = subprocess.run(command, cwd=partial, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise MeasurementError(f"fio: expected exit status 0, found {proc.returncode}: {proc.stderr.strip()[:300]}")
        for extra in ("trace_clat.1.log", "trace_slat.1.log"):  # same I/Os, partial latencies: not needed
            (partial / extra).unlink(missing_ok=True)
        facts = machine.facts()
        manifest = {
            "measured_here": True,
            "recorded_by": "analysis.collect.trace_record",
            "title": "block trace recorded here with fio (iolog v3 + per-I/O lat log), not Xen",
            "what": ("one fio job on a file on this KVM guest's virtio disk: mixed random I/O, 70 % reads, "
                     "4-256 KiB requests, direct=1, libaio, iodepth=32, Poisson arrivals; no Xen, no blkfront"),
            "command": "python -m analysis.collect.trace_record " + str(out_dir) + " (make data-trace); fio runs "
                       + " ".join(command),
            "job_file": "trace.fio",
            "date_utc": start,
            "machine": facts,
            "files": {"trace.iolog": "fio write_iolog, version 3 (arrival time us, file, action, offset, length)",
                      "trace_lat.1.log": "fio write_lat_log with log_offset=1 (completion ms, total latency ns, "
                                         "direction, size, offset, priority flag)",
                      "fio.json": "fio's summary (--output-format=json)",
                      "trace.fio": "the job file"},
            "read_with": "analysis.ingest.trace.read_trace(path, 'fio-lat-log') or read_trace(path, 'fio-iolog')",
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (partial / "README.md").write_text(_readme(out_dir, manifest, facts))
        partial.chmod(0o755)
        if out_dir.exists():  # an earlier recording by this module (checked above): swap it out whole
            shutil.rmtree(out_dir)
        partial.rename(out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
    return out_dir


def _check_replaceable(out_dir: Path) -> None:
    """Refuse a folder that is neither empty nor an earlier recording of this module."""
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    try:
        earlier = json.loads((out_dir / "manifest.json").read_text()).get("recorded_by") == "analysis.collect.trace_record"
    except (OSError, ValueError, AttributeError):
        earlier = False
    if not earlier:
        raise UsageError(f"{out_dir}: expected an empty folder or an earlier trace recording (manifest.json with "
                         "recorded_by analysis.collect.trace_record) to replace, found other files; nothing was deleted")


def _readme(out_dir: Path, manifest: dict, facts: dict) -> str:
    return f"""# Block trace measured here (not Xen)

Source: **measured on this machine** by `make data-trace` (`python -m analysis.collect.trace_record {out_dir}`),
{manifest['date_utc']}.

- Machine: {machine.describe(facts)}. A KVM guest shared with other processes: **not a Xen host, no
  blkfront/blkback involved**. The trace is the request stream this guest's block layer issued to
  its virtio disk; notebook 11 replays it through a *model* of blkfront and blkback's grant policies.
- What: one fio job (`trace.fio`): mixed random I/O on a 128 MiB file, 70 % reads, request sizes
  4k/45 %, 8k/10 %, 16k/10 %, 32k/5 %, 64k/15 %, 128k/10 %, 256k/5 % (fio `bssplit`), `direct=1`,
  `ioengine=libaio`, `iodepth=32`, Poisson arrivals (`rate_process=poisson`, `rate_iops` in the
  job file), 4 s, seed 20121024.
- Files: `trace.iolog` (fio `write_iolog`, version 3: arrival time in us, no completion),
  `trace_lat.1.log` (fio `write_lat_log` + `log_offset=1`: one line per I/O at completion, time in
  ms, total latency in ns), `fio.json` (fio's summary), `manifest.json` (command, machine facts).
- Read with `analysis.ingest.trace.read_trace(path, "fio-lat-log")` (arrival and completion) or
  `read_trace(path, "fio-iolog")`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.collect.trace_record", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rate-iops", type=int, default=RATE_IOPS)
    parser.add_argument("--runtime", default=RUNTIME)
    args = parser.parse_args(argv)
    try:
        print(record(args.out_dir, rate_iops=args.rate_iops, runtime=args.runtime))
    except PgrantLabError as err:
        print(f"trace_record: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
