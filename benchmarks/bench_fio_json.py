"""Speed and memory of analysis.ingest.fio on a json+ file, against Debian's fio_jsonplus_clat2csv.

Baseline: ``fio_jsonplus_clat2csv FILE STUB`` (ships with the fio package) turns json+
``clat_ns.bins`` into one CSV per job. Ours: ``fio.read`` (summary table) + ``fio.read_histogram``
(the same bins as one tidy table) on the same file. Both are timed side by side in this run,
several repeats each, as whole processes (interpreter start, imports, parsing, output), and ours
also in-process (how the notebooks and the CLI's callers use it); the cost of starting Python and
importing pandas alone is printed too, since it dominates small files. The json+ files are
written by fio into benchmarks/.work/ (32 and 512 jobs, randrw on memory files) unless one is
given; the biggest file of the bundled sweep is timed too.

Usage: ``python benchmarks/bench_fio_json.py [FILE.json]``; ``make bench`` runs it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.ingest import fio  # noqa: E402

WORK = ROOT / "benchmarks" / ".work"
SWEEP = ROOT / "data" / "raw" / "measured-here" / "fio-sweep"
REPEATS = 5
BASELINE = "fio_jsonplus_clat2csv"
OURS_CODE = ("import sys; from analysis.ingest import fio; "
             "t = fio.read(sys.argv[1]); h = fio.read_histogram(sys.argv[1]); "
             "h.to_csv(sys.argv[2], index=False)")


def make_jsonplus(folder: Path, jobs: int) -> Path:
    """A json+ file from fio: ``jobs`` jobs of 4 KiB randrw on memory files (both directions binned)."""
    out = folder / f"bench-{jobs}jobs.json"
    if out.exists():
        return out
    data = Path(tempfile.mkdtemp(prefix="pgrant-bench-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        subprocess.run(["fio", "--name=bench", f"--directory={data}", "--rw=randrw", "--bs=4k", "--ioengine=psync",
                        "--size=2M", f"--numjobs={jobs}", "--thread", "--output-format=json+", f"--output={out}"],
                       check=True, capture_output=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return out


# A child's peak RSS (ru_maxrss) also counts the memory of the process that forked it, so each
# command is started from this small wrapper interpreter, not from the benchmark (which holds
# pandas); the wrapper prints the child's wall time and peak RSS.
WRAPPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
           "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def run_timed(command: list[str]) -> tuple[float, int]:
    """Wall time (s) and peak resident memory (KiB) of one child process."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", WRAPPER, *command], capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {proc.stderr[-300:]}")
    seconds, rss_kib = proc.stdout.split()
    return float(seconds), int(rss_kib)


def in_process(path: Path) -> tuple[list[float], int, int, int]:
    """Times (s) of read + read_histogram in this process, peak traced memory (bytes), row counts."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        table = fio.read(path)
        hist = fio.read_histogram(path)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fio.read(path)
    fio.read_histogram(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak, len(table), len(hist)


def bench(path: Path, scratch: Path) -> None:
    size_mib = path.stat().st_size / 2**20
    print(f"file: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({size_mib:.2f} MiB)")
    ours_times, ours_peak, rows, bins = in_process(path)
    ours_proc, base_proc, floor = [], [], []
    for i in range(REPEATS):  # interleaved, so load changes hit both alike
        ours_proc.append(run_timed([sys.executable, "-c", OURS_CODE, str(path), str(scratch / f"ours{i}.csv")]))
        floor.append(run_timed([sys.executable, "-c", "import pandas"]))
        base_proc.append(run_timed([BASELINE, str(path), str(scratch / f"base{i}")]))
    base_t = [t for t, _ in base_proc]
    ours_t = [t for t, _ in ours_proc]
    print(f"  ours in-process (read + read_histogram): min {min(ours_times) * 1e3:8.1f} ms, "
          f"median {statistics.median(ours_times) * 1e3:8.1f} ms; {rows} summary rows, {bins} histogram rows; "
          f"peak traced memory {ours_peak / 2**20:.1f} MiB")
    print(f"  ours as a process (+ CSV out)          : min {min(ours_t) * 1e3:8.1f} ms, "
          f"median {statistics.median(ours_t) * 1e3:8.1f} ms; peak RSS {max(m for _, m in ours_proc) / 1024:.0f} MiB")
    print(f"  {BASELINE:38s} : min {min(base_t) * 1e3:8.1f} ms, "
          f"median {statistics.median(base_t) * 1e3:8.1f} ms; peak RSS {max(m for _, m in base_proc) / 1024:.0f} MiB")
    print(f"  of which: python + import pandas      : min {min(t for t, _ in floor) * 1e3:8.1f} ms, "
          f"median {statistics.median(t for t, _ in floor) * 1e3:8.1f} ms")
    print(f"  ratio process/process (ours / baseline): min {min(ours_t) / min(base_t):.2f}x, "
          f"median {statistics.median(ours_t) / statistics.median(base_t):.2f}x  (goal: < 1)")
    print(f"  ratio in-process / baseline process    : min {min(ours_times) / min(base_t):.3f}x, "
          f"median {statistics.median(ours_times) / statistics.median(base_t):.3f}x")


def main(argv: list[str]) -> int:
    if shutil.which(BASELINE) is None or shutil.which("fio") is None:
        print(f"skipped: needs fio and {BASELINE} on PATH (Debian: apt-get install fio)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    files = [Path(a).resolve() for a in argv] or [make_jsonplus(WORK, jobs) for jobs in (32, 512)]
    if not argv and SWEEP.is_dir():
        files.append(max(SWEEP.glob("*.json"), key=lambda p: p.stat().st_size))
    print(f"{REPEATS} repeats each, baseline and ours interleaved; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-fio-json-") as scratch:
        for path in files:
            bench(path, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
