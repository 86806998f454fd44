"""analysis.sweep: a miniature sweep measured with the real fio, and the bundled sweep in data/."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis import fio, sweep
from analysis.errors import ManifestError, UsageError

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
JOB_COUNTS = (1, 3)


@pytest.fixture(scope="session")
def mini_data(tmp_path_factory):
    """A data folder holding a 1-repetition sweep over 1 and 3 jobs with tiny runtimes."""
    data_dir = tmp_path_factory.mktemp("data")
    sweep.measure(data_dir / sweep.SWEEP_DIR, reps=1, job_counts=JOB_COUNTS, runtime="150ms",
                  ramp_time="50ms", file_size="2M", log=lambda msg: None)
    return data_dir


@pytest.fixture(scope="session")
def mini_manifest(mini_data):
    return json.loads((mini_data / sweep.SWEEP_DIR / sweep.MANIFEST).read_text())


def test_manifest_records_every_planned_run_and_the_machine(mini_data, mini_manifest):
    runs = mini_manifest["runs"]
    planned = {(e, rw, n, 0) for e in sweep.ENGINES for rw in sweep.RW_MODES for n in JOB_COUNTS}
    assert {(r["ioengine"], r["rw"], r["jobs"], r["rep"]) for r in runs} == planned
    assert sorted(r["order"] for r in runs) == list(range(len(planned)))
    for run in runs:
        assert f"--numjobs={run['jobs']}" in run["command"] and f"--ioengine={run['ioengine']}" in run["command"]
        assert len(run["loadavg_before"]) == 3 and len(run["loadavg_after"]) == 3
    machine = mini_manifest["machine"]
    assert machine["logical_cores"] == os.cpu_count() and machine["kernel"] == platform.release()
    assert machine["cpu_model"] != "unknown" and machine["mem_mib"] > 0
    assert mini_manifest["fio_version"] == subprocess.run(["fio", "--version"], capture_output=True,
                                                          text=True).stdout.strip()
    readme = (mini_data / sweep.SWEEP_DIR / "README.md").read_text()
    assert "not a Xen host" in readme and machine["cpu_model"] in readme


def test_load_joins_each_job_with_its_run(mini_data, mini_manifest):
    table = sweep.load(mini_data)
    assert list(table.columns) == list(fio.COLUMNS) + list(sweep.CONDITIONS)
    assert (table.groupby("file")["job"].nunique() == table.groupby("file")["jobs"].first()).all()
    assert (table["numjobs"] == table["jobs"]).all()
    assert (table["ioengine"] == table["ioengine_run"]).all() and (table["rw"] == table["rw_run"]).all()
    assert (table["iodepth"] == table["ioengine"].map(sweep.ENGINES)).all()
    assert (table["bs_bytes"] == 4096).all() and set(table["direction"]) == {"read"}
    assert table["file"].nunique() == len(mini_manifest["runs"])


def test_totals_sum_each_runs_jobs(mini_data, mini_manifest):
    table = sweep.load(mini_data)
    totals = sweep.totals(table)
    assert len(totals) == len(mini_manifest["runs"])
    by_file = table.groupby("file").agg(iops=("iops", "sum"), bw=("bw_bytes_s", "sum"), n=("job", "nunique"),
                                        ioengine=("ioengine_run", "first"), rw=("rw_run", "first"), rep=("rep", "first"))
    merged = totals.merge(by_file, left_on=["ioengine", "rw", "jobs", "rep"], right_on=["ioengine", "rw", "n", "rep"])
    assert len(merged) == len(totals)
    assert merged["iops_x"].to_numpy() == pytest.approx(merged["iops_y"].to_numpy())
    assert merged["bw_bytes_s"].to_numpy() == pytest.approx(merged["bw"].to_numpy())
    assert (totals["iops_job_min"] <= totals["iops_job_mean"]).all()
    assert (totals["iops_job_mean"] <= totals["iops_job_max"]).all()
    assert totals["iops"].to_numpy() == pytest.approx((totals["iops_job_mean"] * totals["jobs"]).to_numpy())


def test_logs_are_real_fio_logs(mini_data):
    logs = mini_data / sweep.SWEEP_DIR / "logs"
    kinds = {p.name: fio.detect_format(p) for p in logs.glob("*.log")}
    assert kinds["avg_clat_hist.1.log"] == "hist_log"
    assert kinds["avg_bw.1.log"] == kinds["perio_lat.1.log"] == "log"
    assert len(fio.read(logs / "avg.json")) == 2  # numjobs=2


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match=r"fio-sweep/manifest\.json: expected the sweep's manifest "
                                            r"\(run `make data-fio`\), found no such file$"):
        sweep.load(tmp_path)


def test_manifest_naming_a_missing_file(mini_data, mini_manifest, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(mini_data, copy)
    gone = mini_manifest["runs"][1]["file"]
    (copy / sweep.SWEEP_DIR / gone).unlink()
    with pytest.raises(ManifestError, match=rf"manifest\.json: run 1, field 'file': expected an existing file, "
                                            rf"found {gone} missing$"):
        sweep.load(copy)


def test_bundled_sweep_covers_the_design():
    folder, manifest = sweep.read_manifest(ROOT / "data")
    totals = sweep.totals(sweep.load(ROOT / "data"))
    reps = totals.groupby(["ioengine", "rw", "jobs"]).size()
    assert len(reps) == len(sweep.ENGINES) * len(sweep.RW_MODES) * len(sweep.JOB_COUNTS)
    assert (reps >= 3).all()
    assert (totals["iops"] > 0).all()
    assert manifest["measured_here"] is True
    assert "not a Xen host" in (folder / "README.md").read_text()


def test_measure_never_replaces_a_folder_it_did_not_write(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match=r"^OUTDIR .*mine: expected a new or empty folder, or an earlier python -m "
                                         r"analysis.sweep measure output .*found a folder holding other files "
                                         r"\('notes.txt'\); choose another folder, nothing was changed$"):
        sweep.measure(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and (folder / "notes.txt").read_text() == "keep me"
