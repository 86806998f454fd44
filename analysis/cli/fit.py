"""``pgrant-lab fit``: fit a cost model to two columns of a CSV table, with 95% intervals.

    pgrant-lab fit TABLE.csv --model usl --x guests --y iops [--by mode] [--json]
        [--predict 9,10,12,16] [--dom0-cpus 24]

Prints each fit's summary (parameters with units, value +/- stderr, covariance and bootstrap 95%
intervals, goodness of fit, Notes), or with ``--json`` one object
``{"model", "n", "params": {NAME: {"value", "unit", "ci95": [lo, hi], ...}}, ...}``; with ``--by``,
one such object per group under ``"groups"``. ``--predict X1,X2,...`` adds the fitted curve at
those x values with its 95% bootstrap band (``"predictions": [{"x", "y", "ci95": [lo, hi]}]``, and
a table under each summary). ``--model mva|lock-collapse`` are the flush-path models
(analysis.models.mva, analysis.models.lock_collapse) at ``--dom0-cpus`` CPUs, with the per-CPU
costs they cannot identify at one CPU count fixed at the published middle values
(analysis.models.flush_path.PUBLISHED_MID). A missing file or column, a non-numeric or non-finite
value, or too few points exits 2 with one line naming the file and the column.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ModelFitError, UsageError
from analysis.models import (USL, Amdahl, Linear, LookupModel, MemcpyModel, ShootdownModel,
                             ShootdownScaling)
from analysis.models.flush_path import PUBLISHED_MID
from analysis.models.lock_collapse import LockCollapse
from analysis.models.mva import FlushMVA, check_integer_guests
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
    "mva": partial(FlushMVA, fixed={name: PUBLISHED_MID[name] for name in ("hold_per_cpu_us", "handler_us")}),
    "lock-collapse": partial(LockCollapse, fixed={"hold_per_cpu_us": PUBLISHED_MID["hold_per_cpu_us"]}),
}
#: Models whose x is a whole number of guests and that take ``--dom0-cpus``.
GUEST_MODELS = ("mva", "lock-collapse")


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
    p.add_argument("--predict", metavar="X1,X2,...",
                   help="also predict the fitted curve at these x values, with its 95%% bootstrap band")
    p.add_argument("--dom0-cpus", type=int, default=24, metavar="P",
                   help="dom0 CPUs of the data, for --model mva|lock-collapse (default 24)")
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
    if args.dom0_cpus < 1:
        raise UsageError(f"--dom0-cpus {args.dom0_cpus}: expected an integer >= 1")
    at = parse_predict(args.predict, args.model)
    columns = [args.x, args.y] + ([args.by] if args.by else [])
    table = read_table(args.table, columns)

    extra = {"dom0_cpus": args.dom0_cpus} if args.model in GUEST_MODELS else {}

    def make_model():
        return CLI_MODELS[args.model](n_boot=args.boot, seed=args.seed, x_unit=args.x, y_unit=args.y, **extra)

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
        out = [{**({"group": _plain(key)} if args.by else {}), **fit.to_dict(),
                **({"predictions": predictions(fit, at)} if at is not None else {})} for key, fit in fits]
        doc = {"model": fits[0][1].label, "by": args.by, "groups": out} if args.by else out[0]
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    for key, fit in fits:
        if args.by:
            print(f"\n{args.by} = {key}")
        print(fit.summary())
        if at is not None:
            print(prediction_table(fit, at))
    return 0


def parse_predict(text: str | None, model: str) -> np.ndarray | None:
    """The ``--predict`` values as floats (None without the option); UsageError naming the bad one."""
    if text is None:
        return None
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise UsageError(f"--predict {text}: expected numbers separated by commas, found {part.strip()!r}") from None
        if not np.isfinite(value):
            raise UsageError(f"--predict {text}: expected finite numbers, found {part.strip()!r}")
        values.append(value)
    if model in GUEST_MODELS:
        check_integer_guests(values, f"--predict {text}")
    return np.array(values)


def predictions(fit, at: np.ndarray) -> list[dict]:
    """[{"x", "y", "ci95": [lo, hi]}] at ``at``: the fitted curve and its 95% bootstrap band
    (None ends without a bootstrap)."""
    y = np.asarray(fit.predict(at), dtype=float)
    lo, hi = fit.predict_band(at)

    def num(v):
        return float(v) if np.isfinite(v) else None

    return [{"x": float(x), "y": num(v), "ci95": [num(a), num(b)]} for x, v, a, b in zip(at, y, lo, hi)]


def prediction_table(fit, at: np.ndarray) -> str:
    """The predictions as a small text table (x, predicted y, 95% bootstrap band)."""
    x_unit, y_unit = fit.units_
    rows = [(f"{p['x']:g}", _num(p["y"]), f"[{_num(p['ci95'][0])}, {_num(p['ci95'][1])}]")
            for p in predictions(fit, at)]
    head = (f"x [{x_unit}]", f"predicted {fit.y_name} [{y_unit}]", "95% band (bootstrap)")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    lines = ["Predictions", "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _num(v) -> str:
    return "nan" if v is None else f"{v:.6g}"


def _plain(value):
    """A group key as a JSON value (numpy scalars to Python)."""
    return value.item() if hasattr(value, "item") else value
