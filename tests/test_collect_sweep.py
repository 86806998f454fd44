"""analysis.collect.sweep: a miniature sweep measured with the real fio (fixtures ``mini_data`` and
``mini_manifest`` in conftest.py); the readers are tested in test_ingest_sweep.py."""

from __future__ import annotations

import os
import platform
import subprocess

import pytest

from analysis.ingest import fio
from analysis import paths
from analysis.collect import sweep as collect_sweep
from analysis.errors import UsageError

pytestmark = pytest.mark.slow

JOB_COUNTS = (1, 3)  # the job counts of conftest.py's mini_data


def test_manifest_records_every_planned_run_and_the_machine(mini_data, mini_manifest):
    runs = mini_manifest["runs"]
    planned = {(e, rw, n, 0) for e in collect_sweep.ENGINES for rw in collect_sweep.RW_MODES for n in JOB_COUNTS}
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
    readme = (mini_data / paths.SWEEP_DIR / "README.md").read_text()
    assert "not a Xen host" in readme and machine["cpu_model"] in readme


def test_logs_are_real_fio_logs(mini_data):
    logs = mini_data / paths.SWEEP_DIR / "logs"
    kinds = {p.name: fio.detect_format(p) for p in logs.glob("*.log")}
    assert kinds["avg_clat_hist.1.log"] == "hist_log"
    assert kinds["avg_bw.1.log"] == kinds["perio_lat.1.log"] == "log"
    assert len(fio.read(logs / "avg.json")) == 2  # numjobs=2


def test_measure_never_replaces_a_folder_it_did_not_write(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match=r"mine: expected an empty folder or an earlier fio sweep \(manifest\.json with "
                                         r"measured_here\) to replace, found other files; nothing was deleted$"):
        collect_sweep.measure(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and (folder / "notes.txt").read_text() == "keep me"
