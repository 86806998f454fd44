"""Read block I/O traces into one table: fio's iolog, blkparse's text output and the MSR Cambridge CSV.

Every reader returns the same table, one row per read or write request in arrival order:

``time_us``        arrival (issue) time, microseconds from the first request of the file (float);
``device``         the device or file the request went to (string);
``offset_bytes``   first byte on the device (int64);
``bytes``          length of the request in bytes (int64);
``is_write``       True for a write, False for a read;
``completion_us``  completion time, microseconds on the same clock, NaN where the format has none.

``table.attrs`` holds ``format``, ``path``, ``epoch`` (the file's own time of the first request, in
the file's units) and ``skipped`` (lines that are not read/write requests, by kind).

Formats (each checked against what the real tool writes; tests/test_ingest_trace.py runs them):

``fio-iolog``
    fio's ``write_iolog`` file. Version 2 (``fio version 2 iolog``): ``FILE ACTION [OFFSET LENGTH]``,
    no times (time_us is then the request's index: order only). Version 3 (``fio version 3 iolog``,
    what fio 3.x writes): ``TIME_US FILE ACTION [OFFSET LENGTH]``, the time in microseconds since
    the log started (fio iolog.c log_io_u: ``utime_since_now(&td->io_log_start_time)``).
    Actions besides read and write (add, open, close, sync, datasync, trim, wait) are skipped.
    fio logs an I/O when it queues it, so there is no completion time.
``blkparse``
    blkparse's default text output: ``MAJ,MIN CPU SEQ SECONDS PID ACTION RWBS SECTOR + NSECTORS
    [PROCESS]``. A request arrives at its D event (issued to the driver: in a guest, to blkfront)
    and completes at the C event of the same device and sector (the earliest unmatched D). Other
    actions (Q, G, I, M, P, U, A, m, ...), flushes and discards are skipped; the per-CPU summary
    blkparse prints after the events ends the table.
``msr``
    The MSR Cambridge traces (SNIA IOTTA, Narayanan et al., FAST '08): CSV without a header,
    ``Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime``; Timestamp is the issue time
    in Windows filetime (100 ns ticks), ResponseTime the time to complete in the same units, Type
    ``Read`` or ``Write``, Offset and Size in bytes. ``device`` is ``Hostname_DiskNumber``.

``fio-lat-log``
    fio's per-I/O ``write_lat_log`` file written with ``log_offset=1`` (read by
    :func:`analysis.ingest.fiolog.read_log`): fio logs each I/O when it completes, so completion = the
    line's time (ms, so completion times have millisecond resolution) and arrival = completion
    minus the total latency (ns). ``device`` is the file name up to ``_lat``, which must be fio's
    own name (``<prefix>_lat.<job>.log``: the metric is read from it).

A malformed line raises :class:`analysis.errors.TraceFormatError` with one sentence naming the
file, the line, the field, what was expected and what was found.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import TraceFormatError, UsageError

FORMATS = ("fio-iolog", "blkparse", "msr", "fio-lat-log")
COLUMNS = ("time_us", "device", "offset_bytes", "bytes", "is_write", "completion_us")
SECTOR_BYTES = 512  # blktrace counts 512-byte sectors whatever the device's block size
FILETIME_US = 0.1  # one Windows filetime tick is 100 ns

FIO_IOLOG_HEADERS = {"fio version 2 iolog": 2, "fio version 3 iolog": 3}
# fio io_ddir.h io_ddir_name() and iolog.c file actions: every action a fio iolog line may carry.
FIO_DATA_ACTIONS = ("read", "write")
FIO_OTHER_ACTIONS = ("add", "open", "close", "sync", "datasync", "sync_file_range", "wait", "trim")

_BLKPARSE_EVENT = re.compile(
    r"^\s*(?P<major>\d+),(?P<minor>\d+)\s+(?P<cpu>\d+)\s+(?P<seq>\d+)\s+(?P<seconds>\d+\.\d+)\s+(?P<pid>\d+)"
    r"\s+(?P<action>[A-Za-z]{1,2})\s+(?P<rwbs>\S+)\s*(?P<rest>.*)$")
_BLKPARSE_RANGE = re.compile(r"^(?P<sector>\d+) \+ (?P<sectors>\d+)\b")
_BLKPARSE_SUMMARY = re.compile(r"^(CPU\d+|Total) \(")


def read_trace(path, fmt: str) -> pd.DataFrame:
    """Read a trace file in format ``fmt`` (one of :data:`FORMATS`) into the table of the module docstring."""
    if fmt not in FORMATS:
        raise UsageError(f"format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: expected a trace file, found no such file")
    reader = {"fio-iolog": read_fio_iolog, "blkparse": read_blkparse, "msr": read_msr,
              "fio-lat-log": read_fio_lat_log}[fmt]
    return reader(path)


def _error(path: Path, lineno: int, field: str, expected: str, found: str) -> TraceFormatError:
    shown = found if len(found) <= 60 else found[:57] + "..."
    return TraceFormatError(f"{path}: line {lineno}, field {field}: expected {expected}, found {shown!r}")


def _int(path: Path, lineno: int, field: str, text: str, *, minimum: int = 0) -> int:
    if not text.isdigit() or int(text) < minimum:
        raise _error(path, lineno, field, f"an integer >= {minimum}", text)
    return int(text)


def _table(path: Path, fmt: str, time_us, device, offset, nbytes, is_write, completion_us, *, epoch, skipped) -> pd.DataFrame:
    table = pd.DataFrame({
        "time_us": np.asarray(time_us, dtype=float),
        "device": pd.Series(device, dtype=object).astype(str),
        "offset_bytes": np.asarray(offset, dtype=np.int64),
        "bytes": np.asarray(nbytes, dtype=np.int64),
        "is_write": np.asarray(is_write, dtype=bool),
        "completion_us": np.asarray(completion_us, dtype=float),
    }, columns=list(COLUMNS))
    table.attrs.update(format=fmt, path=str(path), epoch=epoch, skipped=skipped)
    return table


def read_fio_iolog(path) -> pd.DataFrame:
    """Read a fio ``write_iolog`` file (version 2 or 3) into the trace table."""
    path = Path(path)
    time_us, device, offset, nbytes, is_write = [], [], [], [], []
    skipped: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().rstrip("\n")
        version = FIO_IOLOG_HEADERS.get(header.strip())
        if version is None:
            raise _error(path, 1, "header", " or ".join(repr(h) for h in FIO_IOLOG_HEADERS), header)
        lead = 1 if version == 3 else 0
        for lineno, line in enumerate(fh, start=2):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < lead + 2:
                raise _error(path, lineno, "action", f"'{'TIME ' if lead else ''}FILE ACTION [OFFSET LENGTH]'",
                             line.strip())
            action = parts[lead + 1]
            if action in FIO_OTHER_ACTIONS:
                skipped[action] = skipped.get(action, 0) + 1
                continue
            if action not in FIO_DATA_ACTIONS:
                raise _error(path, lineno, "action", f"one of {', '.join(FIO_DATA_ACTIONS + FIO_OTHER_ACTIONS)}",
                             action)
            if len(parts) != lead + 4:
                raise _error(path, lineno, "offset and length", f"{lead + 4} fields for a {action}",
                             f"{len(parts)} fields: {line.strip()}")
            time_us.append(_int(path, lineno, "time", parts[0]) if lead else len(time_us))
            device.append(parts[lead])
            is_write.append(action == "write")
            offset.append(_int(path, lineno, "offset", parts[lead + 2]))
            nbytes.append(_int(path, lineno, "length", parts[lead + 3], minimum=1))
    times = np.asarray(time_us, dtype=float)
    epoch = float(times[0]) if len(times) else 0.0
    return _table(path, "fio-iolog", times - epoch, device, offset, nbytes, is_write, np.full(len(times), np.nan),
                  epoch=epoch, skipped={"version": version, **skipped})


def read_blkparse(path) -> pd.DataFrame:
    """Read blkparse's default text output into the trace table (arrival at D, completion at C)."""
    path = Path(path)
    time_s, device, sector, sectors, is_write = [], [], [], [], []
    completion = []
    pending: dict[tuple[str, int], list[int]] = {}  # (device, sector) -> rows issued, not yet completed
    skipped: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if _BLKPARSE_SUMMARY.match(line):
                break  # blkparse's per-CPU and total summary follows the events
            m = _BLKPARSE_EVENT.match(line)
            if m is None:
                raise _error(path, lineno, "event", "'MAJ,MIN CPU SEQ SECONDS PID ACTION RWBS ...' as blkparse prints",
                             line.strip())
            action, rwbs = m["action"], m["rwbs"]
            data = ("R" in rwbs or "W" in rwbs) and "D" not in rwbs  # reads and writes, not discards
            if action not in ("D", "C") or not data:
                key = action if action not in ("D", "C") else f"{action} {rwbs}"
                skipped[key] = skipped.get(key, 0) + 1
                continue
            r = _BLKPARSE_RANGE.match(m["rest"])
            if r is None:
                if "F" in rwbs:  # a flush carries no sectors
                    skipped[f"{action} {rwbs}"] = skipped.get(f"{action} {rwbs}", 0) + 1
                    continue
                raise _error(path, lineno, "sector range", "'SECTOR + NSECTORS' after a read or write", m["rest"])
            dev = f"{m['major']},{m['minor']}"
            key = (dev, int(r["sector"]))
            if action == "D":
                if int(r["sectors"]) < 1:
                    raise _error(path, lineno, "sectors", "a positive number of 512-byte sectors", r["sectors"])
                pending.setdefault(key, []).append(len(time_s))
                time_s.append(float(m["seconds"]))
                device.append(dev)
                sector.append(int(r["sector"]))
                sectors.append(int(r["sectors"]))
                is_write.append("W" in rwbs)
                completion.append(math.nan)
            else:
                rows = pending.get(key)
                if rows:  # a C whose D precedes the trace has nothing to complete
                    completion[rows.pop(0)] = float(m["seconds"])
    times = np.asarray(time_s, dtype=float)
    epoch = float(times[0]) if len(times) else 0.0
    return _table(path, "blkparse", (times - epoch) * 1e6, device, np.asarray(sector, dtype=np.int64) * SECTOR_BYTES,
                  np.asarray(sectors, dtype=np.int64) * SECTOR_BYTES, is_write,
                  (np.asarray(completion, dtype=float) - epoch) * 1e6, epoch=epoch, skipped=skipped)


