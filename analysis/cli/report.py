"""``pgrant-lab report``: execute the notebooks and write HTML pages with an index."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import report
from analysis.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("report", help="execute the notebooks and write HTML reports with an index")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    p.add_argument("--only", action="append", metavar="NN", help="run only notebooks whose name starts with this (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    out = args.out.resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out}: expected a folder, found a file")
    result = report.build(out, parameters={"data_dir": str(report.DATA_DIR)}, only=args.only)
    print(f"wrote {result.index} ({len(result.pages)} notebooks)")
    for page in result.failed:
        print(f"pgrant-lab report: {page.source.name} failed: {page.error}", file=sys.stderr)
    return 1 if result.failed else 0
