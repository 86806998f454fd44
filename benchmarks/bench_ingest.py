"""`pgrant-lab ingest` against Debian's fio_jsonplus_clat2csv: one file per process, and a folder.

Baseline: ``fio_jsonplus_clat2csv FILE STUB`` (ships with the fio package; a Python script that
turns one json+ file into CSV). Ours: ``pgrant-lab ingest FILE --out CSV`` (the tidy summary
table; pandas is not imported on this path). Both run as whole processes, side by side in this run,
alternating, with the median of the repeats compared:

1. per file: each command on one json+ file fio wrote here, ``--repeats`` times;
2. a folder: ONE ``pgrant-lab ingest DIR`` over ``--files`` json+ files against ``--files`` runs
   of the baseline (one per file, as a user would script it).

The json+ files are real fio output: fio writes a few here (memory files under /dev/shm), and the
folder holds copies of them. Ratios < 1 mean ours is faster. Usage:
``python benchmarks/bench_ingest.py [--files 1000] [--repeats 15]``; ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "fio_jsonplus_clat2csv"
OURS = [sys.executable, "-m", "analysis.cli", "ingest"]


def write_jsonplus(folder: Path, kinds: int = 4) -> list[Path]:
    """``kinds`` json+ files written by fio (1-4 jobs of 4 KiB randread on memory files)."""
    shm = Path(tempfile.mkdtemp(prefix="pgrant-bench-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    files = []
    try:
        for jobs in range(1, kinds + 1):
            out = folder / f"fio-{jobs}jobs.json"
            subprocess.run(["fio", "--name=bench", f"--directory={shm}", "--rw=randread", "--bs=4k",
                            "--ioengine=psync", "--size=1M", f"--numjobs={jobs}", "--thread",
                            "--output-format=json+", f"--output={out}"], check=True, capture_output=True)
            files.append(out)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    return files


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def per_file(sample: Path, work: Path, repeats: int) -> tuple[float, float]:
    ours, base = [], []
    for i in range(repeats):  # alternate, so drift on a shared machine hits both alike
        ours.append(timed([*OURS, str(sample), "--out", str(work / f"ours-{i}.csv")]))
        base.append(timed([BASELINE, str(sample), str(work / f"base-{i}")]))
    return statistics.median(ours), statistics.median(base)


def folder(files: list[Path], work: Path, count: int) -> tuple[float, float]:
    data = work / "folder"
    data.mkdir()
    copies = [shutil.copy(files[i % len(files)], data / f"run-{i:05d}.json") for i in range(count)]
    ours = timed([*OURS, str(data), "--out", str(work / "folder.csv")])
    start = time.perf_counter()
    for i, path in enumerate(copies):
        subprocess.run([BASELINE, str(path), str(work / f"folder-base-{i}")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ours, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    if shutil.which(BASELINE) is None or shutil.which("fio") is None:
        print(f"skipped: needs fio and {BASELINE} on PATH (Debian: apt-get install fio)")
        return 0
    with tempfile.TemporaryDirectory(prefix="pgrant-bench-ingest-") as tmp:
        work = Path(tmp)
        files = write_jsonplus(work)
        ours, base = per_file(files[-1], work, args.repeats)
        print(f"per file ({files[-1].stat().st_size / 1024:.0f} KiB json+, median of {args.repeats}): "
              f"ours {ours * 1e3:.0f} ms, {BASELINE} {base * 1e3:.0f} ms -> ratio {ours / base:.2f}x "
              f"(goal <= 1x)")
        ours, base = folder(files, work, args.files)
        print(f"folder of {args.files} json+ files: one `pgrant-lab ingest DIR` {ours:.2f} s, "
              f"{args.files} runs of {BASELINE} {base:.2f} s -> {base / ours:.1f}x faster (goal >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
