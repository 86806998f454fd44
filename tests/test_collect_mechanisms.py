"""The mechanism benchmarks: the C programs build, run briefly, validate their own work, and the
loaders read (and refuse) what they write. Programs are compiled with the system cc into tmp."""

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
from analysis.models import budget
from analysis.models.line import fit_line
from analysis.errors import MeasurementError, ModelFitError, SamplesFormatError, UsageError

MEMCPY_QUICK, LOOKUP_QUICK, UNMAP_QUICK = mech.quick_plans()


@pytest.fixture(scope="session")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("mech-build")
    return {p: mech.build(p, out) for p in mech.PROGRAMS}


@pytest.fixture(scope="session")
def measured(tmp_path_factory, programs):
    """Every experiment measured with the tiny plans, as `make data-mechanisms` would lay it out."""
    root = tmp_path_factory.mktemp("measured-here")
    build_dir = next(iter(programs.values())).parent
    mech.measure_memcpy(root / "memcpy", MEMCPY_QUICK, build_dir=build_dir)
    mech.measure_lookup(root / "gref-lookup", LOOKUP_QUICK, build_dir=build_dir)
    mech.measure_unmap(root / "unmap-shootdown", UNMAP_QUICK, build_dir=build_dir)
    return root


def _csv(text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(text))


# --- the geometry the sweeps come from ---------------------------------------------------------


def test_lookup_counts_cover_the_thread_landmarks_and_go_beyond():
    counts = mech.lookup_counts()
    one_page_ring_grants = 32 * 11  # xen-facts.md: one-page ring holds 32 requests of 11 segments
    assert one_page_ring_grants in counts
    assert C.LINUX_MAX_PERSISTENT_GRANTS in counts
    assert 256 * 11 in counts  # the 2012 patch's cap
    assert min(counts) == 1 and max(counts) > 256 * 11


def test_memcpy_sizes_run_from_a_sector_to_the_indirect_maximum_and_include_one_request():
    sizes = mech.memcpy_sizes_bytes()
    assert sizes[0] == 512 and sizes[-1] == 8 * 512 * 4096
    assert 11 * 4096 in sizes and 4096 in sizes
    assert list(sizes) == sorted(set(sizes))


# --- the C programs ------------------------------------------------------------------------------


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


# --- drivers, manifests and loaders --------------------------------------------------------------


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


@pytest.mark.slow
def test_load_memcpy_gives_times_per_copy_with_units(measured):
    df = loaders.load_memcpy(measured / "memcpy")
    assert {"impl", "layout", "cache", "size_bytes", "copy_ns", "bw_bytes_s"} <= set(df.columns)
    assert set(df["impl"]) == {"c", "numpy"}
    assert set(df["size_bytes"]) == set(MEMCPY_QUICK.sizes_bytes)
    assert np.allclose(df["copy_ns"] * df["copies"], df["elapsed_ns"])
    assert np.allclose(df["bw_bytes_s"] * df["copy_ns"] * 1e-9, df["size_bytes"])
    assert (df["copy_ns"] > 0).all() and np.isfinite(df["copy_ns"]).all()
    assert len(df[df["impl"] == "c"]) == 2 * 2 * len(MEMCPY_QUICK.sizes_bytes) * MEMCPY_QUICK.reps


@pytest.mark.slow
def test_load_lookup_and_unmap_give_tidy_tables(measured):
    lookups = loaders.load_lookup(measured / "gref-lookup")
    assert set(lookups["n_grants"]) == set(LOOKUP_QUICK.n_grants)
    assert np.allclose(lookups["lookup_ns"] * lookups["lookups"], lookups["elapsed_ns"])
    unmaps = loaders.load_unmap(measured / "unmap-shootdown")
    assert np.allclose(unmaps["page_ns"] * unmaps["pages_per_call"], unmaps["call_ns"])
    assert set(unmaps["op"]) == set(UNMAP_QUICK.ops)
    counters = loaders.load_unmap_counters(measured / "unmap-shootdown")
    assert len(counters) == len(UNMAP_QUICK.ops) * len(set(unmaps["remote_threads"])) * len(UNMAP_QUICK.pages_per_call)
    assert "tlb_irqs_per_call" in counters.columns


def test_numpy_copies_are_checked_like_the_c_ones():
    plan = mech.MemcpyPlan(sizes_bytes=(512, 8192), numpy_reps=3, warmup=1, pool_mib=1, sample_bytes=4096)
    df = mech.time_numpy_copies(plan)
    assert list(df.columns) == list(loaders.SAMPLE_COLUMNS["memcpy"])
    assert (df["checksum"] == df["expected"]).all() and (df["elapsed_ns"] > 0).all()
    assert len(df) == 2 * 2 * 3


# --- bad input gets one clear sentence -----------------------------------------------------------


@pytest.fixture
def lookup_copy(measured, tmp_path):
    folder = tmp_path / "gref-lookup"
    folder.mkdir()
    text = (measured / "gref-lookup" / "samples.csv").read_text()
    return folder, text


@pytest.mark.slow
@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("elapsed_ns", "elapsed_us", 1),
     r"expected columns structure, outcome, n, rep, lookups, elapsed_ns, checksum, expected, found .* \(missing elapsed_ns\)"),
    (lambda t: t.split("\n", 1)[0] + "\n",
     "expected at least one sample row, found none"),
])
def test_load_lookup_names_the_missing_piece(lookup_copy, edit, message):
    folder, text = lookup_copy
    (folder / "samples.csv").write_text(edit(text))
    with pytest.raises(SamplesFormatError, match=f"{folder / 'samples.csv'}: {message}"):
        loaders.load_lookup(folder)