def read_msr(path) -> pd.DataFrame:
    """Read an MSR Cambridge trace CSV (no header; filetime ticks of 100 ns) into the trace table."""
    path = Path(path)
    ticks, device, offset, nbytes, is_write, response = [], [], [], [], [], []
    names = ("Timestamp", "Hostname", "DiskNumber", "Type", "Offset", "Size", "ResponseTime")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\r\n").split(",")
            if lineno == 1 and tuple(parts) == names:  # a header row, as some copies of the traces add
                continue
            if len(parts) != len(names):
                raise _error(path, lineno, "fields", f"{len(names)} comma-separated fields ({','.join(names)})",
                             f"{len(parts)} fields: {line.strip()}")
            kind = parts[3]
            if kind not in ("Read", "Write"):
                raise _error(path, lineno, "Type", "Read or Write", kind)
            ticks.append(_int(path, lineno, "Timestamp", parts[0]))
            device.append(f"{parts[1]}_{_int(path, lineno, 'DiskNumber', parts[2])}")
            is_write.append(kind == "Write")
            offset.append(_int(path, lineno, "Offset", parts[4]))
            nbytes.append(_int(path, lineno, "Size", parts[5], minimum=1))
            response.append(_int(path, lineno, "ResponseTime", parts[6]))
    t = np.asarray(ticks, dtype=np.int64)
    epoch = int(t[0]) if len(t) else 0
    rel = (t - epoch).astype(float) * FILETIME_US
    return _table(path, "msr", rel, device, offset, nbytes, is_write, rel + np.asarray(response, dtype=float) * FILETIME_US,
                  epoch=epoch, skipped={})


