"""Fixtures that make fio record a small mixed trace (iolog v3 and a per-I/O lat log) and convert it.

Inputs of tests/test_ingest_trace.py, tests/test_collect_trace_convert.py,
tests/test_xen_grants_blkfront.py, tests/test_xen_grants_compiled.py,
tests/test_xen_grants_frontend_compiled.py and tests/test_cli_simulate.py: fio's own iolog
(version 3) and per-I/O lat log of one job run here. The MSR CSV and the blkparse text are the lat
log converted (the blkparse text is printed by the real blkparse from a binary blktrace file, since
blktrace cannot run in this guest: see analysis/collect/trace_convert.py). A test module imports
the fixtures it uses and the ones they depend on (``shm_dir`` from tests/fio_session.py).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from analysis.collect.trace_convert import to_blkparse_text, to_msr_csv
from analysis.ingest.fiolog import read_log
from analysis.ingest.trace import fio_lat_log_table

# A mixed job: 60 % reads, four request sizes (one of them larger than 11 segments), 8 in flight.
TRACE_JOB = """[trace]
filename={data}
size=16M
rw=randrw
rwmixread=60
bssplit=4k/50:16k/20:64k/20:256k/10
ioengine=libaio
iodepth=8
number_ios=1500
randseed=7
write_iolog=trace.iolog
write_lat_log=trace
log_offset=1
"""


@dataclass
class RecordedTrace:
    folder: Path
    iolog: Path  # fio's write_iolog (version 3)
    lat_log: Path  # fio's per-I/O total latency log with offsets


@pytest.fixture(scope="session")
def recorded_trace(tmp_path_factory, shm_dir) -> RecordedTrace:
    """fio writes the trace during the test run (about a second)."""
    if shutil.which("fio") is None:
        pytest.fail("fio is not on PATH (Debian: apt-get install fio)")
    folder = tmp_path_factory.mktemp("trace")
    (folder / "trace.fio").write_text(TRACE_JOB.format(data=shm_dir / "trace.dat"))
    subprocess.run(["fio", "trace.fio"], cwd=folder, check=True, capture_output=True, timeout=60)
    return RecordedTrace(folder, folder / "trace.iolog", folder / "trace_lat.1.log")


REQUEST_KEY = ["offset_bytes", "bytes", "is_write"]


def sorted_requests(table: pd.DataFrame) -> pd.DataFrame:
    return table[REQUEST_KEY].sort_values(REQUEST_KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def lat_table(recorded_trace):
    return fio_lat_log_table(read_log(recorded_trace.lat_log), "7,0")


@pytest.fixture(scope="module")
def converted(recorded_trace, lat_table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("converted")
    msr = to_msr_csv(lat_table, folder / "kvmguest_0.csv")
    blk = to_blkparse_text(lat_table, folder / "trace.blkparse.txt") if shutil.which("blkparse") else None
    return {"msr": msr, "blkparse": blk}


def corrupt(src, tmp_path, lineno, edit, name="bad"):
    lines = src.read_text().splitlines()
    lines[lineno - 1] = edit(lines[lineno - 1])
    bad = tmp_path / name
    bad.write_text("\n".join(lines) + "\n")
    return bad
