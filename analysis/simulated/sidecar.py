"""The one reader of ``data/simulated``: a data set ``<name>.csv`` and its sidecar ``<name>.json``.

Every simulated data set is a CSV whose name contains "simulated" and a sidecar JSON object that
names the model, its parameters and ``"simulated": true`` (analysis.simulated.grants and
analysis.simulated.shootdown write them). :func:`read` checks what every data set shares and
hands the sidecar and the table to the writer's own checks (``check_sidecar``, ``check_table``).
A bad file is one sentence (:class:`analysis.errors.SimulatedDataError`): file, field, expected,
found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pandas as pd

from analysis import paths
from analysis.errors import SimulatedDataError


def fail(path: Path, field: str, expected: str, found) -> None:
    """Raise the one-sentence error for ``field`` of the file at ``path``."""
    raise SimulatedDataError(f"{path}: field '{field}': expected {expected}, found {found}")


def load_sidecar(path: Path, csv_name: str) -> dict:
    """The sidecar JSON at ``path`` (of ``csv_name``) as a dict, marked ``"simulated": true``."""
    if not path.is_file():
        raise SimulatedDataError(f"{path}: expected the sidecar JSON of {csv_name}, found no such file")
    try:
        side = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SimulatedDataError(f"{path}: expected JSON, found a syntax error at line {error.lineno} "
                                 f"column {error.colno} ({error.msg})") from None
    if not isinstance(side, dict):
        fail(path, "(top level)", "a JSON object", type(side).__name__)
    if side.get("simulated") is not True:
        fail(path, "simulated", "true", repr(side.get("simulated")))
    return side


def read(data_dir: str | Path, name: str, *, what: str = "the simulated data set",
         check_sidecar: Callable[[Path, dict], None] | None = None,
         check_table: Callable[[Path, pd.DataFrame, dict], None] | None = None,
         na_filter: bool = True) -> tuple[pd.DataFrame, dict]:
    """The table ``<data_dir>/simulated/<name>.csv`` and its sidecar ``<name>.json``, checked.

    what: how a missing CSV is described ("expected <what> (make data-simulated)").
    check_sidecar(path, side), check_table(path, table, side): the writer's own checks; each raises
    SimulatedDataError through :func:`fail`.
    na_filter: as pandas.read_csv (False keeps "n/a" as text, so a check can report it as found).
    """
    folder = Path(data_dir) / paths.SIMULATED
    csv_path = folder / f"{name}.csv"
    json_path = folder / f"{name}.json"
    side = load_sidecar(json_path, csv_path.name)
    if check_sidecar is not None:
        check_sidecar(json_path, side)
    if not csv_path.is_file():
        raise SimulatedDataError(f"{csv_path}: expected {what} (make data-simulated), found no such file")
    try:
        table = pd.read_csv(csv_path, na_filter=na_filter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SimulatedDataError(f"{csv_path}: expected a CSV table, found unreadable content "
                                 f"({str(error).strip().rstrip('.')})") from None
    if check_table is not None:
        check_table(csv_path, table, side)
    return table, side
