"""analysis.ingest.sweep: the readers on a miniature sweep measured with the real fio (fixtures
``mini_data`` and ``mini_manifest`` in conftest.py) and on the bundled sweep in data/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import paths
from analysis.collect import sweep as collect_sweep
from analysis.errors import ManifestError
from analysis.ingest import fio, sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_load_joins_each_job_with_its_run(mini_data, mini_manifest):
    table = sweep.load(mini_data)
    assert list(table.columns) == list(fio.COLUMNS) + list(sweep.CONDITIONS)
    assert (table.groupby("file")["job"].nunique() == table.groupby("file")["jobs"].first()).all()
    assert (table["numjobs"] == table["jobs"]).all()
    assert (table["ioengine"] == table["ioengine_run"]).all() and (table["rw"] == table["rw_run"]).all()
    assert (table["iodepth"] == table["ioengine"].map(collect_sweep.ENGINES)).all()
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


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match=r"fio-sweep/manifest\.json: expected the sweep's manifest "
                                            r"\(run `make data-fio`\), found no such file$"):
        sweep.load(tmp_path)


def test_manifest_naming_a_missing_file(mini_data, mini_manifest, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(mini_data, copy)
    gone = mini_manifest["runs"][1]["file"]
    (copy / paths.SWEEP_DIR / gone).unlink()
    with pytest.raises(ManifestError, match=rf"manifest\.json: run 1, field 'file': expected an existing file, "
                                            rf"found {gone} missing$"):
        sweep.load(copy)


def test_bundled_sweep_covers_the_design():
    folder, manifest = sweep.read_manifest(ROOT / "data")
    totals = sweep.totals(sweep.load(ROOT / "data"))
    reps = totals.groupby(["ioengine", "rw", "jobs"]).size()
    assert len(reps) == len(collect_sweep.ENGINES) * len(collect_sweep.RW_MODES) * len(collect_sweep.JOB_COUNTS)
    assert (reps >= 3).all()
    assert (totals["iops"] > 0).all()
    assert manifest["measured_here"] is True
    assert "not a Xen host" in (folder / "README.md").read_text()
