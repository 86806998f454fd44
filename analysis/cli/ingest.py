"""``pgrant-lab ingest``: read fio output files into one tidy table and print it as CSV.

Dispatches on :func:`analysis.ingest.fio.detect_format`: json/json+/terse summaries become the tidy
summary table (:data:`analysis.ingest.fio.COLUMNS`); ``write_*_log`` files go through
:func:`analysis.ingest.fiolog.read_log` and histogram logs through :func:`analysis.ingest.fiolog.read_hist_log`.
One invocation takes files of one kind (summaries, logs or histogram logs), since their tables
have different columns. A FOLDER stands for every file under it (recursively) whose name matches
``--glob`` (default ``*.json``). Summaries are parsed in parallel (``--workers``, or a Dask
scheduler with ``--dask``) and written without importing pandas, so one small file converts in
about the time Python takes to start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from analysis.errors import UsageError
from analysis.paths import RAW_DATA_DIR

# Formats whose tables share one schema.
_KINDS = {"json": "summary", "terse": "summary", "log": "log", "hist_log": "hist_log"}


def register(sub) -> None:
    p = sub.add_parser("ingest", help="read fio output (json, json+, terse, logs) and print a tidy CSV table")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="fio output files of one kind, or folders (every file matching --glob under them)")
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
    p.set_defaults(func=run)


def run(args) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: expected a number of processes >= 1")
    paths = expand(args.files, args.glob)
    if args.out is not None:
        _check_out(args.out, paths)
    kind = kind_of(paths)
    # Parse everything before opening --out, so a bad file leaves no half-written CSV behind.
    if kind == "summary":
        rows = _summary_rows(paths, args)
    else:
        table = _log_table(paths, kind)
    if args.out is None:
        _write(rows if kind == "summary" else table, sys.stdout, args.snapshots)
        return 0
    # Whole or not at all: a temporary file beside --out, renamed over it once complete.
    scratch = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    try:
        with open(scratch, "w", newline="") as out:
            count = _write(rows if kind == "summary" else table, out, args.snapshots)
        os.replace(scratch, args.out)
    finally:
        scratch.unlink(missing_ok=True)
    print(f"wrote {args.out} ({count} rows)", file=sys.stderr)
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


def _log_table(paths: list[Path], kind: str):
    import pandas as pd

    from analysis.ingest import fiolog  # the log reader, imported only when a log is given

    reader = fiolog.read_log if kind == "log" else fiolog.read_hist_log
    frames = []
    for path in paths:
        frame = reader(path)
        if "source" not in frame.columns:
            frame.insert(0, "source", pd.Series(str(path), index=frame.index, dtype="string"))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def ingest(paths: list[Path], snapshots: bool = False):
    """The tidy table of ``paths``, all of one kind; each row names its ``source`` file."""
    from analysis.ingest import fio

    kind = kind_of(paths)
    if kind == "summary":
        return fio.read_many(paths, snapshots=snapshots)
    return _log_table(paths, kind)


def _check_out(out: Path, inputs: list[Path]) -> None:
    """Refuse an --out that would overwrite fio output or write into the bundled raw data."""
    if out.is_dir():
        raise UsageError(f"--out {out}: expected a CSV file name, found a folder")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"--out {out}: expected a CSV file in an existing folder, found no folder {out.parent}")
    if any(out.resolve() == path.resolve() for path in inputs):
        raise UsageError(f"--out {out}: expected a new CSV file, found one of the FILEs being read "
                         "(fio output is never overwritten)")
    if RAW_DATA_DIR in out.resolve().parents:
        raise UsageError(f"--out {out}: expected a file outside {RAW_DATA_DIR} (raw data is only read), "
                         "found one inside it")
