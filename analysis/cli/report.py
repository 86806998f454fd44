"""``pgrant-lab report``: execute the notebooks and write HTML pages with an index.

With ``--data DIR`` (a user's experiment folder, see analysis.ingest.experiment) the folder is validated
and ingested first, once (a bad manifest: one line per problem, exit 2), then only the notebooks
that apply to an experiment (``experiment_dir`` in their parameters cell) run, with
``experiment_dir`` set to DIR and ``experiment_table`` to the parsed table, cached in the report's
scratch folder. Nothing is written into DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import outdir, report
from analysis.errors import ManifestError, UsageError
from analysis.text import inline


def register(sub) -> None:
    p = sub.add_parser("report", help="execute the notebooks and write HTML reports with an index")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    p.add_argument("--only", action="append", metavar="NN", help="run only notebooks whose name starts with this (repeatable)")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="your experiment folder (manifest.csv + fio output); runs the notebooks that apply to it")
    p.set_defaults(func=run)


def run(args) -> int:
    # Where --out may be written (not data/raw, notebooks/, a folder of other files, around --data)
    # is decided by analysis.outdir, called from report.build.
    out = args.out
    parameters = {"data_dir": str(report.DATA_DIR)}
    only, title, table = args.only, "pgrant-lab report", None
    if args.data is not None:
        # refuse a bad --out before the (long) validation of --data; report.build claims it again
        outdir.claim(out, command="pgrant-lab report", inputs=[args.data], recognise=report._earlier_report)
        data = args.data.resolve()
        table, problems = _load_experiment(data)
        if problems:
            for line in problems:
                print(f"pgrant-lab report: {line}", file=sys.stderr)
            return 2
        applies = [s.stem for s in report.experiment_notebooks()]
        if args.only:
            applies = [s for s in applies if any(s.startswith(o) for o in args.only)]
        if not applies:
            raise UsageError(f"--only {inline(','.join(args.only))}: expected notebooks that take "
                             f"{report.EXPERIMENT_PARAMETER} (with --data), found none")
        only, title = applies, f"pgrant-lab report on {data.name}"
        parameters[report.EXPERIMENT_PARAMETER] = str(data)
    elif args.only and not any(s.stem.startswith(o) for s in report.notebook_sources() for o in args.only):
        names = ", ".join(s.stem for s in report.notebook_sources())
        raise UsageError(f"--only {inline(','.join(args.only))}: expected the start of a notebook name ({names}), "
                         "found none matching")
    inputs = [args.data] if args.data is not None else []
    result = report.build(out, parameters=parameters, only=only, title=title, inputs=inputs, experiment_table=table)
    print(f"wrote {result.index} ({len(result.pages)} notebooks)")
    for page in result.failed:
        print(f"pgrant-lab report: {page.source.name} failed: {page.error}", file=sys.stderr)
    return 1 if result.failed else 0


def _load_experiment(data: Path):
    """(the experiment's tidy table, []) or (None, every problem with the folder, one line each)."""
    from analysis.ingest import experiment

    try:
        return experiment.load(data), []
    except ManifestError as err:
        return None, str(err).splitlines()
