"""``pgrant-lab ingest`` run as a user runs it (the installed console script), on real fio output."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.ingest import fio
from fio_session import run_fio, shm_dir  # noqa: F401 - session fixtures

pytestmark = pytest.mark.slow

SCRIPT = str(Path(sys.executable).with_name("pgrant-lab"))

JOB = """
[global]
ioengine=psync
size=1M

[a]
filename={shm}/ingest-a
rw=randrw
numjobs=2

[b]
filename={shm}/ingest-b
rw=read
bs=8k
"""

STATUS_JOB = """
[spin]
ioengine=psync
rw=read
size=1M
filename={shm}/ingest-spin
time_based
runtime=700ms
"""


def _ingest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, "ingest", *args], capture_output=True, text=True, timeout=60)


def test_prints_the_tidy_table_as_csv(run_fio):
    out = run_fio("ingest-json", JOB, "--output-format=json+")
    proc = _ingest(str(out))
    assert proc.returncode == 0, proc.stderr
    printed = pd.read_csv(io.StringIO(proc.stdout))
    expected = fio.read(out)
    assert list(printed.columns) == list(fio.COLUMNS)
    assert printed[["job", "jobname", "direction", "ios", "bs_bytes"]].values.tolist() == \
        expected[["job", "jobname", "direction", "ios", "bs_bytes"]].astype(object).values.tolist()


def test_out_writes_a_csv_and_several_files_keep_their_source(run_fio, tmp_path):
    json_out = run_fio("ingest-json2", JOB, "--output-format=json")
    terse_out = run_fio("ingest-terse", JOB, "--output-format=terse")
    csv = tmp_path / "table.csv"
    proc = _ingest(str(json_out), str(terse_out), "--out", str(csv))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    table = pd.read_csv(csv)
    assert table["source"].unique().tolist() == [str(json_out), str(terse_out)]
    assert proc.stderr.strip() == f"wrote {csv} ({len(table)} rows)"


def test_snapshots_keeps_every_status_report(run_fio):
    out = run_fio("ingest-status", STATUS_JOB, "--output-format=json", "--status-interval=200ms")
    documents = out.read_text().count("\n{") + out.read_text().startswith("{")
    final = pd.read_csv(io.StringIO(_ingest(str(out)).stdout))
    every = pd.read_csv(io.StringIO(_ingest(str(out), "--snapshots").stdout))
    assert "snapshot" not in final.columns and len(final) == 1
    assert every["snapshot"].tolist() == list(range(documents))
    assert every["ios"].iloc[-1] == final["ios"].iloc[0]


def test_bad_file_is_one_line_on_stderr_and_exit_2(run_fio, tmp_path):
    out = run_fio("ingest-cut", JOB, "--output-format=json")
    cut = tmp_path / "cut.json"
    cut.write_text(out.read_text()[:500])
    proc = _ingest(str(cut))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"pgrant-lab ingest: {cut}: the JSON document starting at line ")
    assert lines[0].endswith("found the file ends before the document does (truncated)")


def test_missing_file_exits_2(tmp_path):
    proc = _ingest(str(tmp_path / "absent.json"))
    assert proc.returncode == 2
    assert proc.stderr == f"pgrant-lab ingest: {tmp_path / 'absent.json'}: expected a fio output file, found no such file\n"


def test_summaries_and_logs_are_not_mixed(run_fio):
    log_job = STATUS_JOB.replace("runtime=700ms", "runtime=100ms\nwrite_bw_log=mixed-kinds")
    out = run_fio("ingest-with-log", log_job, "--output-format=json")
    log = out.parent / "mixed-kinds_bw.1.log"
    proc = _ingest(str(out), str(log))
    assert proc.returncode == 2
    assert proc.stderr == (f"pgrant-lab ingest: FILE: expected files of one kind (summaries, logs or histogram logs), "
                           f"found {log} is a log, {out} is a summary\n")


def test_out_never_overwrites_an_input_nor_writes_into_raw_data(run_fio, tmp_path):
    from analysis.paths import RAW_DATA_DIR

    out = run_fio("ingest-out-guard", JOB, "--output-format=json")
    original = out.read_bytes()
    raw_csv = RAW_DATA_DIR / "qa-never-written.csv"
    cases = [
        (out, f"--out {out}: expected a new CSV file, found one of the FILEs being read (fio output is never overwritten)"),
        (tmp_path / "no-folder" / "t.csv",
         f"--out {tmp_path / 'no-folder' / 't.csv'}: expected a CSV file in an existing folder, found no folder "
         f"{tmp_path / 'no-folder'}"),
        (raw_csv, f"--out {raw_csv}: expected a file outside {RAW_DATA_DIR} (raw data is only read), found one inside it"),
    ]
    for target, message in cases:
        proc = _ingest(str(out), "--out", str(target))
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"pgrant-lab ingest: {message}\n")
    assert out.read_bytes() == original
    assert not raw_csv.exists() and not (tmp_path / "no-folder").exists()


LOG_JOB = """
[logged]
ioengine=psync
rw=randrw
size=256k
filename={shm}/ingest-logged
time_based=1
runtime=150ms
rate_iops=1000
write_lat_log=logged
write_hist_log=logged
log_hist_msec=10
"""


@pytest.fixture(scope="module")
def fio_logs(run_fio):
    """A clat log and a clat_hist log written by fio in this session."""
    out = run_fio("ingest-logs", LOG_JOB, "--output-format=json")
    return out.parent / "logged_clat.1.log", out.parent / "logged_clat_hist.1.log"


def test_metric_names_the_kind_of_a_renamed_log(fio_logs, tmp_path):
    clat, hist = fio_logs
    renamed = tmp_path / "somefile.log"
    renamed.write_bytes(clat.read_bytes())
    proc = _ingest(str(renamed))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"pgrant-lab ingest: {renamed}: expected _bw., _iops., _lat., _clat., _slat. or _clat_hist. "
                           "in the file name to tell the log's kind, found none; pass --metric "
                           "bw|iops|lat|clat|slat|clat_hist to say which\n")
    proc = _ingest("--metric", "clat", str(renamed))
    assert proc.returncode == 0, proc.stderr
    printed = pd.read_csv(io.StringIO(proc.stdout))
    original = pd.read_csv(io.StringIO(_ingest(str(clat)).stdout))
    assert printed["clat_ns"].tolist() == original["clat_ns"].tolist() and set(printed["metric"]) == {"clat"}
    hist_renamed = tmp_path / "histogram.txt"
    hist_renamed.write_bytes(hist.read_bytes())
    proc = _ingest("--metric", "clat_hist", str(hist_renamed))
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(io.StringIO(proc.stdout))["count"].sum() > 0
    proc = _ingest("--metric", "clat", str(hist_renamed))
    assert (proc.returncode, proc.stderr) == (
        2, f"pgrant-lab ingest: --metric clat: expected a clat log, found a histogram log ({hist_renamed})\n")


def test_fio_version_sets_the_unit_of_a_four_field_log(fio_logs, tmp_path):
    clat, _ = fio_logs
    old = tmp_path / "old_clat.1.log"  # fio 3.33's log without its priority field: fio 2.x / 3.0-3.16's layout
    old.write_text("".join(", ".join(line.split(", ")[:4]) + "\n" for line in clat.read_text().splitlines()))
    assumed = _ingest(str(old))
    assert assumed.returncode == 0
    assert assumed.stderr.startswith(f"pgrant-lab ingest: note: fio log {old}: assumed its values are in ns")
    assert assumed.stderr.endswith("pass --fio-version to say which\n") and assumed.stderr.count("\n") == 1
    usec = _ingest("--fio-version", "fio-2.2.10", str(old))
    assert (usec.returncode, usec.stderr) == (0, "")
    assert (pd.read_csv(io.StringIO(usec.stdout))["clat_ns"]
            == pd.read_csv(io.StringIO(assumed.stdout))["clat_ns"] * 1000).all()


def test_log_options_are_refused_for_summaries(run_fio):
    out = run_fio("ingest-json-metric", JOB, "--output-format=json")
    proc = _ingest("--metric", "clat", str(out))
    assert (proc.returncode, proc.stderr) == (
        2, f"pgrant-lab ingest: --metric clat: expected log FILEs (it says what a log holds), found a fio summary ({out})\n")