def fio_lat_log_table(log: pd.DataFrame, device: str) -> pd.DataFrame:
    """The trace table of a fio ``lat`` log read by :func:`analysis.ingest.fiolog.read_log` (needs ``log_offset=1``).

    fio logs a sample when the I/O completes: completion = time_ms (ms since the job started),
    arrival = completion - lat_ns (total latency, submission to completion). Rows are sorted by
    arrival. Only per-I/O rows (no ``log_avg_msec``) of reads and writes are kept.
    """
    if "offset_bytes" not in log.columns or "lat_ns" not in log.columns:
        raise UsageError("fio lat log: expected a per-I/O lat log written with log_offset=1, found columns "
                         f"{', '.join(log.columns)}")
    rows = log[log["direction"].isin(["read", "write"]) & (log["bs_bytes"] > 0)]
    done_us = rows["time_ms"].to_numpy(dtype=float) * 1000.0
    start_us = done_us - rows["lat_ns"].to_numpy(dtype=float) / 1000.0
    table = pd.DataFrame({
        "time_us": start_us,
        "device": device,
        "offset_bytes": rows["offset_bytes"].to_numpy(dtype=np.int64),
        "bytes": rows["bs_bytes"].to_numpy(dtype=np.int64),
        "is_write": (rows["direction"] == "write").to_numpy(),
        "completion_us": done_us,
    }, columns=list(COLUMNS)).sort_values("time_us", kind="stable").reset_index(drop=True)
    first = table["time_us"].min() if len(table) else 0.0
    table["time_us"] -= first
    table["completion_us"] -= first
    return table


