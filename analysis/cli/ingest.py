"""``pgrant-lab ingest``: read fio output files into one tidy table and print it as CSV.

Dispatches on :func:`analysis.ingest.fio.detect_format`: json/json+/terse summaries become the tidy
summary table (:data:`analysis.ingest.fio.COLUMNS`); ``write_*_log`` files go through
:func:`analysis.ingest.fiolog.read_log` and histogram logs through :func:`analysis.ingest.fiolog.read_hist_log`.
One invocation takes files of one kind (summaries, logs or histogram logs), since their tables
have different columns. A FOLDER stands for every file under it (recursively) whose name matches
``--glob`` (default ``*.json``). Summaries are parsed in parallel (``--workers``, or a Dask
scheduler with ``--dask``) and written without importing pandas, so one small file converts in
about the time Python takes to start.

A log whose name does not say its kind (fio names them ``<prefix>_<kind>.<job>.log``) is read
with ``--metric bw|iops|lat|clat|slat|clat_hist``; ``--fio-version`` says which fio wrote a log
(it decides the latency unit of 4-field logs, see :func:`analysis.ingest.fiolog.read_log`). When the
unit had to be assumed, a note saying so goes to stderr.

``-``, ``/dev/stdin`` and ``/dev/fd/N`` (``<(cmd)``) are streams: read once, in this process, and
parsed from memory (:mod:`analysis.ingest.source`); any other FILE must be a regular file.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from analysis.errors import FioUnitWarning, UsageError

# Formats whose tables share one schema.
_KINDS = {"json": "summary", "terse": "summary", "log": "log", "hist_log": "hist_log"}
# --metric values: the log kinds of fio's file names (analysis.ingest.fiolog.VALUE_COLUMNS + clat_hist).
METRICS = ("bw", "iops", "lat", "clat", "slat", "clat_hist")


def register(sub) -> None:
    p = sub.add_parser("ingest", help="read fio output (json, json+, terse, logs) and print a tidy CSV table")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="fio output files of one kind, or folders (every file matching --glob under them); "
                        "- for standard input")
    p.add_argument("--out", type=Path, metavar="CSV", help="write the table to this CSV file instead of stdout")
    p.add_argument("--snapshots", action="store_true",
                   help="keep every --status-interval report (column snapshot), not only the final one")
    p.add_argument("--glob", default="*.json", metavar="PATTERN",
                   help="in a FOLDER, read the files whose names match PATTERN (default: *.json)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes parsing summaries (default: one per CPU; 1: no pool)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="parse on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' "
                        "(needs pip install 'pgrant-lab[dask]')")
    p.add_argument("--metric", choices=METRICS, metavar="KIND",
                   help="the kind of every log FILE, for logs whose name does not say it "
                        f"({', '.join(METRICS)})")
    p.add_argument("--fio-version", metavar="VERSION",
                   help="the fio version that wrote the log FILEs (e.g. fio-2.2.10): latency logs of "
                        "fio < 3.0 are in usec, later ones in ns")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: expected a number of processes >= 1")
    paths = expand(args.files, args.glob)
    if args.out is not None:
        # analysis.outdir: never an input (a hard link or symlink to one included), data/raw or notebooks/
        from analysis import outdir

        outdir.check_file(args.out, inputs=paths)
    kind = kind_of(paths)
    # Parse everything before opening --out, so a bad file leaves no half-written CSV behind.
    if kind == "summary":
        _no_log_options(paths, args.metric, args.fio_version)
        rows = _summary_rows(paths, args)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FioUnitWarning)
            table = _log_table(paths, kind, metric=args.metric, fio_version=args.fio_version)
        for warning in caught:
            if issubclass(warning.category, FioUnitWarning):
                note = str(warning.message).replace("fio_version=", "--fio-version")
                print(f"pgrant-lab ingest: note: {note}", file=sys.stderr)
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if args.out is None:
        _write(rows if kind == "summary" else table, sys.stdout, args.snapshots)
        return 0
    # Whole or not at all: a temporary file beside --out, renamed over it once complete (analysis.outdir).
    from analysis import outdir

    counted = []

    def write(scratch):
        with open(scratch, "w", newline="") as out:
            counted.append(_write(rows if kind == "summary" else table, out, args.snapshots))

    outdir.write_file(args.out, write)
    print(f"wrote {args.out} ({counted[0]} rows)", file=sys.stderr)
    return 0


def _write(rows_or_table, out, snapshots: bool) -> int:
    """CSV of summary rows (no pandas: analysis.ingest.tidycsv) or of a log table; rows written."""
    if isinstance(rows_or_table, list):
        from analysis.ingest import fio, tidycsv

        columns = {**fio.COLUMNS, **({"snapshot": "int64"} if snapshots else {})}
        return tidycsv.write(rows_or_table, columns, out)
    rows_or_table.to_csv(out, index=False)
    return len(rows_or_table)


def expand(paths: list[Path], pattern: str) -> list[Path]:
    """Files as given, and for each folder the files under it matching ``pattern``, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob(pattern) if p.is_file())
            if not found:
                raise UsageError(f"{path}: expected fio output files matching {pattern} in the folder, found none")
            files.extend(found)
        else:
            files.append(path)
    return files


