"""``pgrant-lab verdicts``: every claim of the 2012 thread with its number and verdict.

Prints one line per claim (or one JSON list with ``--json``) and writes the same records to
a CSV with ``--csv PATH`` (the folder is created, the file written whole); ``make report`` writes
the same records to ``reports/verdicts.csv`` (notebook 00).
"""

from __future__ import annotations

import json
from pathlib import Path

from analysis import paths
from analysis.decide import export, verdicts
from analysis.ingest import bundle
from analysis.simulated import grants as simulated_grants
from analysis.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("verdicts", help="the 2012 thread's claims with the suite's number and verdict for each",
                       description="Judge every claim of the thread (the digitized claims in the data folder); print "
                                   "them (and write them as CSV with --csv).")
    p.add_argument("--data", type=Path, default=paths.DATA_DIR, help=f"data folder (default: {paths.DATA_DIR})")
    p.add_argument("--csv", type=Path, default=None,
                   help="also write the records to this CSV file (make report writes reports/verdicts.csv)")
    p.add_argument("--json", action="store_true", help="print one JSON list of records instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    if not args.data.is_dir():
        raise UsageError(f"--data {args.data}: expected a data folder, found none")
    if args.csv is not None:
        csv = args.csv.resolve()
        if csv == paths.RAW_DATA_DIR or paths.RAW_DATA_DIR in csv.parents:
            raise UsageError(f"--csv {args.csv}: expected a path outside {paths.RAW_DATA_DIR} (raw data is only read), "
                             "found one inside it")
    table = verdicts.verdict_table(bundle.load_bundled(args.data),
                                   simulated_grants.read_all(args.data, verdicts.SIMULATED_SETS))
    records = export.verdict_records(table)
    if args.csv is not None:
        export.write_csv(records, args.csv.resolve())
    if args.json:
        print(json.dumps(records.to_dict(orient="records"), indent=2, default=str))
    else:
        for row in records.itertuples(index=False):
            print(f"{row.claim_id}: {row.verdict} ({row.who}; {row.notebook}): {row.number} {row.unit}".rstrip())
    return 0
