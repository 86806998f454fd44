"""A straight line through per-x medians, with bootstrap intervals (notebook 07, the decision map)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd



@dataclass
class LineFit:
    """``y = intercept + slope * x`` fitted to the median of y at each x.

    Medians, not means, because a shared machine adds rare preemptions of milliseconds that would
    dominate a least-squares fit to the raw samples. The intervals come from resampling the samples
    of every x (with replacement), taking medians again and refitting; so they reflect the scatter
    of the samples even with two x values (where a residual-based interval is undefined).
    """

    x_name: str
    y_name: str
    intercept: float
    slope: float
    intercept_ci: tuple[float, float]
    slope_ci: tuple[float, float]
    level: float
    points: pd.DataFrame  # x, median y, samples per x

    def predict(self, x) -> np.ndarray:
        """The fitted line at x (same units as the fitted y)."""
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    def __str__(self) -> str:
        pct = f"{self.level:.0%}"
        return (f"{self.y_name} = {self.intercept:.4g} [{pct} CI {self.intercept_ci[0]:.4g}, "
                f"{self.intercept_ci[1]:.4g}] + {self.slope:.4g} [{self.slope_ci[0]:.4g}, "
                f"{self.slope_ci[1]:.4g}] x {self.x_name} ({len(self.points)} x values)")


def fit_line(df: pd.DataFrame, *, x: str, y: str, level: float = 0.95, n_boot: int = 400,
             seed: int = 0) -> LineFit:
    """Fit ``y = intercept + slope * x`` to the per-x medians of df[y]; bootstrap intervals.

    Raises ModelFitError when there are fewer than two distinct x values or a non-finite value.
    """
    from analysis.errors import ModelFitError

    data = df[[x, y]].to_numpy(dtype=float)
    if not np.isfinite(data).all():
        raise ModelFitError(f"fit_line: expected finite values in columns {x} and {y}, found NaN or inf.")
    groups = [(xv, data[data[:, 0] == xv, 1]) for xv in np.unique(data[:, 0])]
    if len(groups) < 2:
        raise ModelFitError(f"fit_line: expected at least 2 distinct values of {x}, found {len(groups)}.")
    xs = np.array([g[0] for g in groups])
    medians = np.array([np.median(g[1]) for g in groups])
    intercept, slope = _line(xs, medians[None, :])[0]
    rng = np.random.default_rng(seed)
    boot = np.column_stack([np.median(rng.choice(g[1], size=(n_boot, len(g[1]))), axis=1) for g in groups])
    lines = _line(xs, boot)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(lines, [tail, 100 - tail], axis=0)
    points = pd.DataFrame({x: xs, f"median_{y}": medians, "samples": [len(g[1]) for g in groups]})
    return LineFit(x, y, float(intercept), float(slope), (float(lo[0]), float(hi[0])),
                   (float(lo[1]), float(hi[1])), level, points)


def _line(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Least-squares (intercept, slope) of each row of ys against xs; shape (rows, 2)."""
    design = np.column_stack([np.ones_like(xs), xs])
    coef, *_ = np.linalg.lstsq(design, ys.T, rcond=None)
    return coef.T


