"""The mechanism benchmarks (analysis.collect.mechanisms): the C programs build, run briefly and
validate their own work; the notebooks run on what they measured. Programs are compiled with the
system cc into tmp (fixtures ``programs`` and ``measured`` in conftest.py)."""

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis import constants as C
from analysis import machine
from analysis import paths
from analysis.collect import mechanisms as mech
from analysis.ingest import mechanisms as loaders
from analysis.errors import MeasurementError, UsageError

MEMCPY_QUICK, LOOKUP_QUICK, UNMAP_QUICK = mech.quick_plans()


def _csv(text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(text))


def test_lookup_counts_cover_the_thread_landmarks_and_go_beyond():
    counts = mech.lookup_counts()
    one_page_ring_grants = 32 * 11  # analysis.xen.blkif: a one-page ring holds 32 requests of 11 segments
    assert one_page_ring_grants in counts
    assert C.LINUX_MAX_PERSISTENT_GRANTS in counts
    assert 256 * 11 in counts  # the 2012 patch's cap
    assert min(counts) == 1 and max(counts) > 256 * 11


def test_memcpy_sizes_run_from_a_sector_to_the_indirect_maximum_and_include_one_request():
    sizes = mech.memcpy_sizes_bytes()
    assert sizes[0] == 512 and sizes[-1] == 8 * 512 * 4096
    assert 11 * 4096 in sizes and 4096 in sizes
    assert list(sizes) == sorted(set(sizes))


