"""Read fio's summary output (json, json+, terse v3, client/server json) into one tidy table.

The stage "fio output files -> tidy table". :func:`read` takes one file, detects its format and
returns one row per (source, hostname, job, direction that did I/O); :func:`read_many` concatenates
several files; :func:`read_histogram` returns json+'s completion-latency bins; :func:`detect_format`
says which of fio's formats a file holds. Log files (``write_*_log``, ``write_hist_log``) are read
by :mod:`analysis.ingest.fiolog`. Formats and their units follow fio 3.33's HOWTO ("Terse output",
"JSON output", "JSON+ output") and were checked against files fio 3.33 wrote.

Tidy schema (:data:`COLUMNS`; every table has exactly these columns and dtypes, in this order)

==============  =========  ==================================================================
column          dtype      meaning (source field in fio's JSON / terse v3)
==============  =========  ==================================================================
source          string     the path the row was read from, as given to :func:`read`
hostname        string     client/server: the ``hostname`` fio wrote for the server; <NA> for a
                           local run (fio writes no host there) and for the "All clients" row
port            Int64      client/server: the server's ``port``; <NA> otherwise
is_aggregate    bool       True for client/server's "All clients" sum (drop it before summing)
job             int64      position of the job entry in its file (per host in client/server),
                           from 0: ``numjobs=2`` gives two jobs with one name
jobname         string     ``jobname`` (group_reporting: the first job of the group)
groupid         int64      ``groupid`` (``new_group``/``stonewall`` start a new one)
direction       string     ``read``, ``write``, ``trim`` or ``mixed`` (unified_rw_reporting);
                           ``none`` for the one row kept for a job that did no I/O at all
                           (a direction gets a row when ``total_ios`` or ``io_bytes`` > 0)
iops            float64    ``iops``, I/Os per second over the direction's runtime
bw_bytes_s      float64    ``bw_bytes`` (B/s); terse: bandwidth KiB/s x 1024
io_bytes        int64      ``io_bytes``; terse: Total IO KiB x 1024
runtime_ms      int64      the direction's ``runtime`` in ms
lat_mean_ns     float64    ``lat_ns.mean`` (submission + completion); terse: usec x 1000
clat_mean_ns    float64    ``clat_ns.mean``; terse: usec x 1000
clat_p50_ns     float64    ``clat_ns.percentile["50.000000"]``; NaN when fio wrote no such
clat_p90_ns     float64    percentile (``clat_percentiles=0``, or a ``percentile_list``
clat_p99_ns     float64    without it); terse: the ``50.000000%=usec`` field x 1000
clat_p99_9_ns   float64    (terse percentiles are whole microseconds)
ios             Int64      ``total_ios`` (completed I/Os); <NA> for terse (not written)
error           int64      the job's fio ``error`` (an errno; 0 = none)
usr_cpu_pct     float64    the job's ``usr_cpu`` / ``sys_cpu``: % of one CPU over the job's
sys_cpu_pct     float64    runtime (terse: cpu user, cpu system); <NA>/NaN when not written
rw              string     the job's options, from ``job options`` or else ``global options``
bs              string     or else fio's default (``fio --cmdhelp``), exactly as written
bs_bytes        Int64      the block size of this direction in bytes (``bs=4k,8k`` -> read
                           4096, write 8192); <NA> for ranges or unparsable values
iodepth         Int64      ``iodepth`` (fio caps it at 1 for synchronous engines)
numjobs         Int64      ``numjobs`` (group_reporting rows stand for this many jobs)
ioengine        string     ``ioengine``; these options are <NA> in terse (fio does not write them),
                           on "All clients" rows, and where clients' [global]s disagree
fio_version     string     ``fio version`` (filled for fio 2.x and 3.x JSON and terse)
snapshot        int64      only with ``snapshots=True``: index of the JSON document in the file
==============  =========  ==================================================================

fio 2.x JSON (fio 2.1.4 .. 2.99; tests/test_corpus.py reads files fio 2.1.4, 2.17 and 2.18 wrote)
is read into the same columns, converted to the units above. What differs, from fio's own stat.c
``add_ddir_status_json`` before 3.0 (axboe/fio stat.c, fio 2.x: ``"io_bytes", ts->io_bytes[ddir] >> 10``,
latencies from ``calc_lat`` in usec) and fio's issue tracker:

- latencies are in microseconds under ``slat`` / ``clat`` / ``lat`` (no ``*_ns`` keys; fio 3.0 moved
  to ns and renamed them): ``lat_mean_ns``, ``clat_mean_ns`` and the ``clat_p*_ns`` percentiles are
  the usec values x 1000. Which layout a file has is read from its keys; a file whose ``fio
  version`` is 3.0 or later must have the ``*_ns`` keys.
- ``io_bytes`` held KiB (``io_bytes >> 10``) up to fio 2.20; fio 2.21 made it bytes (axboe/fio
  issue #378, "io_bytes reported in JSON output is off by factor of 1024", June 2017: fio-2.19-66
  still wrote KiB). We multiply by 1024 when ``fio version`` is below 2.21. Without a version the
  unit is taken from the file itself: ``io_bytes`` / (``bw`` [KiB/s] x ``runtime`` [ms] / 1000) is
  near 1 for KiB and 1024 for bytes.
- ``bw`` is KiB/s in every version (``bw_bytes`` only exists from fio 3.2, issue #422 / PR #487).
- ``total_ios`` is missing in fio 2.1.4's output: ``ios`` is <NA> there, and a direction "did
  I/O" when its ``io_bytes`` > 0.
- ``job options`` is missing in fio 2.1.4's output: rw, bs, bs_bytes, iodepth, numjobs and
  ioengine are <NA> for such a job unless ``global options`` sets them (fio's defaults would be
  a guess).
- ``fio_version`` is the document's ``fio version`` as written (e.g. ``fio-2.18-59-g618e``).

Implausible values are errors (FioFormatError, one sentence naming the file, job, field, what
was expected and what was found), never silently kept: a negative ``iops``, ``io_bytes``,
``runtime``, ``total_ios`` or latency (mean or percentile), and a direction that did I/O
(``io_bytes`` or ``total_ios`` > 0) with a ``runtime`` of 0 ms, for which fio's own IOPS and
bandwidth (I/O divided by runtime) are undefined.

Malformed documents are errors too, never a dropped row or a wrapped-around number: a ``read``,
``write`` or ``trim`` object missing (fio writes all three for every job, or ``mixed`` under
unified_rw_reporting) or not an object; an empty ``jobs`` list; ``io_bytes``, ``runtime``,
``total_ios``, ``groupid``, ``error`` or ``port`` that is not a whole number from 0 to 2^63 - 1
(``1e+308`` would wrap to -2^63 in an int64 column); NaN and Infinity (which Python's json
accepts); a rate, mean, percentile or CPU share that is not a finite number of 0 or more; a
percentile object that does not map levels to numbers; ``job options`` / ``global options`` that
are not objects, or options that are not strings; a key written twice in one object with different
values (json keeps the last silently), except in options (see :func:`_check_duplicates`). Terse
fields are checked alike (ASCII numbers only). Input comes through :mod:`analysis.ingest.source`:
regular files only, at most 1 GiB, no NUL byte; ``-`` and ``/dev/stdin`` are read once.

Quirks handled (each tested on real fio output in tests/test_ingest_fio.py): text before the JSON (fio
3.33 prints "note: both iodepth >= 1 and synchronous I/O engine..." to stdout) and after it
(``--output-format=json,normal``); several concatenated cumulative documents
(``--status-interval``: :func:`read` returns the last, the final report); ``client_stats``; the
``sync`` object is not a data direction and gives no row.

Not handled: terse output written with ``--status-interval`` (fio repeats each job's line per
interval with nothing to tell the snapshots apart, so every line reads as one more job: use json
for status runs) and client/server terse output (its disk lines raise FioFormatError).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

from analysis.errors import FioFormatError
from analysis.ingest import source

# numpy and pandas are imported inside the functions that build tables: `pgrant-lab ingest` writes
# CSV straight from :func:`read_records` (analysis.ingest.tidycsv) and never imports them, which
# saves about 0.5 s of start-up per process.

#: Column -> dtype of the tidy summary table (see the module docstring).
COLUMNS: dict[str, str] = {
    "source": "string",
    "hostname": "string",
    "port": "Int64",
    "is_aggregate": "bool",
    "job": "int64",
    "jobname": "string",
    "groupid": "int64",
    "direction": "string",
    "iops": "float64",
    "bw_bytes_s": "float64",
    "io_bytes": "int64",
    "runtime_ms": "int64",
    "lat_mean_ns": "float64",
    "clat_mean_ns": "float64",
    "clat_p50_ns": "float64",
    "clat_p90_ns": "float64",
    "clat_p99_ns": "float64",
    "clat_p99_9_ns": "float64",
    "ios": "Int64",
    "error": "int64",
    "usr_cpu_pct": "float64",
    "sys_cpu_pct": "float64",
    "rw": "string",
    "bs": "string",
    "bs_bytes": "Int64",
    "iodepth": "Int64",
    "numjobs": "Int64",
    "ioengine": "string",
    "fio_version": "string",
}

#: Column -> dtype of the json+ completion-latency histogram table (:func:`read_histogram`).
#: Its label columns are the summary table's, with the same dtypes, so the two tables join on them.
HISTOGRAM_COLUMNS: dict[str, str] = {
    **{c: COLUMNS[c] for c in ("source", "hostname", "port", "is_aggregate", "job", "jobname", "direction")},
    "bin_ns": "int64",
    "count": "int64",
}

FORMATS = ("json", "terse", "log", "hist_log")

# Data directions in fio's JSON job objects (stat.c show_thread_status_json: read, write, trim,
# and "mixed" under unified_rw_reporting); "sync" holds fsync latencies, not data I/O.
_DIRECTIONS = ("read", "write", "trim", "mixed")
# Index of each direction in a comma-separated per-direction option such as bs=4k,8k,16k.
_DIRECTION_INDEX = {"read": 0, "write": 1, "trim": 2}

# fio 3.33 defaults, as printed by `fio --cmdhelp=<option>` (tests check them against fio).
OPTION_DEFAULTS = {"rw": "read", "bs": "4096", "iodepth": "1", "numjobs": "1", "ioengine": "psync"}
# Aliases fio accepts for these options (options.c `.alias`).
_OPTION_ALIASES = {"rw": ("readwrite",), "bs": ("blocksize",)}

_PERCENTILES = {"clat_p50_ns": 50.0, "clat_p90_ns": 90.0, "clat_p99_ns": 99.0, "clat_p99_9_ns": 99.9}
_PERCENTILE_LEVELS = tuple(_PERCENTILES.values())
_AGGREGATE_NAME = "All clients"  # client.c: the sum over clients when there are several

# Terse v3 layout (HOWTO "Terse output"): 5 header fields, then per direction (read, write)
# 4 totals, 4 slat, 4 clat, 20 clat percentiles, 4 lat, 5 bw = 41 fields, then 5 cpu,
# 7 iodepth, 10 usec + 12 msec latency buckets = 121 fields; cpu user/system are fields 88/89. Disk utilisation appends 9 per disk,
# continue_on_error 2, a description 1.
TERSE_VERSION = "3"
TERSE_V3_FIELDS = 121
_TERSE_HEADER = 5
_TERSE_DIRECTION_FIELDS = 41
_TERSE_DISK_FIELDS = 9
_TERSE_CPU = _TERSE_HEADER + 2 * _TERSE_DIRECTION_FIELDS
_US_TO_NS = 1000.0
_KIB = 1024

# fio 3.0 wrote latencies in ns under *_ns keys; earlier JSON had usec under slat/clat/lat.
_NS_KEYS_SINCE = (3, 0)
# fio 2.21 made JSON io_bytes bytes; before, stat.c wrote io_bytes >> 10 (fio issue #378).
_IO_BYTES_IN_BYTES_SINCE = (2, 21)
_VERSION = re.compile(r"^\s*fio-(\d+)\.(\d+)")

# log_prio=1 ends a log line with the ioprio in hex, "0x%04x" (iolog.c flush_samples; fio 3.33 writes 0x0000).
_LOG_LINE = re.compile(r"^\s*-?\d+(\s*,\s*-?\d+)*(\s*,\s*0x[0-9a-fA-F]+)?\s*$")
_TERSE_LINE = re.compile(r"^\d+;")
# ASCII digits only: str.isdigit() and \d also accept fullwidth and other Unicode digits.
_SIZE = re.compile(r"^\s*([0-9]+)\s*([kmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)
_SIZE_SHIFT = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}
_SNIFF_BYTES = 1 << 16
_WHOLE_TEXT = re.compile(r"^\s*[0-9]{1,20}\s*$")
_TERSE_INT = re.compile(r"^[0-9]{1,20}$")
_TERSE_FLOAT = re.compile(r"^[0-9]{1,20}(\.[0-9]{0,20})?([eE][-+]?[0-9]{1,3})?%?$")


# ---------------------------------------------------------------------------------------------
# public API


def detect_format(path) -> str:
    """Say which fio output format ``path`` holds: one of :data:`FORMATS`.

    ``json`` (json, json+, client/server, json,normal: a line starting with ``{``), ``terse``
    (a line ``<version>;...``), ``log`` (lines of 4-7 comma-separated integers, from
    ``write_{bw,iops,lat}_log``), ``hist_log`` (more columns: ``write_hist_log``). Leading text
    lines such as fio's notes are skipped. An empty file is a ``log`` when its name ends in
    ``.log`` (fio writes empty slat logs for synchronous engines). Raises FioFormatError
    otherwise.
    """
    path = Path(path)
    raw = source.head(path, _SNIFF_BYTES)
    head = raw.decode("utf-8", errors="replace")
    if not head.strip():
        if path.name.endswith(".log"):
            return "log"
        raise FioFormatError(f"{path}: expected fio output (json, terse or a log), found an empty file")
    lines = head.splitlines()
    if len(raw) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sniff limit
    for line in lines:
        if line.startswith("{"):
            return "json"
        if _TERSE_LINE.match(line):
            return "terse"
        if _LOG_LINE.match(line):
            columns = line.count(",") + 1
            if 4 <= columns <= 7:
                return "log"
            if columns > 7:
                return "hist_log"
    first = next((line for line in lines if line.strip()), "")
    raise FioFormatError(
        f"{path}: expected fio output (a JSON object, terse v3 lines or comma-separated log lines), "
        f"found first line {first[:60]!r}"
    )


def read(path, snapshots: bool = False) -> pd.DataFrame:
    """Read one fio summary file (json, json+, client/server json, terse v3) into the tidy table.

    With ``snapshots=False`` a file of several concatenated JSON documents (``--status-interval``)
    gives its last document, fio's final cumulative report; with ``snapshots=True`` every document,
    numbered in the ``snapshot`` column (the last is the final report). Log files are not
    summaries: read them with :mod:`analysis.ingest.fiolog`. Raises FioFormatError on anything else.
    """
    return frame(read_records(path, snapshots=snapshots), snapshots=snapshots)


def read_records(path, snapshots: bool = False) -> list[dict]:
    """The rows :func:`read` returns, as plain dicts (keys: :data:`COLUMNS`, plus ``snapshot``
    with ``snapshots=True``), without numpy or pandas: for fast CSV output and worker processes."""
    path = Path(path)
    kind = detect_format(path)
    if kind == "json":
        docs = _json_documents(path)
        chosen = list(enumerate(docs)) if snapshots else [(len(docs) - 1, docs[-1])]
        rows = []
        for snapshot, doc in chosen:
            part = _json_rows(doc, path)
            if snapshots:
                for row in part:
                    row["snapshot"] = snapshot
            rows.extend(part)
    elif kind == "terse":
        rows = _terse_rows(path)
        if snapshots:
            for row in rows:
                row["snapshot"] = 0
    else:
        raise FioFormatError(
            f"{path}: expected a fio summary (json or terse), found a fio {kind.replace('_', ' ')} file; "
            f"read it with analysis.ingest.fiolog.{'read_hist_log' if kind == 'hist_log' else 'read_log'}"
        )
    for row in rows:
        row["source"] = str(path)
    return rows


def read_many(paths: Iterable, snapshots: bool = False, *, workers: int | None = 1) -> pd.DataFrame:
    """Read several fio summary files with :func:`read` and stack them; ``source`` names each file.

    ``workers`` > 1 parses the files in that many processes (None: one per CPU); the table is the
    same, in the order of ``paths`` (:func:`analysis.ingest.parallel.read_records_many`).
    """
    from analysis.ingest.parallel import read_records_many

    return frame(read_records_many(list(paths), snapshots=snapshots, workers=workers), snapshots=snapshots)


def read_histogram(path) -> pd.DataFrame:
    """Completion-latency histograms of a json+ file as a tidy table (:data:`HISTOGRAM_COLUMNS`).

    One row per (host, job, direction, bin) with a non-zero count, from the final JSON document.
    ``bin_ns`` is the key fio writes in ``clat_ns.bins``: a representative latency of the bin in
    ns (stat.c ``plat_idx_to_val``: the bin's midpoint; bins are exact below 2**7 ns, then
    64 per power of two, 1856 in all per FIO_IO_U_PLAT_GROUP_NR x FIO_IO_U_PLAT_VAL in stat.h),
    ``count`` the number of I/Os in it. Raises FioFormatError when the file is not json+.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    kind = detect_format(path)
    if kind != "json":
        raise FioFormatError(f"{path}: expected fio json+ output (--output-format=json+), found {kind}")
    doc = _json_documents(path)[-1]
    labels, bin_chunks, count_chunks = [], [], []
    found_bins = False
    for entry in _job_entries(doc, path):
        for direction in _DIRECTIONS:
            stats = entry.raw.get(direction)
            clat = stats.get("clat_ns") if isinstance(stats, dict) else None
            bins = clat.get("bins") if isinstance(clat, dict) else None
            if bins is None:
                continue
            found_bins = True
            keys, counts = _bins(bins, f"{path}: job {entry.job} ({entry.jobname}), field '{direction}.clat_ns.bins'")
            bin_chunks.append(np.asarray(keys, dtype=np.int64))
            count_chunks.append(np.asarray(counts, dtype=np.int64))
            labels.append((str(path), entry.hostname, entry.port, entry.is_aggregate, entry.job, entry.jobname,
                           direction))
    if not found_bins:
        raise FioFormatError(
            f"{path}: field 'clat_ns.bins': expected fio json+ output (--output-format=json+), "
            "found plain json without latency bins"
        )
    # One small typed row per (job, direction), repeated once per bin: no per-bin Python objects.
    label_columns = [c for c in HISTOGRAM_COLUMNS if c not in ("bin_ns", "count")]
    label_table = pd.DataFrame.from_records(labels, columns=label_columns).astype(
        {c: HISTOGRAM_COLUMNS[c] for c in label_columns})
    which = np.repeat(np.arange(len(labels)), [len(chunk) for chunk in bin_chunks])
    table = label_table.take(which).reset_index(drop=True)
    table["bin_ns"] = np.concatenate(bin_chunks) if bin_chunks else np.array([], dtype=np.int64)
    table["count"] = np.concatenate(count_chunks) if count_chunks else np.array([], dtype=np.int64)
    return table


def _bins(bins, where: str) -> tuple[list[int], list[int]]:
    """json+ ``clat_ns.bins``: latency (ns, a decimal key) -> count, both whole numbers of 0 or more."""
    if not isinstance(bins, dict):
        raise FioFormatError(f"{where}: expected an object of latency bins and counts, found {_shown(bins)}")
    keys, counts = [], []
    for key, count in bins.items():
        if not _TERSE_INT.match(key) or int(key) > _INT64_MAX:
            raise FioFormatError(f"{where}: expected bin keys that are latencies in ns (whole numbers), "
                                 f"found {_shown(key)}")
        keys.append(int(key))
        counts.append(_whole(count, f"{where[:-1]}[{key}]'"))
    return keys, counts


def version_tuple(version) -> tuple[int, int] | None:
    """(major, minor) of a fio version string such as ``fio-2.18-59-g618e`` or ``fio-3.33``; None
    when ``version`` is None or not of that form."""
    match = _VERSION.match(version) if isinstance(version, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


# ---------------------------------------------------------------------------------------------
# files and JSON documents


def _read_text(path: Path) -> str:
    """The whole text of ``path`` (a regular file or a stream read once; capped, see
    :mod:`analysis.ingest.source`)."""
    return source.read_bytes(path).decode("utf-8", errors="replace")


def _json_documents(path: Path) -> list[dict]:
    """Every top-level JSON object in the file, in order, skipping text around them.

    fio writes the top-level ``{`` at the start of a line; other text (notes, ``normal`` output,
    errors) never starts with ``{``. A document that does not parse to its end is an error, never
    skipped, so a cut-off final report cannot silently leave an earlier snapshot in its place.
    """
    text = _read_text(path)
    duplicates: list[tuple[str, dict]] = []
    decoder = _strict_decoder(duplicates)
    docs: list[dict] = []
    pos = 0
    while (start := _line_starting_with("{", text, pos)) >= 0:
        duplicates.clear()
        try:
            doc, pos = decoder.raw_decode(text, start)
        except _NotFioNumber as err:
            at = text.find(err.text, start)
            line = text.count("\n", 0, at) + 1 if at >= 0 else text.count("\n", 0, start) + 1
            raise FioFormatError(
                f"{path}: line {line}: expected a finite JSON number as fio writes, found {err.text}"
            ) from None
        except json.JSONDecodeError as err:
            line = text.count("\n", 0, start) + 1
            # fio closes a document with "}" at the start of a line; without one it was cut off
            if _line_starting_with("}", text, start) < 0:
                found = "the file ends before the document does (truncated)"
            else:
                found = f"{err.msg.lower()} at line {err.lineno} column {err.colno}"
            raise FioFormatError(
                f"{path}: the JSON document starting at line {line}: expected complete JSON, found {found}"
            ) from None
        except ValueError as err:  # an integer of more than 4300 digits (sys.set_int_max_str_digits)
            line = text.count("\n", 0, start) + 1
            raise FioFormatError(f"{path}: the JSON document starting at line {line}: expected numbers as fio "
                                 f"writes them, found {str(err).split(';')[0].lower()}") from None
        _check_duplicates(doc, duplicates, path, len(docs) + 1)
        docs.append(doc)
    if not docs:
        raise FioFormatError(f"{path}: expected a fio JSON report (a line starting with '{{'), found none")
    for number, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict) or not isinstance(doc.get("jobs", doc.get("client_stats")), list):
            keys = ", ".join(list(doc)[:5]) if isinstance(doc, dict) else type(doc).__name__
            raise FioFormatError(
                f"{path}: JSON document {number}, field 'jobs': expected fio output with a 'jobs' or "
                f"'client_stats' list, found keys: {keys or 'none'}"
            )
        field = "jobs" if "client_stats" not in doc else "client_stats"
        if not doc[field]:
            raise FioFormatError(f"{path}: JSON document {number}, field '{field}': expected at least one job "
                                 "(fio reports every job it ran), found an empty list")
        for name in ("global options", "fio version"):
            if name in doc and not isinstance(doc[name], dict if name == "global options" else str):
                expected = "an object of options" if name == "global options" else "a string such as fio-3.33"
                raise FioFormatError(f"{path}: JSON document {number}, field '{name}': expected {expected}, "
                                     f"found {_shown(doc[name])}")
    return docs


def _line_starting_with(char: str, text: str, pos: int) -> int:
    """Offset of the first line at or after ``pos`` that starts with ``char``, or -1.

    str.find is about 30 times faster than a multi-line regex on a json+ file of a few MB.
    """
    if text.startswith(char, pos) and (pos == 0 or text[pos - 1] == "\n"):
        return pos
    found = text.find("\n" + char, pos)
    return found + 1 if found >= 0 else -1


class _Conflict:
    """An option that several clients set to different values in their [global] sections."""

    def __repr__(self):
        return "<conflicting values>"


_CONFLICT = _Conflict()


class _NotFioNumber(Exception):
    """A number fio never writes: NaN or (-)Infinity."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _strict_decoder(duplicates: list) -> json.JSONDecoder:
    """A JSON decoder for fio documents: the NaN and Infinity literals (which json accepts) raise
    _NotFioNumber; a key seen twice in one object with different values becomes _CONFLICT there, and
    is appended to ``duplicates`` with that object and its last value (see :func:`_check_duplicates`).
    fio itself repeats keys with equal values (the unused ``"0.00" : 0`` slots of fio 2.x-3.1
    percentile objects): those lose nothing and pass. Numbers that overflow a double (``1e999``
    reads as inf) or int64 are refused where a field is taken (:func:`_whole`, :func:`_finite`):
    a Python hook per number would double the time of a json+ parse.
    """
    def pairs_hook(pairs):
        out = dict(pairs)
        if len(out) == len(pairs):  # the common case, at C speed
            return out
        out = {}
        for key, value in pairs:
            if key in out and out[key] != value:
                duplicates.append((key, out, value))
                value = _CONFLICT
            out[key] = value
        return out

    def constant(text):
        raise _NotFioNumber(text)

    return json.JSONDecoder(object_pairs_hook=pairs_hook, parse_constant=constant)


def _check_duplicates(doc, duplicates: list, path: Path, number: int) -> None:
    """FioFormatError for a key written twice with different values in one object (json would keep
    the last silently), except in options.

    Options: fio's client merges every server's [global] options into one ``global options`` object,
    so a key appears once per client there (fio 3.33, checked on real output); when the clients
    disagree we cannot tell which value belongs to which host, and the option stays unknown (<NA>)
    rather than silently taking the last value. In a local run's ``job options`` or ``global
    options`` an option repeated in the job file (several ``filename=`` lines, fio 2.17 output)
    takes its last value, as fio's option parser does.
    """
    is_client = isinstance(doc, dict) and "client_stats" in doc
    merged = doc.get("global options") if is_client else None
    jobs = doc.get("jobs", doc.get("client_stats")) if isinstance(doc, dict) else None
    jobs = jobs if isinstance(jobs, list) else []
    options = [doc.get("global options")] if isinstance(doc, dict) and not is_client else []
    options += [job.get("job options") for job in jobs if isinstance(job, dict)]
    for key, obj, last in duplicates:
        if obj is merged:
            continue
        if any(obj is scope for scope in options):
            obj[key] = last
            continue
        where = f"JSON document {number}"
        for index, job in enumerate(jobs):
            if obj is job or (isinstance(job, dict) and any(obj is value for value in job.values())):
                where = f"job entry {index} ({_shown(job.get('jobname'))})"
                break
        raise FioFormatError(f"{path}: {where}, key '{key}': expected each key once in a JSON object, "
                             "found it twice with different values (json would silently keep the last one)")


def _shown(value) -> str:
    """A JSON value for a message, cut to 40 characters."""
    if value is _CONFLICT:
        return "different values for a repeated key"
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


class _Entry:
    """One job entry of a fio JSON document with where it came from."""

    __slots__ = ("raw", "job", "jobname", "hostname", "port", "is_aggregate")

    def __init__(self, raw, job, hostname, port, is_aggregate):
        self.raw = raw
        self.job = job
        self.jobname = raw.get("jobname")
        self.hostname = hostname
        self.port = port
        self.is_aggregate = is_aggregate


def _job_entries(doc: dict, path: Path) -> list[_Entry]:
    """The job entries of a document, numbered by position (per server in client/server mode)."""
    if "client_stats" not in doc:
        entries = doc["jobs"]
        for number, raw in enumerate(entries):
            _check_job(raw, number, path)
        return [_Entry(raw, number, None, None, False) for number, raw in enumerate(entries)]
    out, per_host = [], {}
    for number, raw in enumerate(doc["client_stats"]):
        _check_job(raw, number, path)
        if raw.get("jobname") == _AGGREGATE_NAME:
            # client.c writes the last client's hostname/port on the aggregate: not its origin.
            key, hostname, port, aggregate = ("", None), None, None, True
        else:
            hostname, port, aggregate = raw.get("hostname"), raw.get("port"), False
            key = (hostname, port)
        job = per_host.get(key, 0)
        per_host[key] = job + 1
        out.append(_Entry(raw, job, hostname, port, aggregate))
    return out


def _check_job(raw, number: int, path: Path) -> None:
    if not isinstance(raw, dict) or "jobname" not in raw:
        raise FioFormatError(f"{path}: job {number}: expected a fio job object with a 'jobname', found {str(raw)[:40]!r}")
    if not isinstance(raw["jobname"], str):
        raise FioFormatError(f"{path}: job {number}, field 'jobname': expected a string, found {_shown(raw['jobname'])}")
    if "hostname" in raw and not isinstance(raw["hostname"], str):
        raise FioFormatError(f"{path}: job {number} ({raw['jobname']}), field 'hostname': expected a string "
                             f"(the server's host), found {_shown(raw['hostname'])}")
    if "port" in raw:
        _whole(raw["port"], f"{path}: job {number} ({raw['jobname']}), field 'port'", maximum=65535)
    for name in ("job options", "global options"):
        if name in raw and not isinstance(raw[name], dict):
            raise FioFormatError(f"{path}: job {number} ({raw['jobname']}), field '{name}': expected an object "
                                 f"of options, found {_shown(raw[name])}")


_INT64_MAX = 2**63 - 1


def _whole(value, where: str, *, minimum: int = 0, maximum: int = _INT64_MAX) -> int:
    """``value`` as an int when it is a whole JSON number from ``minimum`` to ``maximum`` (what fio
    writes for counters, runtimes, ids and errnos); FioFormatError naming ``where`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()):
        raise FioFormatError(f"{where}: expected a whole number, found {_shown(value)}")
    if not minimum <= value <= maximum:
        raise FioFormatError(f"{where}: expected a whole number from {minimum} to {maximum}, found {_shown(value)}")
    return int(value)


def _double(value, where: str):
    """``value`` unchanged when a double can hold it (a JSON integer of 400 digits cannot)."""
    try:
        float(value)
    except OverflowError:
        raise FioFormatError(f"{where}: expected a number within the range of a double, found "
                             f"{_shown(value)}") from None
    return value


def _finite(value, where: str) -> float:
    """``value`` when it is a JSON number of 0 or more (fio's rates, means and CPU shares)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FioFormatError(f"{where}: expected a number, found {_shown(value)}")
    value = _double(value, where)
    if value < 0:
        raise FioFormatError(f"{where}: expected a value of 0 or more, found {value:g}")
    if not math.isfinite(value):  # e.g. 1e308 KiB/s x 1024
        raise FioFormatError(f"{where}: expected a finite number, found one beyond 1.8e308 once converted")
    return value


# ---------------------------------------------------------------------------------------------
# JSON -> rows


def _json_rows(doc: dict, path: Path) -> list[dict]:
    global_options = doc.get("global options") or {}
    version = doc.get("fio version")
    rows = []
    for entry in _job_entries(doc, path):
        who = f"{path}: job {entry.job} ({entry.jobname})"
        if entry.is_aggregate:  # a sum over clients with different job files: no single option set
            options = {name: None for name in OPTION_DEFAULTS}
        elif "job options" not in entry.raw and not global_options:
            # fio 2.1.4 wrote no options at all: fio's defaults would be a guess, not what ran
            options = {name: None for name in OPTION_DEFAULTS}
        else:
            options = _options(global_options, entry.raw.get("job options") or {}, who)
        common = {
            "hostname": entry.hostname,
            "port": entry.port,
            "is_aggregate": entry.is_aggregate,
            "job": entry.job,
            "jobname": entry.jobname,
            "groupid": _whole(entry.raw.get("groupid", 0), f"{who}, field 'groupid'"),
            # an errno (fio's td->error), 0 when none
            "error": _whole(entry.raw.get("error", 0), f"{who}, field 'error'"),
            "usr_cpu_pct": _cpu(entry.raw, "usr_cpu", who),
            "sys_cpu_pct": _cpu(entry.raw, "sys_cpu", who),
            **options,
            "fio_version": version,
        }
        job_rows = []
        for direction in _DIRECTIONS:
            stats = _direction_object(entry.raw, direction, who)
            if stats is None or not _did_io(stats, direction, who):
                continue
            job_rows.append({**common, "direction": direction,
                             **_direction_values(stats, path, entry, direction, version),
                             "bs_bytes": _bs_bytes(options["bs"], direction)})
        if not job_rows:  # no direction did I/O: keep the job, with zeros and its error code
            job_rows.append({**common, "direction": "none", "iops": 0.0, "bw_bytes_s": 0.0, "io_bytes": 0,
                             "runtime_ms": 0, "ios": 0, "bs_bytes": _bs_bytes(options["bs"], "read")})
        rows.extend(job_rows)
    return rows


def _direction_object(raw: dict, direction: str, who: str) -> dict | None:
    """The stats object of ``direction``, None where fio writes none; FioFormatError when one fio
    always writes is missing or is not an object. fio 2.1.4 .. 3.40 write read, write and trim for
    every job (stat.c show_thread_status_json), or only ``mixed`` under unified_rw_reporting=1
    (and all four with unified_rw_reporting=both)."""
    if direction not in raw:
        if direction == "mixed" or "mixed" in raw:
            return None
        raise FioFormatError(f"{who}, field '{direction}': expected the '{direction}' object fio writes for "
                             "every job, found it missing")
    stats = raw[direction]
    if not isinstance(stats, dict):
        raise FioFormatError(f"{who}, field '{direction}': expected an object of {direction} statistics, "
                             f"found {_shown(stats)}")
    return stats


def _did_io(stats: dict, direction: str, who: str) -> bool:
    """Whether a direction did I/O: ``total_ios`` or ``io_bytes`` above 0 (both checked counts)."""
    done = False
    for key in ("total_ios", "io_bytes"):
        if key in stats:
            done = _whole(stats[key], f"{who}, field '{direction}.{key}'") > 0 or done
    return done


def _cpu(raw: dict, key: str, who: str):
    """A job's ``usr_cpu`` / ``sys_cpu`` (% of one CPU), None when fio wrote none."""
    return _finite(raw[key], f"{who}, field '{key}'") if key in raw else None


def _direction_values(stats: dict, path: Path, entry: _Entry, direction: str, version) -> dict:
    where = f"{path}: job {entry.job} ({entry.jobname}), field '{direction}."
    release = version_tuple(version)
    # fio >= 3.0: ns under lat_ns/clat_ns; fio 2.x: usec under lat/clat (see the module docstring)
    ns_layout = "lat_ns" in stats or "clat_ns" in stats or (release is not None and release >= _NS_KEYS_SINCE)
    lat_key, clat_key, to_ns = ("lat_ns", "clat_ns", 1.0) if ns_layout else ("lat", "clat", _US_TO_NS)

    def number(*keys: str):
        """stats[keys[0]][keys[1]]... as a JSON number; FioFormatError naming the dotted field otherwise."""
        value, field = stats, ".".join((direction, *keys))
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                raise FioFormatError(
                    f"{path}: job {entry.job} ({entry.jobname}), field '{field}': expected fio >= 3.0 JSON with "
                    "'iops', 'bw_bytes', 'io_bytes', 'runtime', 'total_ios', 'lat_ns' and 'clat_ns' (or fio 2.x "
                    "JSON with 'iops', 'bw', 'io_bytes', 'runtime', 'lat' and 'clat' in usec), found it missing"
                )
            value = value[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FioFormatError(f"{path}: job {entry.job} ({entry.jobname}), field '{field}': expected a number, "
                                 f"found {json.dumps(value)[:40]}")
        return _double(value, f"{path}: job {entry.job} ({entry.jobname}), field '{field}'")

    io_bytes = _whole(number("io_bytes"), f"{where}io_bytes'")
    if not ns_layout and _io_bytes_in_kib(release, io_bytes, stats):
        io_bytes = _whole(io_bytes * _KIB, f"{where}io_bytes' (KiB, x 1024)")
    values = {
        "iops": _finite(number("iops"), f"{where}iops'"),
        # bw_bytes: fio >= 3.2; older fio wrote only bw in KiB/s
        "bw_bytes_s": _finite(number("bw_bytes") if "bw_bytes" in stats else number("bw") * _KIB,
                              f"{where}{'bw_bytes' if 'bw_bytes' in stats else 'bw'}'"),
        "io_bytes": io_bytes,
        "runtime_ms": _whole(number("runtime"), f"{where}runtime'"),
        "lat_mean_ns": number(lat_key, "mean") * to_ns,
        "clat_mean_ns": number(clat_key, "mean") * to_ns,
        # total_ios: missing in fio 2.1.4's JSON
        "ios": _whole(number("total_ios"), f"{where}total_ios'") if ns_layout or "total_ios" in stats else None,
    }
    by_level = _percentiles(stats[clat_key], f"{where}{clat_key}.percentile'")
    for column, level in _PERCENTILES.items():
        values[column] = by_level.get(level, math.nan) * to_ns
    _check_plausible(values, where, {"lat_mean_ns": f"{lat_key}.mean", "clat_mean_ns": f"{clat_key}.mean"})
    return values


def _percentiles(clat: dict, where: str) -> dict[float, float]:
    """{level: value} of a ``clat`` object's ``percentile`` object (absent: none written, as with
    clat_percentiles=0); FioFormatError unless it maps levels such as "99.000000" to numbers >= 0."""
    if "percentile" not in clat:
        return {}
    percentiles = clat["percentile"]
    if not isinstance(percentiles, dict):
        raise FioFormatError(f"{where}: expected an object of percentile levels and latencies, "
                             f"found {_shown(percentiles)}")
    try:
        by_level = {float(level): value for level, value in percentiles.items()}
    except ValueError:
        by_level = {math.nan: None}
    if not all(0 <= level <= 100 for level in by_level):  # NaN fails too
        bad = next(level for level in percentiles if not _is_level(level))
        raise FioFormatError(f"{where}: expected percentile levels from 0 to 100 such as \"99.000000\", "
                             f"found {_shown(bad)}")
    # only the levels the table takes are checked: a json+ file has thousands of directions
    return {level: _finite(by_level[level], f"{where[:-1]}[{level:g}]'") for level in _PERCENTILE_LEVELS
            if level in by_level}


def _is_level(text: str) -> bool:
    try:
        return 0 <= float(text) <= 100
    except ValueError:
        return False


def _io_bytes_in_kib(release, io_bytes, stats: dict) -> bool:
    """Whether a fio 2.x direction's ``io_bytes`` is in KiB (see the module docstring)."""
    if release is not None:
        return release < _IO_BYTES_IN_BYTES_SINCE
    bw_kib_s, runtime_ms = stats.get("bw"), stats.get("runtime")
    if not io_bytes or not isinstance(bw_kib_s, (int, float)) or not isinstance(runtime_ms, (int, float)):
        return True  # nothing to tell them apart: the older fio's unit
    kib = bw_kib_s * runtime_ms / 1000
    return kib > 0 and abs(math.log2(io_bytes / kib)) < 5  # KiB: ratio near 1; bytes: near 1024 = 2**10


# Fields that can never be negative, with the name fio gives them (for messages).
_NON_NEGATIVE = {"iops": "iops", "io_bytes": "io_bytes", "runtime_ms": "runtime", "ios": "total_ios"}


def _check_plausible(values: dict, where: str, latency_fields: dict) -> None:
    """FioFormatError for a negative count or latency, or I/O done in a runtime of 0 ms."""
    names = {**_NON_NEGATIVE, **latency_fields,
             **{c: f"{latency_fields['clat_mean_ns'].split('.')[0]}.percentile[{level:g}]"
                for c, level in _PERCENTILES.items()}}
    for column, field in names.items():
        value = values.get(column)
        if value is not None and not math.isnan(value) and value < 0:
            raise FioFormatError(f"{where}{field}': expected a value of 0 or more, found {value:g}")
        if value is not None and math.isinf(value):  # e.g. 1e308 usec x 1000
            raise FioFormatError(f"{where}{field}': expected a finite number, found one beyond 1.8e308 in ns")
    if values["runtime_ms"] == 0 and (values["io_bytes"] > 0 or (values["ios"] or 0) > 0):
        raise FioFormatError(
            f"{where}runtime': expected a runtime above 0 ms for a direction that did I/O "
            f"(io_bytes={values['io_bytes']}), found 0"
        )


def _options(global_options: dict, job_options: dict, who: str = "") -> dict:
    """rw, bs, iodepth, numjobs, ioengine: the job's value, else [global]'s, else fio's default."""
    out = {}
    for name, default in OPTION_DEFAULTS.items():
        value = default
        for scope_name, scope in (("global options", global_options), ("job options", job_options)):
            for key in (name, *_OPTION_ALIASES.get(name, ())):  # later scopes override earlier ones
                if key in scope:
                    value = scope[key]
                    if value is not _CONFLICT and not isinstance(value, str):
                        # fio writes every option as a string (stat.c json_add_job_opts)
                        raise FioFormatError(f"{who}, field '{scope_name}.{key}': expected a string, "
                                             f"found {_shown(value)}")
        out[name] = None if value is _CONFLICT else value
    out["iodepth"] = _int_or_none(out["iodepth"])
    out["numjobs"] = _int_or_none(out["numjobs"])
    return out


def _int_or_none(value):
    """A whole-number option (iodepth, numjobs) as an int; None when unparsable or beyond int64."""
    if value is None or not _WHOLE_TEXT.match(value):
        return None
    number = int(value)
    return number if number <= _INT64_MAX else None


def size_bytes(text: str):
    """A fio size such as ``4k``, ``4KiB``, ``1M`` or ``4096`` in bytes (kb_base=1024), else None.

    The one size parser of the suite (fio output, experiment manifests, the kit's options).
    """
    match = _SIZE.match(str(text))
    if not match:
        return None
    return int(match.group(1)) << _SIZE_SHIFT[match.group(2).lower()]


def _bs_bytes(bs, direction: str):
    """The block size of ``direction`` from a bs option (``4k`` or ``4k,8k,16k``), in bytes."""
    if bs is None:
        return None
    parts = [p for p in str(bs).split(",")]
    if direction == "mixed":
        sizes = {size_bytes(p) for p in parts if p.strip()}
        return _int64_or_none(sizes.pop()) if len(sizes) == 1 else None
    index = _DIRECTION_INDEX[direction]
    # fio: a missing write/trim size takes the read size (options.c str_bssplit_cb).
    chosen = parts[index] if index < len(parts) and parts[index].strip() else parts[0]
    return _int64_or_none(size_bytes(chosen))


def _int64_or_none(value):
    """None for a size beyond int64 (fio itself refuses it), so that no Int64 column wraps."""
    return value if value is None or value <= _INT64_MAX else None


# ---------------------------------------------------------------------------------------------
# terse v3 -> rows


def _terse_rows(path: Path) -> list[dict]:
    rows = []
    job = 0
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not _TERSE_LINE.match(line):
            if ";" in line:
                raise FioFormatError(
                    f"{path}: line {number}: expected a terse record starting with its version number, "
                    f"found {line[:40]!r}"
                )
            continue  # fio's notes and warnings
        rows.extend(_terse_record(line.split(";"), path, number, job))
        job += 1
    return rows


def _terse_record(fields: list[str], path: Path, number: int, job: int) -> list[dict]:
    if fields[0] != TERSE_VERSION:
        raise FioFormatError(
            f"{path}: line {number}, field 1 (terse version): expected {TERSE_VERSION} "
            f"(fio --terse-version=3, the default), found {fields[0]}"
        )
    extra = len(fields) - TERSE_V3_FIELDS
    if extra < 0 or extra % _TERSE_DISK_FIELDS > 3:
        raise FioFormatError(
            f"{path}: line {number}: expected {TERSE_V3_FIELDS} terse v3 fields "
            f"(plus {_TERSE_DISK_FIELDS} per disk), found {len(fields)}"
        )
    common = {
        "hostname": None, "port": None, "is_aggregate": False, "job": job,
        "jobname": fields[2],
        "groupid": _terse_number(fields, 3, "groupid", path, number, int),
        "error": _terse_number(fields, 4, "error", path, number, int),
        "usr_cpu_pct": _terse_number(fields, _TERSE_CPU, "cpu user (%)", path, number, _percent),
        "sys_cpu_pct": _terse_number(fields, _TERSE_CPU + 1, "cpu system (%)", path, number, _percent),
        "rw": None, "bs": None, "bs_bytes": None, "iodepth": None, "numjobs": None, "ioengine": None,
        "fio_version": fields[1],
    }
    rows = []
    for index, direction in enumerate(("read", "write")):
        at = _TERSE_HEADER + index * _TERSE_DIRECTION_FIELDS
        io_kib = _terse_number(fields, at, f"{direction} total IO (KiB)", path, number, int)
        iops = _terse_number(fields, at + 2, f"{direction} IOPS", path, number, float)
        if io_kib == 0 and iops == 0:
            continue
        runtime_ms = _terse_number(fields, at + 3, f"{direction} runtime (ms)", path, number, int)
        if io_kib > _INT64_MAX // _KIB or runtime_ms == 0:
            found = f"{io_kib} KiB" if runtime_ms else f"a runtime of 0 ms for {io_kib} KiB and {iops:g} IOPS"
            raise FioFormatError(f"{path}: line {number}, field {at + 1} ({direction} total IO (KiB)): expected at "
                                 f"most 2^53 KiB done in a runtime above 0 ms, found {found}")
        values = {
            "direction": direction,
            "io_bytes": io_kib * _KIB,
            "bw_bytes_s": _terse_number(fields, at + 1, f"{direction} bandwidth (KiB/s)", path, number, float) * _KIB,
            "iops": iops,
            "runtime_ms": runtime_ms,
            "clat_mean_ns": _terse_number(fields, at + 10, f"{direction} clat mean (usec)", path, number, float) * _US_TO_NS,
            "lat_mean_ns": _terse_number(fields, at + 34, f"{direction} lat mean (usec)", path, number, float) * _US_TO_NS,
            "ios": None,
        }
        by_level = _terse_percentiles(fields[at + 12: at + 32], path, number, direction)
        for column, level in _PERCENTILES.items():
            values[column] = by_level.get(level, math.nan)
        infinite = next((column for column, value in values.items() if isinstance(value, float) and math.isinf(value)), None)
        if infinite is not None:  # e.g. 1e308 usec x 1000
            raise FioFormatError(f"{path}: line {number}, {direction} {infinite}: expected a finite number, found one "
                                 "beyond 1.8e308 once converted")
        rows.append({**common, **values})
    if not rows:
        rows.append({**common, "direction": "none", "iops": 0.0, "bw_bytes_s": 0.0, "io_bytes": 0, "runtime_ms": 0})
    return rows


def _terse_number(fields, index, name, path, number, kind):
    """Field ``index`` converted by ``kind``: a finite number of 0 or more (fio writes terse fields
    from unsigned counters and non-negative rates), an int within int64; FioFormatError otherwise."""
    text = fields[index]
    # ASCII only: int() and float() also take "1_000", " 5" and fullwidth digits, which fio never writes
    value = kind(text) if (_TERSE_INT if kind is int else _TERSE_FLOAT).match(text) else None
    if value is None or (kind is int and not 0 <= value <= _INT64_MAX) or (
            kind is not int and not (math.isfinite(value) and value >= 0)):
        expected = "a whole number from 0 to 2^63 - 1" if kind is int else "a finite number of 0 or more"
        raise FioFormatError(f"{path}: line {number}, field {index + 1} ({name}): expected {expected}, "
                             f"found {text[:20]!r}")
    return value


def _percent(text: str) -> float:
    return float(text.rstrip("%"))


def _terse_percentiles(fields, path, number, direction) -> dict[float, float]:
    """``"50.000000%=1234"`` fields (usec) -> {50.0: 1234000.0} in ns; ``0%=0`` slots are unused."""
    out = {}
    for field in fields:
        level, sep, value = field.partition("%=")
        try:
            level_f, value_f = float(level), float(value)
        except ValueError:
            raise FioFormatError(
                f"{path}: line {number}, {direction} clat percentile: expected 'P%=usec', found {field[:20]!r}"
            ) from None
        if sep and level_f > 0:
            if not (level_f <= 100 and math.isfinite(value_f) and value_f >= 0):
                raise FioFormatError(f"{path}: line {number}, {direction} clat percentile: expected a level from 0 "
                                     f"to 100 and a latency of 0 or more usec, found {field[:20]!r}")
            out[level_f] = value_f * _US_TO_NS
    return out


# ---------------------------------------------------------------------------------------------
# rows -> table


def frame(records: list[dict], *, snapshots: bool = False) -> pd.DataFrame:
    """The tidy table (:data:`COLUMNS`, their dtypes, in order; plus ``snapshot`` when asked) of
    rows from :func:`read_records`."""
    import pandas as pd

    columns = list(COLUMNS) + (["snapshot"] if snapshots else [])
    dtypes = {**COLUMNS, "snapshot": "int64"}
    table = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return table.astype({c: dtypes[c] for c in columns})
