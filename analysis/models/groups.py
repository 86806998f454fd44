"""Fit one model per group of a tidy table: the suite's one fit-per-group loop.

``fit_groups(table, by, x, y, make_model)`` splits ``table`` by the columns ``by`` (sorted by
key, rows in table order), fits ``make_model()`` to columns ``x`` and ``y`` of each group and
returns one :class:`GroupFit` per group. Used by ``pgrant-lab fit --by``, the decision's per-cell
USL fits (analysis.decide.decision.fit_cells) and notebook 03's per-engine fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from analysis.errors import ModelFitError
from analysis.models.base import CurveModel


@dataclass
class GroupFit:
    """One group: its key ({column: value}), its x and y values, and the fitted model, or why not.

    ``model`` is None when the group was skipped (``skipped``: fewer distinct x values than asked)
    or its fit failed (``error``, with ``on_error="note"``).
    """

    key: dict
    x: np.ndarray
    y: np.ndarray
    model: CurveModel | None = None
    error: ModelFitError | None = None
    skipped: bool = False

    @property
    def label(self) -> str:
        """``"col=value, ..."`` (empty for the one group of an ungrouped table)."""
        return ", ".join(f"{k}={v}" for k, v in self.key.items())


def numeric_column(table: pd.DataFrame, column: str) -> np.ndarray:
    """Column values as floats; ModelFitError naming the column and first bad data row otherwise."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raw = table[column].iloc[row]
        found = "an empty or NaN cell" if pd.isna(raw) else repr(str(raw))
        raise ModelFitError(f"column {column!r}: expected finite numbers, found {found} in data row {row + 1}")
    return values


def fit_groups(table: pd.DataFrame, by: str | list[str] | None, x: str, y: str,
               make_model: Callable[[], CurveModel], *, min_x_values: int = 0,
               on_error: str = "raise") -> list[GroupFit]:
    """One fit of ``make_model()`` to ``table[x]``, ``table[y]`` per group of the ``by`` columns.

    by: a column, a list of columns, or None/[] for one group of all rows. A row with no value in
    a ``by`` column raises ModelFitError (pandas' groupby would drop it silently), and so does a
    non-finite x or y (naming column and data row). A group with fewer than ``min_x_values``
    distinct x values is not fitted (``skipped``). A failed fit raises ModelFitError naming the
    group and the columns (``on_error="raise"``) or is kept in ``GroupFit.error`` (``"note"``).
    """
    if on_error not in ("raise", "note"):
        raise ValueError(f"on_error={on_error!r}: expected 'raise' or 'note'")
    by = [by] if isinstance(by, str) else list(by or [])
    for column in by:
        empty = table[column].isna().to_numpy()
        if empty.any():
            raise ModelFitError(f"column {column!r} (by): expected a group in every row, found an empty cell "
                                f"in data row {int(np.flatnonzero(empty)[0]) + 1}")
    xs, ys = numeric_column(table, x), numeric_column(table, y)
    if by:
        positions = table.reset_index(drop=True)
        parts = [(key if isinstance(key, tuple) else (key,), part.index.to_numpy())
                 for key, part in positions.groupby(by, sort=True)]
    else:
        parts = [((), np.arange(len(table)))]
    fits = []
    for key, idx in parts:
        fit = GroupFit(key={c: _plain(v) for c, v in zip(by, key)}, x=xs[idx], y=ys[idx])
        fits.append(fit)
        if len(np.unique(fit.x)) < min_x_values:
            fit.skipped = True
            continue
        try:
            fit.model = make_model().fit(fit.x, fit.y)
        except ModelFitError as err:
            if on_error == "raise":
                where = f"({fit.label}): " if by else ""
                raise ModelFitError(f"{where}columns {x!r}/{y!r}: {err}") from None
            fit.error = err
    return fits


def _plain(value):
    """A group key as a plain Python value (numpy scalars to Python)."""
    return value.item() if hasattr(value, "item") else value
