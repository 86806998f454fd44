"""Write a trace table (:mod:`analysis.ingest.trace`) in another tool's format: MSR CSV and blkparse text.

These converters exist because two formats cannot be recorded on this machine:

- **MSR Cambridge CSV**: a public data set recorded on Windows servers in 2007; no MSR file is
  bundled. :func:`to_msr_csv` writes a table that a real tool recorded here (fio) in that layout,
  so that the MSR reader is tested on real request streams.
- **blkparse text**: ``blktrace`` cannot run in this guest. Its kernel (a 2-vCPU KVM guest) is in
  lockdown, and the kernel refuses blktrace's debugfs relay files: ``blktrace -d /dev/loop0`` fails
  with "failed open /sys/kernel/debug/block/loop0/trace0: Operation not permitted" and dmesg says
  "Lockdown: blktrace: debugfs access is restricted". :func:`to_blkparse_text` therefore writes
  the requests as a *binary* blktrace file (``struct blk_io_trace``, one Q, D and, when the
  completion time is known, C event per request) and runs the real ``blkparse`` on it, so the
  text the reader is tested on is what blkparse itself prints.

The tests convert the trace table of a fio lat log (:func:`analysis.ingest.trace.read_fio_lat_log`, which
has completion times; fio's iolog has none).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import MeasurementError, UsageError
from analysis.ingest.trace import FILETIME_US, SECTOR_BYTES, fio_lat_log_table  # noqa: F401 - kept importable here

# blktrace_api.h (blktrace 1.3 / include/uapi/linux/blktrace_api.h): magic, version, actions, categories.
BLK_IO_TRACE_MAGIC = 0x65617400
BLK_IO_TRACE_VERSION = 0x07
BLK_TC_READ, BLK_TC_WRITE, BLK_TC_NOTIFY = 1 << 0, 1 << 1, 1 << 15
BLK_TC_SHIFT = 16
BLK_TA_QUEUE, BLK_TA_ISSUE, BLK_TA_COMPLETE = 1, 7, 8
BLK_TN_PROCESS = 0
# struct blk_io_trace: magic, sequence, time (ns), sector, bytes, action, pid, device, cpu, error, pdu_len.
_BLK_IO_TRACE = struct.Struct("<IIQQIIIIIHH")
# The MSR traces start in 2007 (filetime 128166372000000000 is 2007-02-22); any epoch works for the reader.
MSR_EPOCH_FILETIME = 128166372000000000


def to_msr_csv(table: pd.DataFrame, path, *, hostname: str = "kvmguest", disk: int = 0) -> Path:
    """Write ``table`` as an MSR Cambridge CSV (filetime ticks, bytes; ResponseTime needs completion_us)."""
    if table["completion_us"].isna().any():
        raise UsageError("to_msr_csv: expected a completion time for every request (MSR has ResponseTime), "
                         "found NaN")
    ticks = MSR_EPOCH_FILETIME + np.round(table["time_us"].to_numpy() / FILETIME_US).astype(np.int64)
    response = np.round((table["completion_us"] - table["time_us"]).to_numpy() / FILETIME_US).astype(np.int64)
    kind = np.where(table["is_write"].to_numpy(), "Write", "Read")
    path = Path(path)
    with open(path, "w") as fh:
        for t, k, off, size, rt in zip(ticks, kind, table["offset_bytes"], table["bytes"], np.maximum(response, 0)):
            fh.write(f"{t},{hostname},{disk},{k},{off},{size},{rt}\n")
    return path


def _record(seq: int, time_ns: int, sector: int, nbytes: int, action: int, category: int, pid: int, dev: int,
            pdu: bytes = b"") -> bytes:
    magic = BLK_IO_TRACE_MAGIC | BLK_IO_TRACE_VERSION
    return _BLK_IO_TRACE.pack(magic, seq, time_ns, sector, nbytes, (category << BLK_TC_SHIFT) | action, pid, dev, 0,
                              0, len(pdu)) + pdu


def to_blktrace_binary(table: pd.DataFrame, path, *, major: int = 7, minor: int = 0, pid: int = 1,
                       process: str = "fio") -> Path:
    """Write ``table`` as one CPU's binary blktrace file (Q and D at arrival, C at completion when known)."""
    if (table["offset_bytes"] % SECTOR_BYTES).any() or (table["bytes"] % SECTOR_BYTES).any():
        raise UsageError(f"to_blktrace_binary: expected offsets and sizes in whole {SECTOR_BYTES}-byte sectors")
    dev = (major << 20) | minor  # the kernel's MKDEV, as blktrace records it (MINORBITS = 20)
    events = []
    for t, off, size, write, done in zip(table["time_us"], table["offset_bytes"], table["bytes"], table["is_write"],
                                         table["completion_us"]):
        category = BLK_TC_WRITE if write else BLK_TC_READ
        t_ns = int(round(t * 1000.0))
        sector = int(off) // SECTOR_BYTES
        events.append((t_ns, 0, sector, int(size), BLK_TA_QUEUE, category))
        events.append((t_ns, 1, sector, int(size), BLK_TA_ISSUE, category))
        if not np.isnan(done):
            events.append((max(int(round(done * 1000.0)), t_ns), 2, sector, int(size), BLK_TA_COMPLETE, category))
    events.sort(key=lambda e: (e[0], e[1]))
    path = Path(path)
    with open(path, "wb") as fh:
        fh.write(_record(0, 0, 0, 0, BLK_TN_PROCESS, BLK_TC_NOTIFY, pid, dev, process.encode() + b"\0"))
        for seq, (t_ns, _, sector, size, action, category) in enumerate(events, start=1):
            fh.write(_record(seq, t_ns, sector, size, action, category, pid if action != BLK_TA_COMPLETE else 0, dev))
    return path


def to_blkparse_text(table: pd.DataFrame, path, **device) -> Path:
    """Write ``table`` as blkparse's default text output, produced by running the real ``blkparse``."""
    blkparse = shutil.which("blkparse")
    if blkparse is None:
        raise MeasurementError("blkparse: expected the blkparse program on PATH (Debian: apt-get install blktrace), "
                               "found none")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="pgrant-blktrace-") as tmp:
        to_blktrace_binary(table, Path(tmp) / "trace.blktrace.0", **device)
        proc = subprocess.run([blkparse, "-i", "trace", "-D", tmp, "-o", str(path)], capture_output=True, text=True,
                              timeout=120)
    if proc.returncode != 0:
        raise MeasurementError(f"blkparse: expected exit status 0, found {proc.returncode}: {proc.stderr.strip()}")
    return path
