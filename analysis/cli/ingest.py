"""``pgrant-lab ingest``: read fio output files into one tidy table and print it as CSV.

Dispatches on :func:`analysis.fio.detect_format`: json/json+/terse summaries become the tidy
summary table (:data:`analysis.fio.COLUMNS`); ``write_*_log`` files go through
:func:`analysis.fiolog.read_log` and histogram logs through :func:`analysis.fiolog.read_hist_log`.
One invocation takes files of one kind (summaries, logs or histogram logs), since their tables
have different columns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from analysis import fio, outdir
from analysis.errors import UsageError

# Formats whose tables share one schema.
_KINDS = {"json": "summary", "terse": "summary", "log": "log", "hist_log": "hist_log"}


def register(sub) -> None:
    p = sub.add_parser("ingest", help="read fio output (json, json+, terse, logs) and print a tidy CSV table")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="fio output files of one kind")
    p.add_argument("--out", type=Path, metavar="CSV", help="write the table to this CSV file instead of stdout")
    p.add_argument("--snapshots", action="store_true",
                   help="keep every --status-interval report (column snapshot), not only the final one")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.out is not None:
        # analysis.outdir: never an input (a hard link or symlink to one included), data/raw or notebooks/
        outdir.check_file(args.out, inputs=args.files)
    table = ingest(args.files, snapshots=args.snapshots)
    if args.out is not None:
        outdir.write_file(args.out, lambda tmp: table.to_csv(tmp, index=False))
        print(f"wrote {args.out} ({len(table)} rows)", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def ingest(paths: list[Path], snapshots: bool = False) -> pd.DataFrame:
    """The tidy table of ``paths``, all of one kind; each row names its ``source`` file."""
    kinds = {path: fio.detect_format(path) for path in paths}
    found = {_KINDS[k] for k in kinds.values()}
    if len(found) > 1:
        first = {kind: next(p for p, k in kinds.items() if _KINDS[k] == kind) for kind in found}
        listed = ", ".join(f"{p} is a {kind.replace('_', ' ')}" for kind, p in sorted(first.items()))
        raise UsageError(f"FILE: expected files of one kind (summaries, logs or histogram logs), found {listed}")
    kind = found.pop()
    if kind == "summary":
        return fio.read_many(paths, snapshots=snapshots)
    from analysis import fiolog  # the log reader, imported only when a log is given

    reader = fiolog.read_log if kind == "log" else fiolog.read_hist_log
    frames = []
    for path in paths:
        frame = reader(path)
        if "source" not in frame.columns:
            frame.insert(0, "source", pd.Series(str(path), index=frame.index, dtype="string"))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
