"""``pgrant-lab fit``: fit a cost model to two columns of a CSV table, with 95% intervals.

    pgrant-lab fit TABLE.csv --model usl --x guests --y iops [--by mode] [--json]

Prints each fit's summary (parameters with units, value +/- stderr, covariance and bootstrap 95%
intervals, goodness of fit, Notes), or with ``--json`` one object
``{"model", "n", "params": {NAME: {"value", "unit", "ci95": [lo, hi], ...}}, ...}``; with ``--by``,
one such object per group under ``"groups"``. A missing file or column, a non-numeric or non-finite
value, or too few points exits 2 with one line naming the file and the column.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pandas as pd

from analysis.errors import ModelFitError, UsageError
from analysis.models import (USL, Amdahl, Linear, LookupModel, MemcpyModel, ShootdownModel,
                             ShootdownScaling)
from analysis.models.groups import fit_groups

#: ``--model`` names: model classes whose ``fit`` takes one x column and one y column.
CLI_MODELS = {
    "usl": USL,
    "amdahl": Amdahl,
    "linear": Linear,
    "shootdown-scaling": ShootdownScaling,
    "shootdown-linear": partial(ShootdownModel, kind="linear"),
    "memcpy": MemcpyModel,
    "lookup-linear": partial(LookupModel, kind="linear"),
    "lookup-log": partial(LookupModel, kind="log"),
}


def register(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a cost model (USL, shootdown, memcpy, lookup) to a CSV table, with 95%% intervals",
        description="Fit a cost model to columns X and Y of a CSV table; print the summary table "
        "or JSON. Intervals: covariance (Student t) and a seeded residual bootstrap.",
    )
    p.add_argument("table", type=Path, help="CSV file with a header row")
    p.add_argument("--model", required=True, choices=sorted(CLI_MODELS), help="model to fit")
    p.add_argument("--x", required=True, metavar="COLUMN", help="column of the x values (e.g. guests)")
    p.add_argument("--y", required=True, metavar="COLUMN", help="column of the y values (e.g. iops)")
    p.add_argument("--by", metavar="COLUMN", help="fit each group of this column separately")
    p.add_argument("--boot", type=int, default=1000, metavar="N",
                   help="bootstrap resamples (default 1000; 0 turns the bootstrap off)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The CSV at ``path``; raises UsageError naming the file (and column) when it cannot be read
    or a requested column is missing."""
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: expected a CSV file, found a folder") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: expected a CSV table with a header row, found unreadable text "
                         f"({str(err).splitlines()[0]})") from None
    for column in columns:
        if column not in table.columns:
            raise UsageError(f"{path}: column {column!r} not found; the columns are "
                             f"{', '.join(map(str, table.columns))}")
    if table.empty:
        raise ModelFitError(f"{path}: expected data rows after the header, found none")
    return table


def run(args) -> int:
    if args.boot < 0:
        raise UsageError(f"--boot {args.boot}: expected an integer >= 0")
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: expected an integer >= 0 (numpy seeds are non-negative)")
    columns = [args.x, args.y] + ([args.by] if args.by else [])
    table = read_table(args.table, columns)

    def make_model():
        return CLI_MODELS[args.model](n_boot=args.boot, seed=args.seed, x_unit=args.x, y_unit=args.y)

    try:
        groups = fit_groups(table, args.by, args.x, args.y, make_model)
    except ModelFitError as err:
        # The library names its parameter ("(by)"); say which option it was. A group's label
        # "(mode=a): ..." follows the file name.
        text = str(err).replace(f"column {args.by!r} (by)", f"column {args.by!r} (--by)")
        sep = " " if text.startswith("(") else ": "
        raise ModelFitError(f"{args.table}{sep}{text}") from None
    fits = [(g.key.get(args.by), g.model) for g in groups]
    if args.json:
        out = [{**({"group": key} if args.by else {}), **fit.to_dict()} for key, fit in fits]
        doc = {"model": fits[0][1].label, "by": args.by, "groups": out} if args.by else out[0]
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    for key, fit in fits:
        if args.by:
            print(f"\n{args.by} = {key}")
        print(fit.summary())
    return 0
