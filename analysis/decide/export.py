"""The verdict table as records for ``reports/verdicts.csv`` and ``pgrant-lab verdicts --json``.

One row per claim with the columns of :data:`COLUMNS`: claim_id, who, number, unit,
evidence_kind, verdict, reason, notebook. Taken from :func:`analysis.decide.verdicts.verdict_table`
under the names it uses (``author`` -> who, ``page`` -> notebook, ``evidence`` -> evidence_kind
when it has no ``evidence_kind``); a table without ``number``/``unit`` columns gives the row's
``computed`` text as the number and an empty unit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from analysis.errors import PgrantLabError

COLUMNS = ("claim_id", "who", "number", "unit", "evidence_kind", "verdict", "reason", "notebook")
_SOURCES = {"claim_id": ("claim_id",), "who": ("who", "author"), "number": ("number", "computed"),
            "unit": ("unit",), "evidence_kind": ("evidence_kind", "evidence"), "verdict": ("verdict",),
            "reason": ("reason",), "notebook": ("notebook", "page")}


def verdict_records(table: pd.DataFrame) -> pd.DataFrame:
    """The verdict table reduced to :data:`COLUMNS`, one row per claim, in the table's order."""
    out = {}
    for column, candidates in _SOURCES.items():
        found = next((c for c in candidates if c in table.columns), None)
        if found is None and column in ("claim_id", "verdict"):
            raise PgrantLabError(f"verdict table: expected a {column!r} column, found {list(table.columns)}")
        out[column] = table[found] if found is not None else ""
    return pd.DataFrame(out, columns=list(COLUMNS))


def write_csv(records: pd.DataFrame, path: Path) -> Path:
    """Write ``records`` to ``path`` whole: a temporary file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            records.to_csv(handle, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