def read_fio_lat_log(path) -> pd.DataFrame:
    """Read a fio per-I/O lat log written with ``log_offset=1`` into the trace table (with completion times)."""
    from analysis.errors import FioFormatError
    from analysis.ingest.fiolog import read_log

    path = Path(path)
    try:
        log = read_log(path)  # the metric comes from fio's file name: _lat. (total latency) is needed
    except FioFormatError as err:
        raise TraceFormatError(str(err)) from err
    if "lat_ns" not in log.columns:
        raise TraceFormatError(f"{path}: file name: expected a total-latency log (fio's <prefix>_lat.<job>.log), "
                               f"found a {log['metric'].iloc[0] if len(log) else 'other'} log")
    if "offset_bytes" not in log.columns:
        raise TraceFormatError(f"{path}: line 1, field offset: expected 6 fields as fio writes with log_offset=1, "
                               "found 5 (no offsets)")
    table = fio_lat_log_table(log, path.name.split("_lat")[0])
    table.attrs.update(format="fio-lat-log", path=str(path), epoch=0.0, skipped={})
    return table


def device_table(table: pd.DataFrame, device: str | None = None) -> pd.DataFrame:
    """The requests of one device, sorted by arrival; ``None`` picks the device with most requests."""
    if table.empty:
        raise TraceFormatError(f"{table.attrs.get('path', 'trace')}: expected at least one read or write request, found none")
    counts = table["device"].value_counts()
    if device is None:
        device = str(counts.index[0])
    elif device not in counts.index:
        raise UsageError(f"device: expected one of {', '.join(map(str, counts.index[:10]))}, found {device!r}")
    one = table[table["device"] == device].sort_values("time_us", kind="stable").reset_index(drop=True)
    one.attrs.update(table.attrs, device=device)
    return one
