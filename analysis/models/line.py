"""A straight line through per-x medians, with bootstrap intervals (notebook 07, the decision map).

:class:`MedianLine` is a :class:`~analysis.models.base.CurveModel`, so it has the suite's one shape
(``params_``, ``ci_``, ``ci_boot_``, ``summary()``, ``predict``, ``predict_band``); only its fit
differs from least squares on the raw points, for the reasons in its docstring.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.errors import ModelFitError
from analysis.models.base import CI_LEVEL, CurveModel, Parameter


def line(x, *, intercept: float, slope: float) -> np.ndarray:
    """``intercept + slope * x`` (y units; slope in y units per x unit)."""
    return intercept + slope * np.asarray(x, dtype=float)


class MedianLine(CurveModel):
    """``y = intercept + slope * x`` fitted to the median of y at each distinct x.

    Medians, not means, because a shared machine adds rare preemptions of milliseconds that would
    dominate a least-squares fit to the raw samples. The intervals come from resampling the samples
    of every x (with replacement, ``n_boot`` times, seeded), taking medians again and refitting; so
    they reflect the scatter of the samples even with two x values (where a residual-based interval
    is undefined). ``ci_`` and ``ci_boot_`` are that percentile interval (there is no covariance
    interval); ``stderr_`` is the bootstrap standard deviation. ``points_``: x, median y and
    samples per x. The ``bootstrap`` setting is not used (always resampling within each x).

    ``fit(x, y)``: x any unit (e.g. remote CPUs), y any unit (e.g. ns per call), one sample per point.
    """

    label = "median line"
    x_name, y_name = "x", "y"
    parameters = (
        Parameter("intercept", "{y}", "y at x = 0 (median)", -math.inf),
        Parameter("slope", "{y}/{x}", "growth of the median y per unit of x", -math.inf),
    )
    function = staticmethod(line)

    def __init__(self, *, n_boot: int = 400, seed: int = 0, x_unit: str | None = None,
                 y_unit: str | None = None):
        super().__init__(n_boot=n_boot, bootstrap="case", seed=seed, x_unit=x_unit, y_unit=y_unit)

    def guess(self, x: np.ndarray, y: np.ndarray) -> dict:
        return dict(zip(("intercept", "slope"), _line(*_medians(x, y))[0]))

    def fit(self, x, y):
        """Fit the line to the per-x medians of y; returns ``self``. Raises ModelFitError for
        non-finite input or fewer than two distinct x values."""
        self._validated_settings()
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        what = f"{self.label} fit"
        if x.shape != y.shape or x.ndim != 1:
            raise ModelFitError(f"{what}: expected x and y of the same length, found {x.size} and {y.size}")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ModelFitError(f"{what}: expected finite x and y, found NaN or inf")
        xs, medians, groups = _medians(x, y)
        if len(groups) < 2:
            raise ModelFitError(f"{what}: expected at least 2 distinct x values, found {len(groups)}")
        intercept, slope = _line(xs, medians[None, :])[0]
        rng = np.random.default_rng(self.seed)
        boot = np.column_stack([np.median(rng.choice(g, size=(self.n_boot, len(g))), axis=1) for g in groups])
        draws = _line(xs, boot)
        tail = (1 - CI_LEVEL) / 2 * 100
        lo, hi = np.percentile(draws, [tail, 100 - tail], axis=0) if len(draws) else np.full((2, 2), math.nan)
        names = [p.name for p in self.parameters]
        self.params_ = {"intercept": float(intercept), "slope": float(slope)}
        self.fixed_ = {}
        self.boot_draws_ = draws
        self.ci_ = {name: (float(a), float(b)) for name, a, b in zip(names, lo, hi)}
        self.ci_boot_ = dict(self.ci_)
        spread = np.std(draws, axis=0, ddof=1) if len(draws) > 1 else np.full(2, math.nan)
        self.stderr_ = {name: float(s) for name, s in zip(names, spread)}
        resid = line(xs, **self.params_) - medians
        self.n_, self.dof_ = len(xs), len(xs) - 2
        self.rss_ = float(resid @ resid)
        self.rse_ = math.sqrt(self.rss_ / self.dof_) if self.dof_ > 0 else math.nan
        self.aic_ = self.bic_ = math.nan
        self.x_, self.y_ = xs, medians
        self.points_ = pd.DataFrame({"x": xs, "median_y": medians, "samples": [len(g) for g in groups]})
        self.notes_ = [f"fitted to the medians at {len(xs)} x values of {len(x)} samples; intervals: "
                       f"{self.n_boot} resamples of the samples at each x"]
        return self


def _medians(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    xs = np.unique(x)
    groups = [y[x == xv] for xv in xs]
    return xs, np.array([np.median(g) for g in groups]), groups


def _line(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Least-squares (intercept, slope) of each row of ys against xs; shape (rows, 2)."""
    design = np.column_stack([np.ones_like(xs), xs])
    coef, *_ = np.linalg.lstsq(design, ys.T, rcond=None)
    return coef.T
