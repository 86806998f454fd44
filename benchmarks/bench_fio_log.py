"""Speed and memory of ``analysis.ingest.fiolog.read_log`` against bare ``pandas.read_csv`` on one file.

The files are real fio 3.x completion-latency logs written by fio itself (null engine, randrw,
no averaging) into benchmarks/.work/<case>/ on first use and reused after: 5.2 million lines in
the default layout, and 2.1 million with log_offset=1 and log_prio=1 (the hex priority column).
Both readers run in the same process, interleaved, several times; we print min and median wall
time of each and their ratio (goal: read_log at most 1.25x read_csv, which only tokenises and
infers dtypes, while read_log also names, checks and converts every column). Peak memory is the
growth of the peak RSS (VmHWM) over the post-import baseline, measured in a fresh subprocess per reader.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_fio_log.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
MIN_LINES = 5_000_000
BS_BYTES = 4096
# Each case: (name, fio --size, extra fio options). 4 KiB null-engine I/Os, one log line each:
# 20 GiB = 5,242,880 lines in the default layout (time, value, ddir, bs, prio flag), written by
# fio in a few seconds; 8 GiB = 2,097,152 lines with log_offset=1 and log_prio=1 (hex prio column).
CASES = (
    ("default", "20G", ()),
    ("offset-prio", "8G", ("--log_offset=1", "--log_prio=1")),
)


def _fio_log(name: str, size: str, options: tuple[str, ...]) -> tuple[Path, dict]:
    """The benchmark log of one case and its provenance, generated with fio when missing."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "provenance.json"
    if stamp.exists():
        info = json.loads(stamp.read_text())
        path = Path(info["path"])
        if path.exists() and info["bytes"] == path.stat().st_size:
            return path, info
    if shutil.which("fio") is None:
        sys.exit("bench_fio_log: fio is not on PATH (Debian: apt-get install fio)")
    for old in folder.glob("bench_*.log"):
        old.unlink()
    command = [
        "fio", "--name=bench", "--ioengine=null", f"--size={size}", f"--bs={BS_BYTES}",
        "--rw=randrw", "--norandommap", "--write_lat_log=bench",
        "--disable_lat=1", "--disable_slat=1", *options, "--output=/dev/null",
    ]
    subprocess.run(command, cwd=folder, check=True)
    (path,) = folder.glob("bench_clat.*.log")
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    version = subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip()
    info = {"path": str(path), "lines": lines, "bytes": path.stat().st_size, "command": command, "fio": version}
    stamp.write_text(json.dumps(info, indent=1))
    return path, info


def _readers():
    import pandas as pd

    from analysis.ingest.fiolog import read_log

    return {
        "pandas.read_csv(header=None)": lambda p: pd.read_csv(p, header=None),
        "fiolog.read_log": read_log,
    }


def _time_interleaved(path: Path, repeats: int) -> dict[str, list[float]]:
    readers = _readers()
    times = {name: [] for name in readers}
    for _ in range(repeats):
        for name, read in readers.items():
            start = time.perf_counter()
            table = read(path)
            times[name].append(time.perf_counter() - start)
            del table
    return times


def _peak_rss_mib(reader: str, path: Path) -> float:
    """Peak RSS growth (MiB) of one read in a fresh interpreter, over its post-import baseline."""
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[3])\n"
        "import bench_fio_log as b\n"
        "read = b._readers()[sys.argv[1]]\n"
        "base = b._hwm_kib()\n"
        "t = read(sys.argv[2])\n"
        "print(b._hwm_kib() - base)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, reader, str(path), str(Path(__file__).parent)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip()) / 1024


def _hwm_kib() -> int:
    """This process's peak RSS in KiB (VmHWM, proc(5)). Not ru_maxrss: that survives fork + exec,
    so a child started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per reader (default 7)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (shared cores make times noisy)")
    for name, size, options in CASES:
        path, info = _fio_log(name, size, options)
        if name == "default" and info["lines"] < MIN_LINES:
            sys.exit(f"bench_fio_log: {path} has {info['lines']:,} lines, fewer than {MIN_LINES:,}")
        print(f"\n{name}: {path} ({info['lines']:,} lines, {info['bytes'] / 2**20:.0f} MiB, written by {info['fio']})")
        times = _time_interleaved(path, args.repeats)
        rss = {reader: _peak_rss_mib(reader, path) for reader in times}
        base, ours = list(times)
        print(f"  {'reader':32} {'min s':>8} {'median s':>9} {'peak RSS MiB':>13}")
        for reader, ts in times.items():
            print(f"  {reader:32} {min(ts):8.3f} {statistics.median(ts):9.3f} {rss[reader]:13.0f}")
        ratio_min = min(times[ours]) / min(times[base])
        ratio_med = statistics.median(times[ours]) / statistics.median(times[base])
        print(f"  ratio read_log / read_csv: {ratio_min:.2f}x (min), {ratio_med:.2f}x (median), "
              f"{rss[ours] / rss[base]:.2f}x (peak RSS); goal <= 1.25x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
