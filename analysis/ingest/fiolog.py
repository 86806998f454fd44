"""Read fio's log files into tidy tables: per-I/O or windowed logs and histogram logs.

Two readers, one per kind of file fio 3.x writes (format checked with fio 3.33 and fio's
iolog.c ``flush_samples`` / ``flush_hist_samples``; HOWTO.rst "Log File Formats"):

- :func:`read_log` reads ``write_bw_log`` / ``write_iops_log`` / ``write_lat_log`` output,
  ``<prefix>_{bw,iops,lat,clat,slat}.<job>.log``: one row per I/O, or per direction and window
  with ``log_avg_msec``.
- :func:`read_hist_log` reads ``write_hist_log`` output, ``<prefix>_clat_hist.<job>.log``:
  per-interval completion-latency histograms, returned as a long table of non-empty bins with
  their edges in ns (:func:`hist_bin_edges_ns` gives the edges alone).

Layouts fio 3.33 writes (seen by running it; tests/test_ingest_fiolog.py runs each):

- default, 5 fields: ``time_ms, value, ddir, bs, rt_flag``, e.g. ``0, 260527, 0, 4096, 0``;
- ``log_offset=1``, 6 fields: ``time_ms, value, ddir, bs, offset, rt_flag``;
- ``log_prio=1``, 5 fields: ``time_ms, value, ddir, bs, 0x4005`` (the ioprio value in hex);
- both, 6 fields: ``time_ms, value, ddir, bs, offset, 0x4005``;
- ``log_avg_msec=N``: as above, one line per direction and window, with bs and offset 0;
- slat with a synchronous engine (psync): an empty file.

Older fio wrote 4 fields, ``time_ms, value, ddir, bs`` (no priority): fio 2.x and fio 3.0-3.16
(tests/test_corpus.py reads such logs written by fio 2.2.10, 2.18, 3.1, 3.7 and 3.16). Their value
unit follows the writing version: latency logs were in microseconds before fio 3.0 and are in
nanoseconds since (axboe/fio issue #566: a fio 2.2.10 lat log in usec against the HOWTO's "Value is
latency in nsecs"); bandwidth (KiB/s) and IOPS logs kept their units. See :func:`read_log` for how
the version is found and what is assumed without it.

Implausible values are errors, never silently kept: a negative value in a log (a latency,
bandwidth or IOPS below 0), a negative time, block size or offset (fio writes them unsigned), a
number beyond int64, and in a histogram log a bin count of 2^31 - 1 (2147483647) or more in
one interval (fio's per-interval counts are deltas of 32-bit counters, and no interval fio logs
holds two billion I/Os: such a count is corruption, e.g. pbench's fio 3.7 clat_hist sample with
counts of 2147483647, 2.9e17 and 8.5e18), or more I/Os in the log than the run completed (the
``run_ios=`` argument of :func:`read_hist_log`, from the run's summary).

Seen too: windowed bw/iops logs of a job shorter than about 150 ms are empty, window times
are irregular under load and may repeat at the end (fio issues #739, #1058), and a histogram
log leaves out the last partial interval (its counts sum to less than the JSON total).

Malformed input raises :class:`analysis.errors.FioFormatError` with one sentence naming the
file, the line, the field, what was expected and what was found. Files are opened through
:mod:`analysis.ingest.source`: a FIFO or device is refused (never waited on), ``-`` and
``/dev/stdin`` are read once, and a line of more than 1 MiB or with a NUL byte (binary data) is
refused before it is read whole. Both readers parse with
pandas' C reader and explicit dtypes and check with vectorised operations; only when that fast
path fails do they rescan the file line by line to find and describe the first bad line.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.constants import (
    FIO_HIST_MAX_COARSENESS,
    FIO_PLAT_BITS,
    FIO_PLAT_NR,
    FIO_PLAT_VAL,
)
from analysis.errors import FioFormatError, FioUnitWarning, UsageError
from analysis.ingest import source
from analysis.ingest.fio import version_tuple

# fio io_ddir.h enum fio_ddir: DDIR_READ = 0, DDIR_WRITE = 1, DDIR_TRIM = 2.
DIRECTIONS = ("read", "write", "trim")

# The value column of each log kind, with the unit fio 3.x writes (HOWTO "Log File Formats":
# latency in ns, bandwidth in KiB/s, IOPS per second; fio 2.x wrote latency in us).
VALUE_COLUMNS = {
    "bw": "bw_kib_s",
    "iops": "iops",
    "lat": "lat_ns",
    "clat": "clat_ns",
    "slat": "slat_ns",
}

# The unit each log kind's value is written in (before conversion): latency logs were in us
# before fio 3.0 and ns since (fio issue #566); bw (KiB/s) and iops never changed.
_LATENCY_METRICS = ("lat", "clat", "slat")
_LOG_NS_SINCE = (3, 0)
_FILE_UNITS = {"bw": "KiB/s", "iops": "1/s"}
_US_TO_NS = 1000
# A histogram bin count of 2**31 - 1 or more in one interval is corrupt (module docstring).
HIST_MAX_COUNT = 2**31 - 1
# Sibling files read for a "fio version" (at most this many, first 64 KiB of each).
_SIBLING_LIMIT = 200
_SIBLING_BYTES = 1 << 16
_FIO_VERSION_KEY = re.compile(r'"fio version"\s*:\s*"([^"]+)"')

# `<prefix>_<metric>.<job>.log`, or `<prefix>_<metric>.log` with per_job_logs=0.
_METRIC_IN_NAME = re.compile(r"_(bw|iops|lat|clat|slat)\.(?:\d+\.)?log")
_HIST_IN_NAME = re.compile(r"_clat_hist\.(?:\d+\.)?log")
# log_prio=1 writes the 16-bit ioprio value as "0x%04x" (iolog.c flush_samples).
_HEX_PRIO = re.compile(r"0x[0-9a-fA-F]{1,4}")

_HIST_LEAD_FIELDS = ("time_ms", "ddir", "bs_bytes")
# Fields fio writes from unsigned counters (iolog.c flush_samples: %lu time, %llu bs and offset).
_UNSIGNED = ("time_ms", "bs_bytes", "offset_bytes")
_LOG_KIND = "fio log"
_HIST_KIND = "fio histogram log"
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
_FOUND_CHARS = 40  # longer bad fields are cut in messages (e.g. a compressed .fz log)


# ---------------------------------------------------------------------------------------------
# Per-I/O and windowed logs


def read_log(path, *, metric: str | None = None, fio_version: str | None = None) -> pd.DataFrame:
    """Read one fio bw / iops / lat / clat / slat log into a table, one row per log line.

    The metric comes from the file name: ``_bw.``, ``_iops.``, ``_lat.``, ``_clat.`` or
    ``_slat.`` followed by ``<job>.log`` or ``log`` (fio's names; ``run_clat.log`` without a job
    index is what fio 2.x and ``per_job_logs=0`` write); pass ``metric=`` (one of ``bw``,
    ``iops``, ``lat``, ``clat``, ``slat``) for a file renamed so that its name does not tell.
    Layouts (iolog.c ``flush_samples``): fio >= 3.17 writes ``time_ms, value, ddir, bs[, offset],
    prio`` with the offset only under ``log_offset=1`` and the priority written as a 0/1
    real-time flag, or with ``log_prio=1`` as ``0x%04x``; fio 2.x and 3.0-3.16 wrote
    ``time_ms, value, ddir, bs`` (4 fields).

    Latency units and the writing version. A latency log's value is converted to ns; the file
    holds usec when fio < 3.0 wrote it and ns otherwise. The version is ``fio_version=`` (e.g.
    ``"fio-2.2.10"`` or ``"3.16"``) when given; else a log of 5 or 6 fields is fio 3.x's (ns);
    else, for a 4-field log, the ``"fio version"`` of the JSON output beside it (the files of
    its folder holding one, when they all agree). A 4-field latency log with none of these is
    ambiguous (fio 2.x: usec, fio 3.0-3.16: ns): it is read as ns, the layout of fio 3.0-3.16
    that most distributions shipped since 2018, and a :class:`analysis.errors.FioUnitWarning`
    says so. ``table.attrs`` records it: ``fio_version`` (str or None), ``value_unit_in_file``
    (``us``, ``ns``, ``KiB/s`` or ``1/s``) and ``unit_basis`` (where that came from, in words).

    Columns, in order:

    - ``time_ms`` (int64): ms since the job started.
    - the value (int64), named with its unit: ``bw_kib_s`` (KiB/s), ``iops`` (I/Os per
      second; 1 per row without ``log_avg_msec``), ``lat_ns`` / ``clat_ns`` / ``slat_ns`` (ns).
    - ``direction`` (category ``read`` / ``write`` / ``trim``, from fio's ddir 0 / 1 / 2).
    - ``bs_bytes`` (int64): the I/O size; 0 on windowed rows (``log_avg_msec``), where the
      value is the window's mean (or max with ``log_max_value``) per direction.
    - ``offset_bytes`` (int64), only with ``log_offset=1``; 0 on windowed rows.
    - ``prio_rt`` (bool, whether the I/O ran in the real-time ioprio class), or with
      ``log_prio=1`` ``prio`` (int64, the Linux ioprio value ``class << 13 | level``,
      IOPRIO_CLASS_SHIFT in include/uapi/linux/ioprio.h; fio os/os-linux.h ioprio_value);
      neither for a 4-field log (fio < 3.17 wrote no priority).
    - ``source`` (category, the file's path as given) and ``metric`` (category, e.g. ``clat``).

    An empty file (fio writes one for ``slat`` with synchronous engines, and for logs that got
    no sample) gives zero rows with the columns that do not depend on options:
    time_ms, the value, direction, bs_bytes, source, metric. A negative value is a
    FioFormatError naming its line.
    """
    path = Path(path)
    metric = _metric_of(path, metric)
    value_column = VALUE_COLUMNS[metric]
    first = _first_line(path)
    if first is None:
        table = _empty_log_table(path, metric, value_column)
        table.attrs.update(_unit_attrs(path, metric, fio_version, n_fields=None))
        return table
    fields = [f.strip() for f in first.split(",")]
    if len(fields) not in (4, 5, 6):
        raise FioFormatError(
            f"fio log {path} line 1: expected 4, 5 or 6 comma-separated fields "
            f"(time, value, ddir, bs[, offset][, prio] as fio writes), found {len(fields)}"
        )
    has_prio = len(fields) >= 5
    layout = _LogLayout(has_offset=len(fields) == 6, has_prio=has_prio,
                        hex_prio=has_prio and fields[-1].lower().startswith("0x"))
    attrs = _unit_attrs(path, metric, fio_version, n_fields=len(fields))
    try:
        raw = _read_fast(path, layout.dtypes())
        table = _log_table(raw, layout, value_column)
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError) as err:
        raise _describe_bad_log(path, layout) from err
    if attrs["value_unit_in_file"] == "us":
        table[value_column] = table[value_column] * _US_TO_NS
    table["source"] = _constant_category(str(path), len(table))
    table["metric"] = _constant_category(metric, len(table))
    table.attrs.update(attrs)
    return table


def sibling_fio_version(path) -> tuple[str | None, str]:
    """The ``"fio version"`` of the fio JSON output in ``path``'s folder, and how it was found.

    Reads the first 64 KiB of up to 200 files of the folder (not ``*.log`` files) for a
    ``"fio version" : "..."`` key. Returns ``(version, basis)``: the version when every file
    holding one agrees, else None with the reason in ``basis`` (none found, or which disagree).
    """
    folder = Path(path).parent
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return None, f"no readable folder {folder}"
    found = _folder_versions(str(folder), stamp)
    versions = sorted({version for _, version in found})
    if len(versions) == 1:
        return versions[0], f"fio version of {found[0][0]} in the same folder"
    if not versions:
        return None, "no fio JSON output with a fio version is in the same folder"
    return None, f"the fio JSON outputs in the same folder disagree ({', '.join(versions[:4])})"


@functools.lru_cache(maxsize=64)
def _folder_versions(folder: str, stamp: int) -> tuple[tuple[str, str], ...]:
    """(file name, fio version) of the files in ``folder`` that hold one (``stamp``: the
    folder's mtime, so that the cache forgets a folder that changed)."""
    found = []
    try:
        names = sorted(entry.name for entry in os.scandir(folder)
                       if not entry.name.endswith(".log") and entry.is_file())
    except OSError:
        return ()
    for name in names[:_SIBLING_LIMIT]:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                head = f.read(_SIBLING_BYTES)
        except OSError:
            continue
        match = _FIO_VERSION_KEY.search(head)
        if match:
            found.append((name, match.group(1)))
    return tuple(found)


def _unit_attrs(path: Path, metric: str, fio_version: str | None, n_fields: int | None) -> dict:
    """``fio_version``, ``value_unit_in_file`` and ``unit_basis`` of a log (see read_log)."""
    if fio_version is not None:
        release = version_tuple(fio_version if str(fio_version).startswith("fio-") else f"fio-{fio_version}")
        if release is None:
            raise UsageError(f"fio_version={fio_version!r}: expected a fio version such as 'fio-3.16' or '2.2.10'")
        version, basis = str(fio_version), "fio_version given by the user"
    elif metric in _LATENCY_METRICS and n_fields == 4:  # only here does the version decide the unit
        version, basis = sibling_fio_version(path)
        release = version_tuple(version)
    else:
        version, release, basis = None, None, "no version given"
    if metric not in _LATENCY_METRICS:
        return {"fio_version": version, "value_unit_in_file": _FILE_UNITS[metric],
                "unit_basis": f"{metric} logs have this unit in every fio version"}
    if release is not None:
        unit = "us" if release < _LOG_NS_SINCE else "ns"
        return {"fio_version": version, "value_unit_in_file": unit,
                "unit_basis": f"{basis} ({version}: {'usec before' if unit == 'us' else 'ns since'} fio 3.0)"}
    if n_fields is None or n_fields >= 5:
        return {"fio_version": None, "value_unit_in_file": "ns",
                "unit_basis": "no version known; a layout only fio 3.x writes (5 or 6 fields: ns)"
                if n_fields else "no version known; empty log"}
    assumed = (f"fio log {path}: assumed its values are in ns (fio 3.0-3.16) because its 4 fields are "
               f"what fio 2.x (usec) and 3.0-3.16 (ns) both wrote, and {basis}; pass fio_version= to say which")
    warnings.warn(assumed, FioUnitWarning, stacklevel=3)
    return {"fio_version": None, "value_unit_in_file": "ns", "unit_basis": assumed}


class _LogLayout:
    """Which optional fields a log's first line shows (log_offset, log_prio; none before fio 3.17)."""

    def __init__(self, *, has_offset: bool, hex_prio: bool, has_prio: bool = True):
        self.has_offset = has_offset
        self.has_prio = has_prio
        self.hex_prio = hex_prio

    def names(self) -> list[str]:
        return (["time_ms", "value", "ddir", "bs_bytes"] + (["offset_bytes"] if self.has_offset else [])
                + (["prio"] if self.has_prio else []))

    def dtypes(self) -> dict[int, object]:
        names = self.names()
        types = {i: np.int64 for i in range(len(names))}
        if self.hex_prio:
            # parsed as a category: pandas hashes the few distinct strings instead of making
            # one string object per row (measured 1.35x -> ~1x bare read_csv on 2M lines)
            types[len(names) - 1] = "category"
        return types


def metric_from_name(path) -> str | None:
    """The log kind fio's file name tells: ``bw``, ``iops``, ``lat``, ``clat``, ``slat`` or
    ``clat_hist`` (``<prefix>_<kind>.<job>.log`` or ``<prefix>_<kind>.log``), else None."""
    name = Path(path).name
    if _HIST_IN_NAME.search(name):
        return "clat_hist"
    found = _METRIC_IN_NAME.findall(name)
    return found[-1] if found else None


def _metric_of(path: Path, metric: str | None) -> str:
    if metric is not None:
        if metric not in VALUE_COLUMNS:
            raise UsageError(f"metric={metric!r}: expected one of {', '.join(VALUE_COLUMNS)}")
        return metric
    name = path.name
    if _HIST_IN_NAME.search(name):
        raise FioFormatError(
            f"fio log {path}: expected a bw/iops/lat/clat/slat log, found a histogram log "
            f"name (_clat_hist.); read it with read_hist_log"
        )
    found = _METRIC_IN_NAME.findall(name)
    if not found:
        raise FioFormatError(
            f"fio log {path}: expected _bw., _iops., _lat., _clat. or _slat. in the file name "
            f"to tell the metric, found none; pass metric= to say which"
        )
    return found[-1]


def _first_line(path: Path, kind: str = _LOG_KIND) -> str | None:
    """The first non-blank line of ``path``, or None for an empty file."""
    with _open(path, kind) as f:
        for lineno, line in _bounded_lines(f, path, kind):
            if line.strip():
                return line.decode("ascii", errors="replace")
    return None


# No line fio writes is this long (a histogram line of 1856 bins is under 40 KB); a longer one is
# binary data (a sparse or compressed file), and reading it whole could take gigabytes.
_MAX_LINE_BYTES = 1 << 20


def _bounded_lines(f, path: Path, kind: str = _LOG_KIND):
    """(line number from 1, raw line) of a binary file, refusing a line of more than 1 MiB or a NUL byte."""
    lineno = 0
    while line := f.readline(_MAX_LINE_BYTES + 1):
        lineno += 1
        if len(line) > _MAX_LINE_BYTES or b"\0" in line:
            found = "a line of more than 1 MiB" if len(line) > _MAX_LINE_BYTES else "a NUL byte"
            raise FioFormatError(f"{kind} {path} line {lineno}: expected a text line of comma-separated numbers, "
                                 f"found {found} (binary data)")
        yield lineno, line


def _open(path: Path, kind: str = _LOG_KIND):
    """``path`` opened for reading bytes: a regular file (never a FIFO or device, which would block
    or never end) or the bytes of a stream (``-``, ``/dev/stdin``), read once (analysis.ingest.source)."""
    try:
        return source.open_binary(path)
    except source.InputError as err:
        raise FioFormatError(f"{kind} {path}: expected a readable file, found {err.found}") from None


def _read_fast(path: Path, dtypes: dict[int, object]) -> pd.DataFrame:
    # index_col=False: never let pandas take a longer first row's extra field as an index.
    with _open(path) as f:
        return _read_csv(f, dtypes)


def _read_csv(f, dtypes: dict[int, object]) -> pd.DataFrame:
    return pd.read_csv(
        f,
        header=None,
        names=list(range(len(dtypes))),
        dtype=dtypes,
        index_col=False,
        engine="c",
    )


def _log_table(raw: pd.DataFrame, layout: _LogLayout, value_column: str) -> pd.DataFrame:
    """Name, check and convert the columns of a parsed log; ValueError on any bad value."""
    names = layout.names()
    raw.columns = names
    ddir = raw["ddir"].to_numpy()
    if ddir.size and (ddir.min() < 0 or ddir.max() >= len(DIRECTIONS)):
        raise ValueError("ddir outside 0..2")
    if len(raw) and raw["value"].to_numpy().min() < 0:
        raise ValueError("a negative value")
    if len(raw) and any(raw[name].to_numpy().min() < 0 for name in _UNSIGNED if name in raw):
        raise ValueError("a negative time, block size or offset")
    columns = {
        "time_ms": raw["time_ms"],
        value_column: raw["value"],
        "direction": pd.Categorical.from_codes(ddir.astype(np.int8), categories=list(DIRECTIONS)),
        "bs_bytes": raw["bs_bytes"],
    }
    if layout.has_offset:
        columns["offset_bytes"] = raw["offset_bytes"]
    if not layout.has_prio:
        pass
    elif layout.hex_prio:
        columns["prio"] = _hex_to_int(raw["prio"])
    else:
        prio = raw["prio"].to_numpy()
        if prio.size and (prio.min() < 0 or prio.max() > 1):
            raise ValueError("prio flag outside 0..1")
        columns["prio_rt"] = prio.astype(bool)
    return pd.DataFrame(columns, copy=False)


def _hex_to_int(column: pd.Series) -> np.ndarray:
    """A categorical of ``" 0x2004"`` strings to int64, converting each distinct string once."""
    codes = column.cat.codes.to_numpy()
    if codes.size and codes.min() < 0:
        raise ValueError("missing prio")
    values = []
    for text in column.cat.categories:
        text = str(text).strip()
        if not _HEX_PRIO.fullmatch(text):
            raise ValueError(f"not a hex prio: {text!r}")
        values.append(int(text, 16))
    return np.asarray(values, dtype=np.int64)[codes]


def _empty_log_table(path: Path, metric: str, value_column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time_ms": np.empty(0, np.int64),
            value_column: np.empty(0, np.int64),
            "direction": pd.Categorical.from_codes(np.empty(0, np.int8), categories=list(DIRECTIONS)),
            "bs_bytes": np.empty(0, np.int64),
            "source": _constant_category(str(path), 0),
            "metric": _constant_category(metric, 0),
        }
    )


def _constant_category(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[value])


def _describe_bad_log(path: Path, layout: _LogLayout) -> FioFormatError:
    """Rescan ``path`` line by line and describe its first bad line (slow path, errors only)."""
    names = layout.names()
    for lineno, fields in _lines(path):
        if len(fields) != len(names):
            return _count_error(path, lineno, names, len(fields))
        for i, (name, text) in enumerate(zip(names, fields), start=1):
            if name == "prio" and layout.hex_prio:
                if not _HEX_PRIO.fullmatch(text):
                    return _field_error(path, lineno, i, name, "a hex ioprio such as 0x0000 (log_prio=1)", text)
            elif not _is_int(text):
                return _field_error(path, lineno, i, name, "an integer of at most 19 digits", text)
            elif name == "value" and int(text) < 0:
                return _field_error(path, lineno, i, name, "a value of 0 or more (a latency, bandwidth or IOPS)", text)
            elif name in _UNSIGNED and int(text) < 0:
                return _field_error(path, lineno, i, name, "a value of 0 or more", text)
            elif name == "ddir" and int(text) not in range(len(DIRECTIONS)):
                return _field_error(path, lineno, i, name, "0 (read), 1 (write) or 2 (trim)", text)
            elif name == "prio" and int(text) not in (0, 1):
                return _field_error(path, lineno, i, name, "0 or 1 (the real-time class flag)", text)
    return FioFormatError(f"fio log {path}: expected fio log lines, found content pandas cannot parse")


def _lines(path: Path):
    """(line number, stripped fields) for each non-blank line, numbered from 1."""
    with _open(path) as f:
        for lineno, line in _bounded_lines(f, path):
            text = line.decode("ascii", errors="replace").strip()
            if text:
                yield lineno, [field.strip() for field in text.split(",")]


def _is_int(text: str) -> bool:
    """Whether ``text`` is a decimal integer that fits the int64 columns (as the fast path needs)."""
    try:
        value = int(text)
    except ValueError:
        return False
    return _INT64_MIN <= value <= _INT64_MAX


def _count_error(path: Path, lineno: int, names: list[str], found: int) -> FioFormatError:
    return FioFormatError(
        f"fio log {path} line {lineno}: expected {len(names)} comma-separated fields "
        f"({', '.join(names)}) as on line 1, found {found}"
    )


def _field_error(path: Path, lineno: int, index: int, name: str, expected: str, found: str, *, kind: str = "fio log") -> FioFormatError:
    if len(found) > _FOUND_CHARS:
        found = found[:_FOUND_CHARS] + "..."
    return FioFormatError(f"{kind} {path} line {lineno} field {index} ({name}): expected {expected}, found {found!r}")


# ---------------------------------------------------------------------------------------------
# Histogram logs


def hist_bin_edges_ns(coarseness: int = 0) -> pd.DataFrame:
    """Latency range of each histogram-log bin at ``coarseness`` (0..6), in ns.

    fio files a latency of ``v`` ns in bin ``plat_val_to_idx(v)`` (stat.c): values below
    ``2 * FIO_IO_U_PLAT_VAL`` = 128 ns get a bin each; above that, group ``g`` (bins 64g..64g+63)
    splits ``[2^(g+5), 2^(g+6))`` into 64 equal bins of ``2^(g-1)`` ns. There are
    ``FIO_IO_U_PLAT_NR`` = 1856 bins; a histogram log with ``log_hist_coarseness=c`` sums runs
    of ``2^c`` adjacent bins (iolog.c ``hist_sum``), so it has ``1856 >> c`` bins.

    Returns one row per coarse bin: ``bin`` (index in the file), ``lat_low_ns`` (inclusive),
    ``lat_high_ns`` (exclusive) and ``lat_ns``, the value fio reports for the bin: the bin's
    own value for one-value bins and otherwise the middle of the range, as ``plat_idx_to_val``
    returns ("the mean of the range of the bucket"). The last bin also holds every latency
    above its upper edge (2^34 ns, about 17 s), because ``plat_val_to_idx`` clamps the index.
    """
    if coarseness not in range(FIO_HIST_MAX_COARSENESS + 1):
        raise UsageError(f"coarseness={coarseness!r}: expected an integer from 0 to {FIO_HIST_MAX_COARSENESS}")
    stride = 1 << coarseness
    fine = np.arange(FIO_PLAT_NR, dtype=np.int64)
    low, high = _fine_bin_edges(fine)
    low = low[::stride]
    high = high[stride - 1 :: stride]
    width = high - low
    lat = np.where(width == 1, low, (low + high) / 2.0)
    return pd.DataFrame(
        {
            "bin": np.arange(FIO_PLAT_NR // stride, dtype=np.int64),
            "lat_low_ns": low,
            "lat_high_ns": high,
            "lat_ns": lat.astype(np.float64),
        }
    )


def _fine_bin_edges(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[low, high) in ns of fio's fine latency bins ``idx`` (stat.c plat_idx_to_val, vectorised)."""
    linear = idx < (FIO_PLAT_VAL << 1)
    error_bits = np.maximum((idx >> FIO_PLAT_BITS) - 1, 0)
    base = np.int64(1) << (error_bits + FIO_PLAT_BITS)
    k = idx % FIO_PLAT_VAL
    low = np.where(linear, idx, base + (k << error_bits))
    high = np.where(linear, idx + 1, base + ((k + 1) << error_bits))
    return low, high


def read_hist_log(path, *, run_ios: int | None = None) -> pd.DataFrame:
    """Read one fio completion-latency histogram log (``write_hist_log`` + ``log_hist_msec``).

    fio writes one line per direction and interval (iolog.c ``flush_hist_samples``):
    ``time_ms, ddir, bs, count_0, ..., count_{B-1}`` with ``B = 1856 >> log_hist_coarseness``;
    each count is the number of I/Os completed in that interval whose clat fell in the bin
    (a delta against the previous line of the same direction, not a running total). The
    coarseness is recovered from ``B``; any other bin count is an error.

    Returns a long ("tidy") table with one row per (line, non-empty bin), because this is
    what plots directly: ``sns.histplot(t, x="lat_ns", weights="count", hue="direction",
    log_scale=True)`` for a distribution, a weighted quantile per ``time_ms`` for percentiles
    over time, or ``t.pivot_table(index="lat_ns", columns="time_ms", values="count")`` for a
    heatmap. Empty bins are left out: they are more than 99% of the cells and carry nothing.
    Columns: ``time_ms`` (int64, ms since job start), ``direction`` (category read / write /
    trim), ``bs_bytes`` (int64), ``bin`` (int64, coarse bin index), ``lat_low_ns``,
    ``lat_high_ns`` (int64, bin range [low, high) in ns), ``lat_ns`` (float64, fio's
    representative value of the bin), ``count`` (int64, I/Os), ``source`` (category). The
    table's ``attrs["coarseness"]`` holds the coarseness; :func:`hist_bin_edges_ns` gives every
    bin's edges. An empty file gives zero rows.

    Corrupt counts are a FioFormatError naming the file, line, bin and count: a count of
    2^31 - 1 (:data:`HIST_MAX_COUNT`) or more in one interval, or, with ``run_ios`` (the run's
    completed I/Os of this job, e.g. the summary's ``ios`` summed over its directions), a log
    whose counts add up to more I/Os than that by some line.
    """
    path = Path(path)
    first = _first_line(path, _HIST_KIND)
    if first is None:
        return _hist_table(path, np.empty((0, 3), np.int64), np.empty((0, 0), np.int64), 0)
    n_fields = first.count(",") + 1
    coarseness = _hist_coarseness(path, n_fields - len(_HIST_LEAD_FIELDS))
    try:
        raw = _read_fast(path, {i: np.int64 for i in range(n_fields)})
        values = raw.to_numpy()
        lead, counts = values[:, : len(_HIST_LEAD_FIELDS)], values[:, len(_HIST_LEAD_FIELDS) :]
        ddir = lead[:, 1]
        if ddir.size and (ddir.min() < 0 or ddir.max() >= len(DIRECTIONS) or counts.min() < 0
                          or lead[:, 0].min() < 0 or lead[:, 2].min() < 0):
            raise ValueError("ddir outside 0..2, or a negative count, time or block size")
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError) as err:
        raise _describe_bad_hist(path, n_fields) from err
    if counts.size and counts.max() >= HIST_MAX_COUNT:
        raise _describe_corrupt_hist(path, lambda row, fields: next(
            (i for i, text in enumerate(fields) if i >= len(_HIST_LEAD_FIELDS) and int(text) >= HIST_MAX_COUNT), None),
            f"a count below {HIST_MAX_COUNT} (2^31 - 1) I/Os in one interval")
    if run_ios is not None and counts.size:
        # python ints: the running total cannot overflow
        totals = np.cumsum([int(total) for total in counts.sum(axis=1, dtype=np.float64)])
        if totals[-1] > run_ios:
            over = int(np.argmax(totals > run_ios))
            raise _describe_corrupt_hist(path, lambda row, fields: -1 if row == over else None,
                                         f"at most run_ios={run_ios} I/Os in all (the run's completed I/Os)",
                                         found=f"{int(totals[over])} by this line")
    return _hist_table(path, lead, counts, coarseness)


def _describe_corrupt_hist(path: Path, pick, expected: str, found: str | None = None) -> FioFormatError:
    """The FioFormatError for the first line where ``pick(row, fields)`` gives a field index
    (-1: the line as a whole); rows count non-blank lines from 0 as pandas does."""
    for row, (lineno, fields) in enumerate(_lines(path)):
        index = pick(row, fields)
        if index is None:
            continue
        if index < 0:
            return FioFormatError(f"{_HIST_KIND} {path} line {lineno}: expected {expected}, found {found}")
        bin_index = index - len(_HIST_LEAD_FIELDS)
        return FioFormatError(f"{_HIST_KIND} {path} line {lineno} field {index + 1} (bin {bin_index}): "
                              f"expected {expected}, found {fields[index]} (a corrupt histogram)")
    return FioFormatError(f"{_HIST_KIND} {path}: expected {expected}, found more")


def _hist_coarseness(path: Path, n_bins: int) -> int:
    for coarseness in range(FIO_HIST_MAX_COARSENESS + 1):
        if n_bins == FIO_PLAT_NR >> coarseness:
            return coarseness
    allowed = ", ".join(str(FIO_PLAT_NR >> c) for c in range(FIO_HIST_MAX_COARSENESS + 1))
    raise FioFormatError(
        f"fio histogram log {path} line 1: expected 3 leading fields and {allowed} bins "
        f"(1856 >> log_hist_coarseness, fio 3.x), found {n_bins} bins"
    )


def _hist_table(path: Path, lead: np.ndarray, counts: np.ndarray, coarseness: int) -> pd.DataFrame:
    row, bin_index = np.nonzero(counts)
    edges = hist_bin_edges_ns(coarseness)
    table = pd.DataFrame(
        {
            "time_ms": lead[row, 0],
            "direction": pd.Categorical.from_codes(lead[row, 1].astype(np.int8), categories=list(DIRECTIONS)),
            "bs_bytes": lead[row, 2],
            "bin": bin_index.astype(np.int64),
            "lat_low_ns": edges["lat_low_ns"].to_numpy()[bin_index],
            "lat_high_ns": edges["lat_high_ns"].to_numpy()[bin_index],
            "lat_ns": edges["lat_ns"].to_numpy()[bin_index],
            "count": counts[row, bin_index],
            "source": _constant_category(str(path), len(row)),
        }
    )
    table.attrs["coarseness"] = coarseness
    return table


def _describe_bad_hist(path: Path, n_fields: int) -> FioFormatError:
    """Rescan a histogram log and describe its first bad line (slow path, errors only)."""
    names = list(_HIST_LEAD_FIELDS) + [f"bin {i}" for i in range(n_fields - len(_HIST_LEAD_FIELDS))]
    for lineno, fields in _lines(path):
        if len(fields) != n_fields:
            return FioFormatError(
                f"fio histogram log {path} line {lineno}: expected {n_fields} comma-separated "
                f"fields (time_ms, ddir, bs_bytes and {n_fields - 3} bins) as on line 1, found {len(fields)}"
            )
        for i, (name, text) in enumerate(zip(names, fields), start=1):
            if not _is_int(text):
                return _field_error(path, lineno, i, name, "an integer of at most 19 digits", text, kind=_HIST_KIND)
            if name == "ddir" and int(text) not in range(len(DIRECTIONS)):
                return _field_error(path, lineno, i, name, "0 (read), 1 (write) or 2 (trim)", text, kind=_HIST_KIND)
            if name.startswith("bin") and int(text) < 0:
                return _field_error(path, lineno, i, name, "a count of 0 or more", text, kind=_HIST_KIND)
            if name in _UNSIGNED and int(text) < 0:
                return _field_error(path, lineno, i, name, "a value of 0 or more", text, kind=_HIST_KIND)
    return FioFormatError(f"fio histogram log {path}: expected fio histogram lines, found content pandas cannot parse")
