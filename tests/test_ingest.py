"""``pgrant-lab ingest`` run as a user runs it (the installed console script), on real fio output."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import fio
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
    from analysis.report import RAW_DATA_DIR

    out = run_fio("ingest-out-guard", JOB, "--output-format=json")
    original = out.read_bytes()
    raw_csv = RAW_DATA_DIR / "qa-never-written.csv"
    cases = [
        (out, f"--out {out}: expected a new CSV file, found one of the FILEs being read (fio output is never overwritten)"),
        (tmp_path / "no-folder" / "t.csv",
         f"--out {tmp_path / 'no-folder' / 't.csv'}: expected a CSV file in an existing folder, found no folder "
         f"{tmp_path / 'no-folder'}"),
        (raw_csv, f"--out {raw_csv}: expected a place outside {RAW_DATA_DIR} (raw data is only read), found one inside it"),
    ]
    for target, message in cases:
        proc = _ingest(str(out), "--out", str(target))
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"pgrant-lab ingest: {message}\n")
    assert out.read_bytes() == original
    assert not raw_csv.exists() and not (tmp_path / "no-folder").exists()