@pytest.mark.slow
def test_memcpy_program_copies_validated_samples(programs):
    out, meta = mech.run(programs["memcpy"], ["--sizes", "512,4096,45056", "--reps", "4", "--warmup", "1",
                                              "--pool-mib", "2", "--sample-bytes", "8192", "--cpu", "0"])
    df = _csv(out)
    assert list(df.columns) == list(loaders.SAMPLE_COLUMNS["memcpy"])
    assert len(df) == 2 * 2 * 3 * 4  # layouts x caches x sizes x reps, every sample kept
    assert (df["elapsed_ns"] > 0).all() and np.isfinite(df["elapsed_ns"]).all()
    assert (df["checksum"] == df["expected"]).all()
    assert meta["mismatched_samples"] == 0 and meta["checksum"] == meta["expected"]
    # small copies are batched up to sample_bytes, large ones are one per sample
    assert set(df.loc[df["size_bytes"] == 512, "copies"]) == {8192 // 512}
    assert set(df.loc[df["size_bytes"] == 45056, "copies"]) == {1}
    assert meta["pinned"] is (0 in os.sched_getaffinity(0))


@pytest.mark.slow
def test_lookup_program_finds_every_hit_and_no_miss_in_every_structure(programs):
    out, meta = mech.run(programs["lookup"], ["--n", "1,5,33", "--reps", "3", "--warmup", "1",
                                              "--lookups", "50"])
    df = _csv(out)
    assert list(df.columns) == list(loaders.SAMPLE_COLUMNS["lookup"])
    assert set(df["structure"]) == {"ptr-array", "flat-array", "sorted-array", "bst", "hash"}
    assert set(df["outcome"]) == {"hit", "miss"}
    assert (df["checksum"] == df["expected"]).all() and meta["mismatched_samples"] == 0
    # a miss adds 1 per lookup: the programs' checksum really counts misses
    misses = df[df["outcome"] == "miss"]
    assert (misses["checksum"] == misses["lookups"]).all()
    assert (df["elapsed_ns"] > 0).all()


@pytest.mark.slow
def test_unmap_program_touches_on_remote_cpus_and_counts_shootdowns(programs, tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    counters = tmp_path / "counters.csv"
    out, meta = mech.run(programs["unmap"], ["--cpus", ",".join(map(str, cpus)), "--pages", "1,4",
                                             "--reps", "15", "--warmup", "2", "--counters", counters])
    df = _csv(out)
    assert list(df.columns) == list(loaders.SAMPLE_COLUMNS["unmap"])
    assert set(df["remote_threads"]) == set(range(len(cpus)))
    assert meta["validated"] is True and meta["remote_touches"] == meta["expected_touches"]
    assert (df["elapsed_ns"] > 0).all()
    counts = pd.read_csv(counters)
    assert len(counts) == len(cpus) * 2 * 2  # remote counts x ops x batch sizes
    has_tlb_line = any(line.split(":")[0].strip() == "TLB" for line in open("/proc/interrupts"))
    if len(cpus) >= 2 and has_tlb_line:
        remote = counts[(counts["remote_threads"] == 1) & (counts["op"] == "munmap")]
        assert (remote["tlb_irqs"] > 0).all(), "a thread touching the pages on another CPU must be shot down"


@pytest.mark.slow
@pytest.mark.parametrize("program, args, message", [
    ("lookup", ["--n", "1,x"], "option --n: expected a comma-separated list of integers, found '1,x'"),
    ("memcpy", ["--sizes", "512", "--reps", "0"], "option --reps: expected an integer >= 1, found '0'"),
    ("unmap", ["--cpus", "0", "--remote", "1"], "option --remote: expected counts in 0..0"),
])
def test_programs_reject_bad_options_with_one_line(programs, program, args, message):
    with pytest.raises(MeasurementError, match=f"exited with status 2: {message}"):
        mech.run(programs[program], args)


def test_build_refuses_an_unknown_program(tmp_path):
    with pytest.raises(UsageError, match="program: expected one of memcpy, lookup, unmap, found 'qsort'"):
        mech.build("qsort", tmp_path)


@pytest.mark.slow
def test_build_reports_the_compiler_failure(tmp_path):
    with pytest.raises(MeasurementError, match="failed with status"):
        mech.build("memcpy", tmp_path, cc="false")


@pytest.mark.slow
def test_each_experiment_folder_has_samples_manifest_and_readme(measured):
    for name in mech.EXPERIMENTS:
        folder = measured / name
        manifest = json.loads((folder / "manifest.json").read_text())
        for key in ("command", "compiler", "cflags", "date_utc", "repetitions", "pinned",
                    "load_average_before", "load_average_after", "noise", "files"):
            assert key in manifest, f"{name}: manifest lacks {key}"
        for key in ("cpu_model", "cores", "kernel", "mem_mib"):
            assert manifest["machine"][key], f"{name}: machine lacks {key}"
        assert "-O2" in manifest["cflags"]
        for file in manifest["files"]:
            assert (folder / file).exists()
        readme = (folder / "README.md").read_text()
        assert "Not Xen" in readme and manifest["machine"]["kernel"] in readme
        assert "not Xen" in machine.label(manifest)


def test_numpy_copies_are_checked_like_the_c_ones():
    plan = mech.MemcpyPlan(sizes_bytes=(512, 8192), numpy_reps=3, warmup=1, pool_mib=1, sample_bytes=4096)
    df = mech.time_numpy_copies(plan)
    assert list(df.columns) == list(loaders.SAMPLE_COLUMNS["memcpy"])
    assert (df["checksum"] == df["expected"]).all() and (df["elapsed_ns"] > 0).all()
    assert len(df) == 2 * 2 * 3


@pytest.mark.slow
def test_measure_command_line_writes_every_experiment(tmp_path):
    import sys

    result = subprocess.run([sys.executable, "-m", "analysis.collect.mechanisms", "measure", str(tmp_path), "--quick",
                             "--only", "gref-lookup"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gref-lookup" / "samples.csv").exists()
    assert not (tmp_path / "memcpy").exists()


@pytest.mark.slow
def test_notebooks_05_to_07_execute_on_the_bundled_data_and_label_the_machine(tmp_path):
    from analysis import report

    data_dir = paths.REPO_ROOT / "data"
    result = report.build(tmp_path, parameters={"data_dir": str(data_dir)}, only=["05", "06", "07"], progress=False)
    assert [p.source.stem[:2] for p in result.pages] == ["05", "06", "07"]
    answers = {"05": "of guest CPU time per second", "06": "lookups/s per guest", "07": "per remote CPU"}
    for page in result.pages:
        assert page.ok, page.error
        html = page.html.read_text()
        assert "not Xen" in html
        assert answers[page.source.stem[:2]] in html
