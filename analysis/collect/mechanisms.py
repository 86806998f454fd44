"""Measure, on this machine, the mechanisms the 2012 thread argues about, and load what was measured.

Three C programs in ``benchmarks/mechanisms/`` (compiled with the system ``cc -O2``) time:

- ``memcpy``: the copy persistent grants add to blkfront (claim (c)), per segment and per request,
  warm and cold cache; ``time_numpy_copies`` times the numpy equivalent beside it;
- ``lookup``: blkback's gref lookup (claim (d)) in the 2012 patch's pointer array and in the
  structures that replaced it, vs the number of mapped grants n;
- ``unmap``: ``munmap``/``mprotect`` of pages that threads on other CPUs have touched (claim (b)),
  the native analogue of a grant unmap and its TLB shootdown.

Stages, each a plain function: ``build`` (compile) -> ``measure_*`` (run, write
``<out>/<experiment>/`` with samples CSV, manifest.json and README.md; only ``make data-mechanisms``
calls these on ``data/raw/measured-here``) -> ``load_*`` (tidy DataFrames, units in column names)
-> ``analysis.models.MedianLine`` (a straight line through the medians, with intervals) -> notebooks 05-07.

Nothing here ran on Xen: every dataset is labelled with ``analysis.machine.label`` (CPU model,
cores, memory, kernel), never as Xen's numbers.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import constants as C
from analysis import machine, paths
from analysis.errors import MeasurementError, SamplesFormatError, UsageError
from analysis.ingest.mechanisms import SAMPLE_COLUMNS, load_lookup, load_memcpy, load_unmap

SOURCE_DIR = paths.BENCHMARK_SOURCES_DIR
PROGRAMS = ("memcpy", "lookup", "unmap")
# -O2 as the issue asks; gnu11 for clock_gettime/sched_setaffinity; -pthread for unmap's threads.
CFLAGS = ("-O2", "-std=gnu11", "-Wall", "-Wextra", "-pthread")
EXPERIMENTS = {"memcpy": "memcpy", "gref-lookup": "lookup", "unmap-shootdown": "unmap"}

# perf tracepoints counted per unmap configuration. tlb:tlb_flush reasons are enum tlb_flush_reason
# in Linux include/linux/mm_types.h: 1 = TLB_REMOTE_SHOOTDOWN (a flush run on a CPU because it got
# a flush IPI), 4 = TLB_REMOTE_SEND_IPI (the unmapping CPU asked others to flush).
PERF_EVENTS = (
    ("remote_shootdowns", ("-e", "tlb:tlb_flush", "--filter", "reason == 1")),
    ("flush_ipis_sent", ("-e", "tlb:tlb_flush", "--filter", "reason == 4")),
    ("ipi_send_cpu", ("-e", "ipi:ipi_send_cpu")),
    ("ipi_send_cpumask", ("-e", "ipi:ipi_send_cpumask")),
)


# ----------------------------------------------------------------------------------------------
# Sizes and counts from the protocol (analysis.constants), passed to the C programs as arguments.


def request_bytes() -> int:
    """Bytes of one full direct request: SEGMENTS_PER_REQUEST x PAGE_BYTES (11 x 4 KiB = 44 KiB)."""
    return C.SEGMENTS_PER_REQUEST * C.PAGE_BYTES


def indirect_max_bytes() -> int:
    """Largest indirect request the protocol allows: 8 indirect pages x 512 segments x 4 KiB (16 MiB)."""
    return C.MAX_INDIRECT_SEGMENTS_PROTOCOL * C.PAGE_BYTES


def memcpy_sizes_bytes() -> tuple[int, ...]:
    """Copy sizes: one sector (512 B), powers of two up to the indirect maximum, and one full request."""
    sizes = {request_bytes()}
    size = C.SECTOR_BYTES
    while size <= indirect_max_bytes():
        sizes.add(size)
        size *= 2
    return tuple(sorted(sizes))


def lookup_counts() -> tuple[int, ...]:
    """Numbers of mapped grants n: powers of two to 8192 plus the geometry's landmarks.

    352 = one-page ring (32 requests) x 11 segments, Linux 3.8's cap; 1056 = Linux's
    max_persistent_grants default; 2816 = the 2012 patch's cap (256 x 11); 5632 = a 16-page ring
    (512 requests) x 11.
    """
    landmarks = {
        C.LINUX_REQS_PER_RING_PAGE * C.SEGMENTS_PER_REQUEST,
        C.LINUX_MAX_PERSISTENT_GRANTS,
        C.PATCH_2012_MAX_PERSISTENT_GRANTS,
        C.LINUX_REQS_PER_RING_PAGE * 2**C.MAX_RING_PAGE_ORDER * C.SEGMENTS_PER_REQUEST,
    }
    return tuple(sorted(landmarks | {2**k for k in range(14)}))


# ----------------------------------------------------------------------------------------------
# What to run. Defaults are the bundled datasets (`make data-mechanisms`); tests use tiny plans.


@dataclass(frozen=True)
class MemcpyPlan:
    """Settings of one memcpy run: sizes in bytes, samples per point, pool size in MiB per side."""

    sizes_bytes: tuple[int, ...] = field(default_factory=memcpy_sizes_bytes)
    reps: int = 200
    warmup: int = 20
    pool_mib: int = 128  # per side; 4x a 32 MiB LLC, so a cold page is evicted before reuse
    sample_bytes: int = 65536  # small copies are batched so one sample copies at least this much
    numpy_reps: int = 100
    cpu: int = -1  # -1: the last CPU this process may use
    seed: int = 1


@dataclass(frozen=True)
class LookupPlan:
    """Settings of one lookup run: grant counts n, samples per point, lookups per sample."""

    n_grants: tuple[int, ...] = field(default_factory=lookup_counts)
    reps: int = 100
    warmup: int = 5
    lookups: int = 1024
    cpu: int = -1
    seed: int = 1


@dataclass(frozen=True)
class UnmapPlan:
    """Settings of one unmap run: CPUs (first unmaps, the rest touch), batch sizes in pages."""

    cpus: tuple[int, ...] = ()  # empty: every CPU this process may use
    pages_per_call: tuple[int, ...] = (1, C.SEGMENTS_PER_REQUEST, 32, 128)
    ops: tuple[str, ...] = ("munmap", "mprotect")
    reps: int = 2000
    warmup: int = 100
    use_perf: bool | None = None  # None: use perf when `perf stat` can count the tracepoints


def quick_plans() -> tuple[MemcpyPlan, LookupPlan, UnmapPlan]:
    """Tiny plans for tests and smoke runs (a second or two in all)."""
    return (
        MemcpyPlan(sizes_bytes=(C.SECTOR_BYTES, C.PAGE_BYTES, request_bytes()), reps=5, warmup=1,
                   pool_mib=4, sample_bytes=16384, numpy_reps=3),
        LookupPlan(n_grants=(1, 7, 64), reps=4, warmup=1, lookups=64),
        UnmapPlan(pages_per_call=(1, C.SEGMENTS_PER_REQUEST), reps=20, warmup=2, use_perf=False),
    )


# ----------------------------------------------------------------------------------------------
# Build and run.


def build(program: str, out_dir: Path, *, cc: str = "cc") -> Path:
    """Compile benchmarks/mechanisms/<program>.c with ``cc`` and CFLAGS into out_dir; return the executable."""
    if program not in PROGRAMS:
        raise UsageError(f"program: expected one of {', '.join(PROGRAMS)}, found '{program}'.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = out_dir / program
    cmd = [cc, *CFLAGS, "-o", str(exe), str(SOURCE_DIR / f"{program}.c")]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise MeasurementError(
            f"{SOURCE_DIR / (program + '.c')}: `{' '.join(cmd)}` failed with status "
            f"{result.returncode}: {_last_line(result.stderr)}"
        )
    return exe


def run(exe: Path, args: list[str], *, prefix: tuple[str, ...] = ()) -> tuple[str, dict]:
    """Run a measurement program; return its stdout (CSV) and the JSON metadata of its last stderr line."""
    cmd = [*prefix, str(exe), *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise MeasurementError(
            f"{Path(exe).name}: `{' '.join(cmd)}` exited with status {result.returncode}: "
            f"{_last_line(result.stderr)}"
        )
    meta_line = next((line for line in reversed(result.stderr.splitlines()) if line.startswith("{")), "")
    try:
        meta = json.loads(meta_line)
    except json.JSONDecodeError:
        raise MeasurementError(
            f"{Path(exe).name}: expected a JSON metadata line on stderr, found '{_last_line(result.stderr)}'."
        ) from None
    return result.stdout, meta


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def compiler_version(cc: str = "cc") -> str:
    """First line of ``cc --version``."""
    out = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    return _last_line(out.splitlines()[0] if out else "")


def perf_available() -> bool:
    """True when `perf stat` can count the tlb:tlb_flush tracepoint for a child process here."""
    if shutil.which("perf") is None:
        return False
    result = subprocess.run(["perf", "stat", "-x,", "-e", "tlb:tlb_flush", "true"],
                            capture_output=True, text=True)
    return result.returncode == 0 and "tlb:tlb_flush" in result.stderr and "<not" not in result.stderr


# ----------------------------------------------------------------------------------------------
# Measurement drivers (write raw data; only `make data-mechanisms` and tests call these).


def measure_memcpy(out_dir: Path, plan: MemcpyPlan = MemcpyPlan(), *, build_dir: Path) -> Path:
    """Run the C memcpy program and the numpy equivalent; write samples-c.csv, samples-numpy.csv."""
    out_dir = _fresh(out_dir)
    cpu = plan.cpu if plan.cpu >= 0 else machine.usable_cpus()[-1]
    args = ["--sizes", _csv(plan.sizes_bytes), "--page-bytes", C.PAGE_BYTES, "--reps", plan.reps,
            "--warmup", plan.warmup, "--pool-mib", plan.pool_mib, "--sample-bytes", plan.sample_bytes,
            "--cpu", cpu, "--seed", plan.seed]
    exe = build("memcpy", build_dir)
    load_before = os.getloadavg()
    csv_text, meta = run(exe, args)
    (out_dir / "samples-c.csv").write_text(csv_text)
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})  # pin the numpy timing to the same CPU, then restore
    try:
        numpy_samples = time_numpy_copies(plan)
    finally:
        os.sched_setaffinity(0, allowed)
    numpy_samples.to_csv(out_dir / "samples-numpy.csv", index=False)
    load_after = os.getloadavg()
    samples = load_memcpy(out_dir)
    _write_manifest(out_dir, "memcpy", plan, [exe.name, *map(str, args)], meta, load_before, load_after,
                    samples, group=["impl", "layout", "cache", "size_bytes"], value="copy_ns",
                    files=["samples-c.csv", "samples-numpy.csv"])
    return out_dir


def time_numpy_copies(plan: MemcpyPlan) -> pd.DataFrame:
    """Time ``np.copyto`` of contiguous uint8 slices, warm and cold, in the C program's CSV schema.

    Warm copies the same slice each time; cold walks pools of plan.pool_mib MiB per side, so a slice
    is evicted before reuse. Each sample batches copies up to plan.sample_bytes, like the C program.
    Times from time.perf_counter_ns (CLOCK_MONOTONIC on Linux), so Python's per-call overhead is in.
    """
    import time

    pool_bytes = plan.pool_mib << 20
    rng = np.random.default_rng(plan.seed)
    src = rng.integers(0, 256, size=pool_bytes, dtype=np.uint8)
    dst = np.zeros(pool_bytes, dtype=np.uint8)
    rows = []
    for cache in ("warm", "cold"):
        for size in plan.sizes_bytes:
            if size > pool_bytes:
                continue
            copies = 1 if size >= plan.sample_bytes else plan.sample_bytes // size
            chunks = pool_bytes // size
            chunk = 0
            for rep in range(-plan.warmup, plan.numpy_reps):
                offsets = [0] * copies if cache == "warm" else [((chunk + i) % chunks) * size for i in range(copies)]
                chunk += copies
                t0 = time.perf_counter_ns()
                for off in offsets:
                    np.copyto(dst[off:off + size], src[off:off + size])
                elapsed = time.perf_counter_ns() - t0
                if rep < 0:
                    continue
                probes = np.array([[off, off + size // 2, off + size - 1] for off in offsets]).ravel()
                rows.append(("contiguous", cache, size, rep, copies, elapsed,
                             int(dst[probes].sum(dtype=np.int64)), int(src[probes].sum(dtype=np.int64))))
    return pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS["memcpy"]))


def measure_lookup(out_dir: Path, plan: LookupPlan = LookupPlan(), *, build_dir: Path) -> Path:
    """Run the C lookup program over plan.n_grants; write samples.csv."""
    out_dir = _fresh(out_dir)
    cpu = plan.cpu if plan.cpu >= 0 else machine.usable_cpus()[-1]
    args = ["--n", _csv(plan.n_grants), "--reps", plan.reps, "--warmup", plan.warmup,
            "--lookups", plan.lookups, "--cpu", cpu, "--seed", plan.seed]
    exe = build("lookup", build_dir)
    load_before = os.getloadavg()
    csv_text, meta = run(exe, args)
    load_after = os.getloadavg()
    (out_dir / "samples.csv").write_text(csv_text)
    samples = load_lookup(out_dir)
    _write_manifest(out_dir, "gref-lookup", plan, [exe.name, *map(str, args)], meta, load_before,
                    load_after, samples, group=["structure", "outcome", "n_grants"], value="lookup_ns",
                    files=["samples.csv"])
    return out_dir


def measure_unmap(out_dir: Path, plan: UnmapPlan = UnmapPlan(), *, build_dir: Path) -> Path:
    """Run the C unmap program once per (op, remote threads, pages per call); write samples.csv,
    counters.csv (/proc/interrupts deltas) and, where perf works, perf-counts.csv."""
    out_dir = _fresh(out_dir)
    cpus = list(plan.cpus) or machine.usable_cpus()
    use_perf = perf_available() if plan.use_perf is None else plan.use_perf
    exe = build("unmap", build_dir)
    samples_parts, counter_parts, perf_rows, invocations, metas = [], [], [], [], []
    load_before = os.getloadavg()
    for op in plan.ops:
        for k in range(len(cpus)):
            for pages in plan.pages_per_call:
                counters = out_dir / ".counters.tmp"
                perf_out = out_dir / ".perf.tmp"
                args = ["--cpus", _csv(cpus), "--remote", k, "--pages", pages, "--ops", op,
                        "--reps", plan.reps, "--warmup", plan.warmup, "--counters", counters]
                prefix = _perf_prefix(perf_out) if use_perf else ()
                csv_text, meta = run(exe, args, prefix=prefix)
                invocations.append(" ".join([*prefix, exe.name, *map(str, args)]).replace(str(out_dir) + "/", ""))
                metas.append(meta)
                samples_parts.append(csv_text if not samples_parts else csv_text.split("\n", 1)[1])
                counter_text = counters.read_text()
                counter_parts.append(counter_text if not counter_parts else counter_text.split("\n", 1)[1])
                counters.unlink()
                if use_perf:
                    for event, count in _read_perf_csv(perf_out).items():
                        # warm-up calls are counted too: perf wraps the whole process
                        perf_rows.append((op, k, pages, plan.reps + plan.warmup, event, count))
                    perf_out.unlink()
    load_after = os.getloadavg()
    (out_dir / "samples.csv").write_text("".join(samples_parts))
    (out_dir / "counters.csv").write_text("".join(counter_parts))
    files = ["samples.csv", "counters.csv"]
    if use_perf:
        pd.DataFrame(perf_rows, columns=["op", "remote_threads", "pages_per_call", "calls", "event", "count"]
                     ).to_csv(out_dir / "perf-counts.csv", index=False)
        files.append("perf-counts.csv")
    meta = {
        "program": "unmap",
        "pinned": all(m["pinned"] for m in metas),
        "remote_pinned": all(m["remote_pinned"] for m in metas),
        "cpus": cpus,
        "clock_overhead_ns": float(np.median([m["clock_overhead_ns"] for m in metas])),
        "validated": all(m["validated"] for m in metas),
        "perf": "counted per configuration with perf stat" if use_perf else
                "not used: `perf stat -e tlb:tlb_flush true` does not count here (or disabled)",
        "invocations": invocations,
    }
    samples = load_unmap(out_dir)
    notes = []
    if len(cpus) < 3:
        notes.append(f"Only {len(cpus)} CPUs: remote threads k = 0..{len(cpus) - 1}, so the curve has "
                     f"{len(cpus)} points; run `python -m analysis.collect.mechanisms measure OUT --only unmap-shootdown` "
                     "on a bigger host for a longer one.")
    _write_manifest(out_dir, "unmap-shootdown", plan, ["(one invocation per configuration: see "
                    "program_meta.invocations)"], meta, load_before, load_after, samples,
                    group=["op", "remote_threads", "pages_per_call"], value="call_ns", files=files,
                    notes=notes)
    return out_dir


def _perf_prefix(out: Path) -> tuple[str, ...]:
    events = [arg for _, args in PERF_EVENTS for arg in args]
    return ("perf", "stat", "-x,", "-o", str(out), *events, "--")


def _read_perf_csv(path: Path) -> dict[str, int]:
    """Counts from `perf stat -x,` output, in PERF_EVENTS order (-1 where perf printed no number)."""
    counts = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        value = line.split(",", 1)[0]
        counts.append(int(value) if value.isdigit() else -1)
    return {name: (counts[i] if i < len(counts) else -1) for i, (name, _) in enumerate(PERF_EVENTS)}


def build_all(out_dir: Path, *, cc: str = "cc") -> list[Path]:
    """Compile every program in PROGRAMS into out_dir (`make mechanisms-build`)."""
    return [build(program, out_dir, cc=cc) for program in PROGRAMS]


def measure_all(out_root: Path, *, quick: bool = False, only: tuple[str, ...] = (),
                build_dir: Path | None = None) -> list[Path]:
    """Build the programs (into build_dir, or a temporary dir) and write each experiment under out_root."""
    import tempfile

    if build_dir is not None:
        return _measure_all(Path(out_root), quick, only, Path(build_dir))
    with tempfile.TemporaryDirectory(prefix="pgrant-mech-") as tmp:
        return _measure_all(Path(out_root), quick, only, Path(tmp))


def _measure_all(out_root: Path, quick: bool, only: tuple[str, ...], build_dir: Path) -> list[Path]:
    memcpy_plan, lookup_plan, unmap_plan = quick_plans() if quick else (MemcpyPlan(), LookupPlan(), UnmapPlan())
    wanted = only or tuple(EXPERIMENTS)
    for name in wanted:
        if name not in EXPERIMENTS:
            raise UsageError(f"only: expected one of {', '.join(EXPERIMENTS)}, found '{name}'.")
    done = []
    if "memcpy" in wanted:
        done.append(measure_memcpy(out_root / "memcpy", memcpy_plan, build_dir=build_dir))
    if "gref-lookup" in wanted:
        done.append(measure_lookup(out_root / "gref-lookup", lookup_plan, build_dir=build_dir))
    if "unmap-shootdown" in wanted:
        done.append(measure_unmap(out_root / "unmap-shootdown", unmap_plan, build_dir=build_dir))
    return done


def _fresh(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _csv(values) -> str:
    return ",".join(str(v) for v in values)


def _write_manifest(out_dir: Path, experiment: str, plan, program_args: list[str], meta: dict,
                    load_before, load_after, samples: pd.DataFrame, *, group: list[str], value: str,
                    files: list[str], notes: list[str] | None = None) -> None:
    """Write manifest.json (how, on what, how noisy) and README.md (template + machine facts)."""
    noise = _noise(samples, group, value)
    cores = os.cpu_count() or 1
    notes = list(notes or [])
    if not meta.get("pinned", False):
        notes.append("The measuring thread could not be pinned (sched_setaffinity refused).")
    if max(load_before[0], load_after[0]) > 0.5 * cores:
        notes.append(f"Load average {load_before[0]:.2f} before and {load_after[0]:.2f} after on {cores} "
                     "CPUs: other jobs shared the CPUs, so tails are inflated; compare medians.")
    if noise["median_rel_iqr"] > 0.25:
        notes.append(f"Noisy: the median interquartile range is {noise['median_rel_iqr']:.0%} of the "
                     "median across configurations.")
    manifest = {
        "experiment": experiment,
        "command": f"{sys.executable.rsplit('/', 1)[-1]} -m analysis.collect.mechanisms measure "
                   f"{out_dir.parent} --only {experiment}",
        "program": f"benchmarks/mechanisms/{EXPERIMENTS[experiment]}.c",
        "program_args": program_args,
        "compiler": compiler_version(),
        "cflags": list(CFLAGS),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine.facts(),
        "plan": _jsonable(asdict(plan)),
        "repetitions": plan.reps,
        "warmup": plan.warmup,
        "pinned": meta.get("pinned", False),
        "clock": "clock_gettime(CLOCK_MONOTONIC)",
        "clock_overhead_ns": meta.get("clock_overhead_ns"),
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "noise": noise,
        "files": files,
        "program_meta": meta,
        "notes": notes,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    template = (SOURCE_DIR / f"{EXPERIMENTS[experiment]}.md").read_text()
    facts = manifest["machine"]
    (out_dir / "README.md").write_text(
        template
        + "\n## This copy\n\n"
        + f"Measured {manifest['date_utc']} on {facts['cpu_model']} ({facts['cores']} cores, LLC "
        + f"{facts['llc']}, {facts['mem_mib']} MiB, Linux {facts['kernel']}"
        + (", a virtual machine" if facts["virtualized"] else "") + "), compiled with "
        + f"{manifest['compiler']} `{' '.join(CFLAGS)}`; {plan.reps} repetitions after {plan.warmup} "
        + f"warm-up; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after. Not Xen.\n"
        + "".join(f"\n- {note}" for note in notes) + ("\n" if notes else "")
    )


def _noise(samples: pd.DataFrame, group: list[str], value: str) -> dict:
    """Spread of the samples: interquartile range relative to the median, per configuration."""
    q = samples.groupby(group)[value].quantile([0.25, 0.5, 0.75]).unstack()
    rel = (q[0.75] - q[0.25]) / q[0.5]
    return {"median_rel_iqr": round(float(rel.median()), 4), "max_rel_iqr": round(float(rel.max()), 4),
            "configurations": int(len(rel)), "configurations_over_25pct": int((rel > 0.25).sum())}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Command line: python -m analysis.collect.mechanisms measure OUTDIR [--quick] [--only NAME ...]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.collect.mechanisms",
                                     description="Measure memcpy, gref lookup and unmap/TLB shootdown here.")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="build the C programs and write every dataset under OUTDIR")
    m.add_argument("outdir", type=Path)
    m.add_argument("--quick", action="store_true", help="tiny sizes (seconds), for smoke tests")
    m.add_argument("--only", nargs="+", default=(), choices=tuple(EXPERIMENTS), help="experiments to run")
    m.add_argument("--build-dir", type=Path, help="compile the programs here (default: a temporary dir)")
    b = sub.add_parser("build", help="compile the C programs into OUTDIR")
    b.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for exe in build_all(args.outdir):
                print(f"built {exe}")
            return 0
        for folder in measure_all(args.outdir, quick=args.quick, only=tuple(args.only),
                                  build_dir=args.build_dir):
            print(f"wrote {folder}")
    except (MeasurementError, SamplesFormatError, UsageError) as err:
        print(f"python -m analysis.collect.mechanisms: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
