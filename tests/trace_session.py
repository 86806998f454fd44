"""A session fixture that makes fio record a small mixed trace (iolog v3 and a per-I/O lat log)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

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