@pytest.mark.slow
@pytest.mark.parametrize("column, value, message", [
    ("elapsed_ns", "-5", "column elapsed_ns, row 2: expected a finite time in ns > 0, found '-5'"),
    ("elapsed_ns", "fast", "column elapsed_ns, row 2: expected a finite time in ns > 0, found 'fast'"),
    ("n", "2.5", "column n, row 2: expected an integer >= 1, found '2.5'"),
    ("checksum", "12345", "column checksum, row 2: expected"),
])
def test_load_lookup_names_the_bad_value(lookup_copy, column, value, message):
    folder, text = lookup_copy
    df = _csv(text).astype(str)
    df.loc[0, column] = value
    df.to_csv(folder / "samples.csv", index=False)
    with pytest.raises(SamplesFormatError, match=message):
        loaders.load_lookup(folder)


def test_missing_samples_file_is_named(tmp_path):
    with pytest.raises(SamplesFormatError, match=f"{tmp_path / 'samples.csv'}: expected a samples CSV, found no such file"):
        loaders.load_unmap(tmp_path)


def test_broken_manifest_is_named(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(SamplesFormatError, match="manifest.json: expected JSON, found a syntax error"):
        loaders.load_manifest(tmp_path)


# --- the interim fit -----------------------------------------------------------------------------


def _skewed_line_samples(seed: int, intercept: float, slope: float) -> pd.DataFrame:
    """Samples of intercept + slope * k with right-skewed noise of median 0 (preemption-like tails)."""
    rng = np.random.default_rng(seed)
    x = np.repeat([0, 1, 2, 3], 300)
    noise = rng.lognormal(mean=np.log(300), sigma=1.0, size=x.size) - 300
    return pd.DataFrame({"k": x, "ns": intercept + slope * x + noise})


def test_fit_line_recovers_a_known_line_from_noisy_samples():
    intercept, slope = 4000.0, 9000.0
    fit = fit_line(_skewed_line_samples(7, intercept, slope), x="k", y="ns")
    assert abs(fit.slope - slope) < 0.02 * slope
    assert abs(fit.intercept - intercept) < 0.02 * intercept
    assert np.allclose(fit.predict([0, 10]), [fit.intercept, fit.intercept + 10 * fit.slope])


def test_fit_line_intervals_cover_the_truth_about_as_often_as_they_claim():
    intercept, slope = 4000.0, 9000.0
    fits = [fit_line(_skewed_line_samples(seed, intercept, slope), x="k", y="ns", n_boot=200)
            for seed in range(40)]
    slope_cover = np.mean([f.slope_ci[0] <= slope <= f.slope_ci[1] for f in fits])
    intercept_cover = np.mean([f.intercept_ci[0] <= intercept <= f.intercept_ci[1] for f in fits])
    assert slope_cover >= 0.8 and intercept_cover >= 0.8, (slope_cover, intercept_cover)


def test_fit_line_needs_two_x_values_and_finite_input():
    with pytest.raises(ModelFitError, match="expected at least 2 distinct values of k, found 1"):
        fit_line(pd.DataFrame({"k": [1, 1], "ns": [1.0, 2.0]}), x="k", y="ns")
    with pytest.raises(ModelFitError, match="expected finite values in columns k and ns"):
        fit_line(pd.DataFrame({"k": [1, 2], "ns": [1.0, np.nan]}), x="k", y="ns")


def test_seed_growth_brackets_follow_from_the_two_reported_points():
    # 1/400k - 1/650k seconds over 5 guests: (2.5 us - 1.538 us) / 5
    assert budget.seed_unmap_growth_per_cpu_ns() == pytest.approx((2500 - 1538.46) / 5, rel=1e-3)
    assert budget.seed_unmap_growth_per_cpu_ns(dom0_cpus_busy=24) == pytest.approx(24 * (2500 - 1538.46) / 5, rel=1e-3)
    assert budget.budget_ns_per_request(650_000, workers=5) == pytest.approx(7692.3, rel=1e-4)


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
    answers = {"05": "of guest CPU time per second", "06": "of the one-thread budget", "07": "per remote CPU"}
    for page in result.pages:
        assert page.ok, page.error
        html = page.html.read_text()
        assert "not Xen" in html
        assert answers[page.source.stem[:2]] in html


def test_cpu_seconds_per_second_is_cost_times_rate():
    # 100 ns per operation, 650,000 operations a second: 65 ms of CPU time per second
    assert budget.cpu_seconds_per_second(100.0, 650_000) == pytest.approx(0.065)
    costs = pd.Series([54.0, 781.0], index=["warm", "cold"])
    shares = budget.cpu_seconds_per_second(costs, 1_000_000)
    assert list(shares.index) == ["warm", "cold"] and shares["cold"] == pytest.approx(0.781)


@pytest.mark.slow
def test_provenance_note_names_folder_machine_and_caveats(measured):
    manifest = loaders.load_manifest(measured / "unmap-shootdown")
    note = loaders.provenance_note(manifest, 123)
    assert note.startswith("**Data**: `data/raw/measured-here/unmap-shootdown` (123 samples)")
    assert manifest["machine"]["cpu_model"] in note and "not Xen" in note
    assert all(n in note for n in manifest["notes"])