def kind_of(paths: list[Path]) -> str:
    """summary, log or hist_log: the one kind every path holds (UsageError naming two that differ)."""
    from analysis.ingest import fio

    kinds = {path: fio.detect_format(path) for path in paths}
    found = {_KINDS[k] for k in kinds.values()}
    if len(found) > 1:
        first = {kind: next(p for p, k in kinds.items() if _KINDS[k] == kind) for kind in found}
        listed = ", ".join(f"{p} is a {kind.replace('_', ' ')}" for kind, p in sorted(first.items()))
        raise UsageError(f"FILE: expected files of one kind (summaries, logs or histogram logs), found {listed}")
    return found.pop()


def _summary_rows(paths: list[Path], args) -> list[dict]:
    from analysis.ingest.parallel import read_records_many

    return read_records_many(paths, snapshots=args.snapshots, workers=args.workers, dask=args.dask)


def _no_log_options(paths: list[Path], metric: str | None, fio_version: str | None) -> None:
    for flag, value in (("--metric", metric), ("--fio-version", fio_version)):
        if value is not None:
            raise UsageError(f"{flag} {value}: expected log FILEs (it says what a log holds), "
                             f"found a fio summary ({paths[0]})")


def _log_table(paths: list[Path], kind: str, metric: str | None = None, fio_version: str | None = None):
    """The log table of ``paths``; ``metric`` (``--metric``) is the kind of every log, for logs
    whose name does not say it, ``fio_version`` (``--fio-version``) the fio that wrote them."""
    import pandas as pd

    from analysis.ingest import fiolog  # the log reader, imported only when a log is given

    if metric is not None and (metric == "clat_hist") != (kind == "hist_log"):
        expected = "a histogram log" if metric == "clat_hist" else f"a {metric} log"
        found_kind = "a histogram log" if kind == "hist_log" else "a bw/iops/lat/clat/slat log"
        raise UsageError(f"--metric {metric}: expected {expected}, found {found_kind} ({paths[0]})")
    if metric is None:
        unnamed = next((path for path in paths if fiolog.metric_from_name(path) is None), None)
        if unnamed is not None:
            raise UsageError(
                f"{unnamed}: expected _bw., _iops., _lat., _clat., _slat. or _clat_hist. in the file name to tell "
                f"the log's kind, found none; pass --metric {'|'.join(METRICS)} to say which"
            )
    if kind == "log":
        def reader(path):
            return fiolog.read_log(path, metric=metric, fio_version=fio_version)
    else:
        if fio_version is not None:
            raise UsageError(f"--fio-version {fio_version}: expected bw/iops/lat/clat/slat logs (the latency unit of "
                             "histogram logs does not depend on it), found a histogram log")

        def reader(path):
            return fiolog.read_hist_log(path)
    frames = []
    for path in paths:
        frame = reader(path)
        if "source" not in frame.columns:
            frame.insert(0, "source", pd.Series(str(path), index=frame.index, dtype="string"))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def ingest(paths: list[Path], snapshots: bool = False, metric: str | None = None,
           fio_version: str | None = None):
    """The tidy table of ``paths``, all of one kind; each row names its ``source`` file.

    ``metric`` and ``fio_version`` apply to logs (``--metric``, ``--fio-version``).
    """
    from analysis.ingest import fio

    kind = kind_of(paths)
    if kind == "summary":
        _no_log_options(paths, metric, fio_version)
        return fio.read_many(paths, snapshots=snapshots)
    return _log_table(paths, kind, metric=metric, fio_version=fio_version)
