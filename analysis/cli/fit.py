"""``pgrant-lab fit``: fit a cost model to two columns of a CSV table, with 95% intervals.

    pgrant-lab fit TABLE.csv --model usl --x guests --y iops [--by mode] [--json]

Prints each fit's summary (parameters with units, value +/- stderr, covariance and bootstrap 95%
intervals, goodness of fit, Notes), or with ``--json`` one object
``{"model", "n", "params": {NAME: {"value", "unit", "ci95": [lo, hi], ...}}, ...}``; with ``--by``,
one such object per group under ``"groups"``. A missing file or column, a non-numeric or non-finite
value, or too few points exits 2 with one line naming the file and the column.
"""

from __future__ import annotations

import io
import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import safeio
from analysis.errors import ModelFitError, UsageError
from analysis.models import (USL, Amdahl, Linear, LookupModel, MemcpyModel, ShootdownModel,
                             ShootdownScaling)

#: Most bootstrap resamples: each refits the model, so 100,000 already takes minutes; more is a typo.
MAX_BOOT = 100_000
#: Largest magnitude of an x or y value: the fits square and multiply values (USL: N**2 terms,
#: covariance: J^T J), and 1e200 squared overflows float64 (max ~1.8e308), failing LAPACK's SVD.
MAX_ABS = 1e100

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
    # A regular file of at most TABLE_MAX_BYTES (a FIFO would block, /dev/zero never end).
    try:
        content = safeio.read_text(path, limit=safeio.TABLE_MAX_BYTES)
    except safeio.NotReadable as err:
        if str(err) == "nothing":
            raise UsageError(f"{safeio.describe(path)}: file not found") from None
        raise UsageError(f"{safeio.describe(path)}: expected a CSV file, found {err}") from None
    try:
        table = pd.read_csv(io.StringIO(content))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise UsageError(f"{path}: expected a CSV table with a header row, found unreadable text "
                         f"({str(err).splitlines()[0]})") from None
    for column in columns:
        if column not in table.columns:
            raise UsageError(f"{path}: column {column!r} not found; the columns are "
                             f"{', '.join(map(str, table.columns))}")
    if table.empty:
        raise ModelFitError(f"{path}: expected data rows after the header, found none")
    return table


def numeric_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """Column values as floats; ModelFitError naming file, column and first bad row otherwise."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raw = table[column].iloc[row]
        found = "an empty or NaN cell" if pd.isna(raw) else repr(str(raw))
        raise ModelFitError(f"{path}: column {column!r}: expected finite numbers, found {found} in data row {row + 1}")
    huge = np.flatnonzero(np.abs(values) > MAX_ABS)
    if huge.size:
        row = int(huge[0])
        raise ModelFitError(f"{path}: column {column!r}: expected numbers within +/-{MAX_ABS:g} (squares and "
                            f"products must stay finite in the fit), found {values[row]:g} in data row {row + 1}; "
                            "rescale the column (e.g. to thousands)")
    return values


def fit_one(table: pd.DataFrame, args, label: str) -> dict:
    """The fitted args.model for one table (or group); errors name ``label`` and the columns."""
    x = numeric_column(table, args.x, label)
    y = numeric_column(table, args.y, label)
    model = CLI_MODELS[args.model](n_boot=args.boot, seed=args.seed, x_unit=args.x, y_unit=args.y)
    try:
        return model.fit(x, y)
    except ModelFitError as err:
        raise ModelFitError(f"{label}: columns {args.x!r}/{args.y!r}: {err}") from None
    except (np.linalg.LinAlgError, ValueError, ArithmeticError) as err:  # e.g. x near 1e200: SVD fails
        raise ModelFitError(f"{label}: columns {args.x!r}/{args.y!r}: expected values the fit can handle, found "
                            f"its numerics failing ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
                            "rescale the columns (e.g. to thousands)") from None


def run(args) -> int:
    if not 0 <= args.boot <= MAX_BOOT:
        raise UsageError(f"--boot {args.boot}: expected an integer from 0 to {MAX_BOOT}")
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: expected an integer >= 0 (numpy seeds are non-negative)")
    columns = [args.x, args.y] + ([args.by] if args.by else [])
    table = read_table(args.table, columns)
    if args.by and table[args.by].isna().any():
        row = int(np.flatnonzero(table[args.by].isna().to_numpy())[0])
        raise ModelFitError(f"{args.table}: column {args.by!r} (--by): expected a group in every row, found an "
                            f"empty cell in data row {row + 1}")
    if args.by:
        groups = [(key, part) for key, part in table.groupby(args.by, sort=True)]
        fits = [(key, fit_one(part, args, f"{args.table} ({args.by}={key})")) for key, part in groups]
    else:
        fits = [(None, fit_one(table, args, str(args.table)))]
    if args.json:
        out = [{**({"group": _plain(key)} if args.by else {}), **fit.to_dict()} for key, fit in fits]
        doc = {"model": fits[0][1].label, "by": args.by, "groups": out} if args.by else out[0]
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    for key, fit in fits:
        if args.by:
            print(f"\n{args.by} = {key}")
        print(fit.summary())
    return 0


def _plain(value):
    """A group key as a JSON value (numpy scalars to Python)."""
    return value.item() if hasattr(value, "item") else value
