"""The fitting machinery every cost model shares: parameters, least squares, intervals, summary.

A model is a subclass of :class:`CurveModel` that declares

- ``parameters``: a tuple of :class:`Parameter` (name, keyword, unit, meaning, bounds), in the
  order of the model function's keyword arguments (lmfit's "the signature is the parameter list");
- ``function(x, **params)``: the pure model function (a static method);
- ``guess(x, y)``: starting values from the data.

``fit(x, y)`` validates its input (raising :class:`analysis.errors.ModelFitError` for hard
failures: non-finite input, fewer points than free parameters, no convergence), runs
``scipy.optimize.least_squares`` inside the declared bounds, and stores

- ``params_`` (dict name -> value), ``stderr_`` (dict name -> standard error, NaN when the
  parameter is not identified), ``ci_`` (dict name -> (lo, hi), 95% from the covariance with a
  Student t quantile), ``ci_boot_`` (dict name -> (lo, hi), 95% percentile interval of a seeded
  residual or case bootstrap), ``notes_`` (list of soft problems shown under the summary table),
  ``n_``, ``dof_``, ``rss_``, ``rse_``, ``aic_``, ``bic_``.

Soft problems (a parameter at its bound, no residual degrees of freedom, a singular covariance,
fewer than six points, covariance and bootstrap intervals that disagree) become numbered Notes in
:meth:`CurveModel.summary`, in the manner of statsmodels' ``RegressionResults.summary()``.

Sources: the covariance is ``s^2 (J^T J)^-1`` at the solution, as ``scipy.optimize.curve_fit``
computes it (pseudo-inverse through the SVD of the Jacobian); AIC/BIC use the Gaussian
log-likelihood of least squares with k = number of free parameters, as statsmodels does.
"""

from __future__ import annotations

import html
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np
from scipy import optimize, stats

from analysis.errors import ModelFitError, UsageError

#: Interval level used throughout (two-sided).
CI_LEVEL = 0.95
#: Fewer points than this earns a Note (R usl warns below ~6 points).
FEW_POINTS = 6
#: Covariance and bootstrap intervals "disagree" when an end differs by more than this share of
#: the covariance interval's width.
DISAGREE_SHARE = 0.25
#: A refit counts as failed when it raises or does not converge; above this share, a Note.
BOOT_FAIL_SHARE = 0.05
#: Scaled singular values below this share of the largest mark unidentified directions
#: (the Jacobian comes from finite differences, accurate to ~1e-8).
IDENTIFY_RTOL = 1e-6
#: Bootstrap refits start this far (in the transformed coordinate) from a bound, so that a
#: parameter the main fit put on its bound can move off it (see _bound_transforms).
START_Q = 0.05
EDGE_Q = math.pi / 2 - 0.05
#: Relative tolerance for "at its bound".
BOUND_RTOL = 1e-6


@dataclass(frozen=True)
class Parameter:
    """One model parameter: ``name`` as reported, ``arg`` the model function's keyword,
    ``unit`` (``"{x}"``/``"{y}"`` are replaced by the model's x/y units), ``doc`` its physical
    meaning, and the bounds the fit respects."""

    name: str
    unit: str
    doc: str
    lower: float = 0.0
    upper: float = math.inf
    arg: str | None = None

    @property
    def keyword(self) -> str:
        return self.arg or self.name


@dataclass
class FitSummary:
    """A printable, HTML-renderable table of one fit (what ``CurveModel.summary()`` returns)."""

    title: str
    rows: list[dict]
    stats: dict
    notes: list[str] = field(default_factory=list)

    def _stat_line(self) -> str:
        s = self.stats
        return (
            f"n = {s['n']}, free parameters = {s['k']}, residual dof = {s['dof']}; "
            f"residual standard error = {_fmt(s['rse'])} {s['y_unit']}; "
            f"AIC = {_fmt(s['aic'])}, BIC = {_fmt(s['bic'])}"
        )

    def _table(self) -> list[list[str]]:
        head = ["parameter", "unit", "value +/- stderr (rel%)", "95% CI (covariance)",
                f"95% CI (bootstrap, {self.stats['boot']})"]
        body = []
        for r in self.rows:
            if r["fixed"]:
                est = f"{_fmt(r['value'])} (fixed)"
            else:
                rel = abs(r["stderr"] / r["value"]) * 100 if r["value"] else math.nan
                est = f"{_fmt(r['value'])} +/- {_fmt(r['stderr'])} ({_fmt(rel, 2)}%)"
            body.append([r["name"], r["unit"], est, _fmt_ci(r["ci"]), _fmt_ci(r["ci_boot"])])
        return [head] + body

    def to_frame(self) -> "pandas.DataFrame":  # noqa: F821 - pandas imported lazily
        """One row per parameter: unit, value, stderr, fixed, and both intervals' ends."""
        import pandas as pd

        rows = []
        for r in self.rows:
            cov, boot = r["ci"] or (math.nan, math.nan), r["ci_boot"] or (math.nan, math.nan)
            rows.append({"parameter": r["name"], "unit": r["unit"], "value": r["value"],
                         "stderr": r["stderr"], "fixed": r["fixed"], "ci95_lo": cov[0],
                         "ci95_hi": cov[1], "boot95_lo": boot[0], "boot95_hi": boot[1]})
        return pd.DataFrame(rows).set_index("parameter")

    def __str__(self) -> str:
        table = self._table()
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [self.title, "=" * len(self.title)]
        for j, row in enumerate(table):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append(self._stat_line())
        if self.notes:
            lines.append("Notes:")
            lines += [f"[{i}] {note}" for i, note in enumerate(self.notes, 1)]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = self._table()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table[1:]
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self.title)}</strong>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(self._stat_line())}</p>"
            + (f"<p>Notes:</p><ol>{notes}</ol>" if notes else "")
            + "</div>"
        )


def _fmt(v: float, digits: int = 4) -> str:
    if v is None or np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def _bounds(lower: float, upper: float) -> str:
    """A parameter's bounds as a reader writes them: [0, \u221e) for an unbounded upper end."""
    low = "(-\u221e" if np.isinf(lower) else f"[{_fmt(lower)}"
    high = "\u221e)" if np.isinf(upper) else f"{_fmt(upper)}]"
    return f"{low}, {high}"


def _fmt_ci(ci) -> str:
    if ci is None:
        return "-"
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _covariance(jac: np.ndarray, rss: float, dof: int) -> tuple[np.ndarray, np.ndarray]:
    """Parameter covariance ``s^2 (J^T J)^+`` and a mask of parameters that are not identified.

    The Jacobian's columns are scaled to unit length first, so that "singular" does not depend
    on the parameters' units (lambda in IOPS next to kappa ~ 1e-3); a direction whose scaled
    singular value is below ``IDENTIFY_RTOL`` of the largest (finite-difference noise level) is
    a combination of parameters the data do not determine, and every parameter that loads on it
    is reported as unidentified. Otherwise as ``scipy.optimize.curve_fit`` (pseudo-inverse via
    the SVD)."""
    norms = np.linalg.norm(jac, axis=0)
    dead = norms == 0
    scaled = jac / np.where(dead, 1.0, norms)
    _, s, vt = np.linalg.svd(scaled, full_matrices=False)
    keep = s > IDENTIFY_RTOL * (s[0] if s.size else 0.0)
    null = vt[~keep]
    unidentified = dead | ((np.abs(null) > 1e-3).any(axis=0) if null.size else False)
    vt_k = vt[keep]
    inv_scaled = (vt_k.T / s[keep] ** 2) @ vt_k
    cov = inv_scaled / np.outer(np.where(dead, 1.0, norms), np.where(dead, 1.0, norms))
    cov = cov * (rss / dof if dof > 0 else math.nan)
    return cov, unidentified


def _information(n: int, k: int, rss: float) -> tuple[float, float]:
    """AIC and BIC from the Gaussian log-likelihood of a least-squares fit (statsmodels'
    convention: k = free parameters; the variance is not counted)."""
    if rss <= 0 or n == 0:
        return -math.inf, -math.inf
    llf = -n / 2 * (math.log(2 * math.pi * rss / n) + 1)
    return -2 * llf + 2 * k, -2 * llf + k * math.log(n)


class CurveModel:
    """Base class: settings in ``__init__`` (stored unchanged), ``fit(x, y)`` returns ``self``.

    Settings (keyword-only):
      n_boot: bootstrap resamples for ``ci_boot_`` (0 turns the bootstrap off).
      bootstrap: ``"residual"`` (refit to fitted values + resampled, leverage-inflated residuals;
        right for designed x such as guest counts) or ``"case"`` (resample (x, y) pairs).
      seed: seed of the bootstrap's ``numpy.random.Generator``.
      fixed: dict name -> value for parameters held fixed (what-if fits, special cases).
      on_bound: ``"note"`` (a parameter at a bound becomes a Note) or ``"raise"``
        (``ModelFitError``).
      x_unit, y_unit: units used in parameter units and in the summary.
      max_nfev: the main fit's budget of model evaluations (default 200 per free parameter + 1);
        running out raises ModelFitError("no convergence").
    """

    parameters: ClassVar[tuple[Parameter, ...]] = ()
    function: ClassVar[Callable]
    label: ClassVar[str] = "model"
    x_name: ClassVar[str] = "x"
    y_name: ClassVar[str] = "y"
    default_units: ClassVar[tuple[str, str]] = ("", "")

    def __init__(self, *, n_boot: int = 1000, bootstrap: str = "residual", seed: int = 0,
                 fixed: dict | None = None, on_bound: str = "note",
                 x_unit: str | None = None, y_unit: str | None = None,
                 max_nfev: int | None = None):
        self.n_boot = n_boot
        self.bootstrap = bootstrap
        self.seed = seed
        self.fixed = fixed
        self.on_bound = on_bound
        self.x_unit = x_unit
        self.y_unit = y_unit
        self.max_nfev = max_nfev

    # -- what subclasses provide --------------------------------------------------------------
    def guess(self, x: np.ndarray, y: np.ndarray) -> dict:
        """Starting values (by parameter name) from the data."""
        raise NotImplementedError

    def _domain_error(self, x: np.ndarray) -> str | None:
        """A sentence saying which x values lie outside the model's domain, or None."""
        return None

    def _implied_fixed(self) -> dict:
        """Parameters a special case or a ``kind`` setting fixes (validated here, at fit time)."""
        return {}

    def _prepare_x(self, x) -> np.ndarray:
        """The x array the model function takes (1-D by default; subclasses may stack inputs)."""
        return np.asarray(x, dtype=float)

    # -- helpers ------------------------------------------------------------------------------
    @property
    def units_(self) -> tuple[str, str]:
        x_unit, y_unit = self.default_units
        return (self.x_unit or x_unit, self.y_unit or y_unit)

    def unit(self, name: str) -> str:
        p = self._param(name)
        x_unit, y_unit = self.units_
        return p.unit.replace("{x}", x_unit).replace("{y}", y_unit)

    def _param(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise UsageError(
            f"parameter {name!r}: expected one of {[p.name for p in self.parameters]}, found {name!r}"
        )

    def _validated_settings(self) -> tuple[dict, list[Parameter]]:
        if self.bootstrap not in ("residual", "case"):
            raise UsageError(f"bootstrap={self.bootstrap!r}: expected 'residual' or 'case'")
        if self.on_bound not in ("note", "raise"):
            raise UsageError(f"on_bound={self.on_bound!r}: expected 'note' or 'raise'")
        if not (isinstance(self.n_boot, (int, np.integer)) and self.n_boot >= 0):
            raise UsageError(f"n_boot={self.n_boot!r}: expected an integer >= 0")
        fixed = {**(self.fixed or {}), **self._implied_fixed()}
        for name in fixed:
            self._param(name)
        return fixed, [p for p in self.parameters if p.name not in fixed]

    def _model_function(self) -> Callable:
        """The model function (a class's ``function``; models with a ``kind`` setting pick one)."""
        return type(self).function

    def _evaluate(self, x: np.ndarray, values: dict) -> np.ndarray:
        return self._model_function()(x, **{p.keyword: values[p.name] for p in self.parameters})

    # -- fitting ------------------------------------------------------------------------------
    def _residual_function(self, x, y, free, fixed) -> Callable:
        func = self._model_function()
        fixed_kw = {self._param(name).keyword: value for name, value in fixed.items()}
        keywords = [p.keyword for p in free]

        def residuals(theta):
            return func(x, **fixed_kw, **dict(zip(keywords, theta))) - y

        return residuals

    def _solve(self, x, y, free, fixed, start):
        """Bounded least squares (scipy's trust-region reflective) from ``start``."""
        lower = np.array([p.lower for p in free])
        upper = np.array([p.upper for p in free])
        start = np.clip(start, lower, upper)
        # Keep the start strictly inside finite bounds: trf needs an interior point.
        span = np.where(np.isfinite(upper - lower), upper - lower, np.abs(start) + 1.0)
        start = np.clip(start, lower + 1e-9 * span, upper - 1e-9 * span)
        with np.errstate(all="ignore"):
            return optimize.least_squares(self._residual_function(x, y, free, fixed), start,
                                          bounds=(lower, upper), x_scale="jac", method="trf",
                                          max_nfev=self.max_nfev or 200 * (len(free) + 1))

    def _refit(self, x, y, free, fixed, start) -> np.ndarray | None:
        """A fast bounded refit for the bootstrap: MINPACK Levenberg-Marquardt
        (``scipy.optimize.leastsq``) on parameters mapped into their bounds with lmfit's
        transforms (lmfit docs, "Bounds Implementation", after MINUIT). None if it fails."""
        to_p, to_q = _bound_transforms(free)
        residuals = self._residual_function(x, y, free, fixed)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # maxfev reached: counted as failed
            q, ier = optimize.leastsq(lambda q: residuals(to_p(q)), to_q(start),
                                      maxfev=200 * (len(free) + 1))[:2]
        theta = np.array(to_p(q))
        return theta if ier in (1, 2, 3, 4) and np.all(np.isfinite(theta)) else None

    def fit(self, x, y):
        """Fit the model to points (x, y); returns ``self`` with the learned ``*_`` attributes."""
        fixed, free = self._validated_settings()
        x = self._prepare_x(x)
        y = np.asarray(y, dtype=float)
        what = f"{self.label} fit"
        if y.ndim != 1 or x.shape[-1] != y.shape[0]:
            raise ModelFitError(
                f"{what}: expected x and y of the same length, found {x.shape[-1]} and {y.size}"
            )
        bad = ~np.isfinite(y) | ~np.isfinite(x).reshape(-1, y.size).all(axis=0)
        if bad.any():
            raise ModelFitError(
                f"{what}: expected finite x and y, found {int(bad.sum())} non-finite point(s) "
                f"(first at index {int(np.flatnonzero(bad)[0])})"
            )
        outside = self._domain_error(x)
        if outside:
            raise ModelFitError(f"{what}: {outside}")
        n, k = y.size, len(free)
        if n < k:
            raise ModelFitError(
                f"{what}: fewer points than parameters: {n} point(s) cannot determine {k} "
                f"parameters ({', '.join(p.name for p in free)}); fix some with fixed={{...}} or "
                f"use a special case with fewer parameters"
            )
        guess = {**self.guess(x, y), **fixed}
        start = np.array([guess[p.name] for p in free], dtype=float)
        try:
            res = self._solve(x, y, free, fixed, start)
        except ValueError as err:  # scipy: residuals not finite at the start, and the like
            raise ModelFitError(f"{what}: no convergence: {err}") from None
        if res.status <= 0 or not np.all(np.isfinite(res.x)):
            raise ModelFitError(f"{what}: no convergence: {res.message}")
        theta = res.x
        values = {**fixed, **{p.name: float(v) for p, v in zip(free, theta)}}
        resid = self._evaluate(x, values) - y
        rss = float(resid @ resid)
        dof = n - k
        notes: list[str] = []

        cov, unidentified = _covariance(res.jac, rss, dof)
        stderr = np.sqrt(np.clip(np.diag(cov), 0, None)) if k else np.array([])
        stderr = np.where(unidentified, math.nan, stderr)
        t = stats.t.ppf(0.5 + CI_LEVEL / 2, dof) if dof > 0 else math.nan

        self.params_ = values
        self.fixed_ = fixed
        self.stderr_ = {p.name: 0.0 for p in self.parameters if p.name in fixed}
        self.ci_ = {}
        for p, v, se, unid in zip(free, theta, stderr, unidentified):
            self.stderr_[p.name] = float(se)
            lo, hi = v - t * se, v + t * se
            if np.isfinite(lo) and (lo < p.lower or hi > p.upper):
                notes.append(f"the covariance interval of {p.name} was clipped to its bounds "
                             f"{_bounds(p.lower, p.upper)}")
            self.ci_[p.name] = (float(max(lo, p.lower)) if np.isfinite(lo) else math.nan,
                                float(min(hi, p.upper)) if np.isfinite(hi) else math.nan)
            if unid:
                notes.append(f"{p.name} is not identified by these data (singular covariance): "
                             f"its value is one of many that fit equally well; no interval")
            if self._at_bound(v, p):
                msg = f"{p.name} is at its bound ({_fmt(v)}); its interval is one-sided"
                if self.on_bound == "raise":
                    raise ModelFitError(f"{what}: {msg}")
                notes.append(msg)
        if dof == 0:
            notes.append(f"{n} points for {k} parameters: no residual degrees of freedom, so no "
                         f"standard errors or intervals")
        elif n < FEW_POINTS:
            notes.append(f"only {n} points for {k} parameters: intervals are wide and rely on the "
                         f"model being right")
        self.n_, self.dof_, self.rss_ = n, dof, rss
        self.rse_ = math.sqrt(rss / dof) if dof > 0 else math.nan
        # With no residual dof the likelihood is unbounded (rss -> 0): AIC/BIC are undefined.
        self.aic_, self.bic_ = _information(n, k, rss) if dof > 0 else (math.nan, math.nan)
        self.x_, self.y_ = x, y
        self.ci_boot_ = self._bootstrap(x, y, free, fixed, theta, resid, notes) if dof > 0 else {
            p.name: (math.nan, math.nan) for p in free}
        for p, unid in zip(free, unidentified):
            if unid:  # resamples cannot move a parameter the data do not constrain
                self.ci_boot_[p.name] = (math.nan, math.nan)
        for p in free:
            if _disagree(self.ci_[p.name], self.ci_boot_[p.name]):
                notes.append(f"covariance and bootstrap intervals of {p.name} disagree "
                             f"({_fmt_ci(self.ci_[p.name])} vs {_fmt_ci(self.ci_boot_[p.name])}): "
                             f"the model is far from linear in {p.name} here or there are too few "
                             f"points for either interval; treat both as rough")
        self.notes_ = notes
        return self

    @staticmethod
    def _at_bound(v: float, p: Parameter) -> bool:
        return any(np.isfinite(b) and abs(v - b) <= BOUND_RTOL * max(1.0, abs(b)) for b in (p.lower, p.upper))

    def _bootstrap(self, x, y, free, fixed, theta, resid, notes) -> dict:
        """95% percentile intervals from ``n_boot`` seeded refits, each started at the fit."""
        names = [p.name for p in free]
        if self.n_boot == 0 or not free:
            return {name: (math.nan, math.nan) for name in names}
        rng = np.random.default_rng(self.seed)
        n, k = y.size, len(free)
        fitted = y + resid
        # Least-squares residuals are too small by about sqrt((n-k)/n) and, for a nonlinear model,
        # need not average zero: inflate and centre them (Davison & Hinkley 1997, *Bootstrap
        # Methods and their Application*, ch. 6, residual resampling without leverage terms).
        scaled = -resid * math.sqrt(n / (n - k))
        scaled -= scaled.mean()
        draws = np.full((self.n_boot, k), math.nan)
        for b in range(self.n_boot):
            idx = rng.integers(0, n, n)
            if self.bootstrap == "residual":
                xb, yb = x, fitted + scaled[idx]
            else:
                xb, yb = x[..., idx], y[idx]
            refit = self._refit(xb, yb, free, fixed, theta)
            if refit is not None:
                draws[b] = refit
        failed = int(np.isnan(draws[:, 0]).sum())
        if failed > BOOT_FAIL_SHARE * self.n_boot:
            notes.append(f"{failed} of {self.n_boot} bootstrap refits failed; the bootstrap "
                         f"intervals use the rest")
        self.boot_draws_ = draws
        lo, hi = np.nanpercentile(draws, [50 * (1 - CI_LEVEL), 50 * (1 + CI_LEVEL)], axis=0)
        return {name: (float(a), float(b)) for name, a, b in zip(names, lo, hi)}

    # -- using a fit --------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ModelFitError(f"{self.label}: call fit(...) before using the fitted parameters")

    def _values(self, overrides: dict) -> dict:
        """Fitted values with what-if overrides (by parameter name) applied."""
        if overrides:
            for name in overrides:
                self._param(name)
        if not hasattr(self, "params_"):
            missing = [p.name for p in self.parameters if p.name not in overrides]
            if missing:
                raise ModelFitError(f"{self.label}: call fit(...) or pass {missing} explicitly")
            return dict(overrides)
        return {**self.params_, **overrides}

    def predict(self, x, **overrides) -> np.ndarray:
        """Model values at ``x`` from the fitted parameters (any overridden by name)."""
        return self._evaluate(self._prepare_x(x), self._values(overrides))

    def predict_draws(self, x) -> np.ndarray:
        """The fitted curve at ``x`` of every bootstrap refit: one row per refit (``n_boot`` rows,
        a row of NaN for a refit that failed; no rows without a bootstrap), one column per x."""
        self._check_fitted()
        x = self._prepare_x(x)
        draws = getattr(self, "boot_draws_", None)
        if draws is None or self.n_boot == 0:
            return np.empty((0, x.shape[-1]))
        names = [p.name for p in self.parameters if p.name not in self.fixed_]
        out = np.full((len(draws), x.shape[-1]), math.nan)
        for i, row in enumerate(draws):
            if np.all(np.isfinite(row)):
                out[i] = self._evaluate(x, {**self.fixed_, **dict(zip(names, row))})
        return out

    def predict_band(self, x, level: float = CI_LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Band of the fitted curve at ``x`` holding ``level`` of the bootstrap refits' predictions
        (percentiles; NaN without a bootstrap). See :func:`band`."""
        return band(self.predict_draws(x), level)

    def summary(self) -> FitSummary:
        """The fit as a table: parameter, unit, value +/- stderr, both 95% intervals, Notes."""
        self._check_fitted()
        x_unit, y_unit = self.units_
        rows = []
        for p in self.parameters:
            is_fixed = p.name in self.fixed_
            rows.append({
                "name": p.name, "unit": self.unit(p.name), "value": self.params_[p.name],
                "stderr": self.stderr_[p.name], "fixed": is_fixed,
                "ci": None if is_fixed else self.ci_[p.name],
                "ci_boot": None if is_fixed else self.ci_boot_[p.name],
            })
        boot = f"{self.n_boot} {self.bootstrap}, seed {self.seed}" if self.n_boot else "off"
        return FitSummary(
            title=f"{self.label} fit: {self.y_name} [{y_unit}] vs {self.x_name} [{x_unit}]",
            rows=rows,
            stats={"n": self.n_, "k": len(self.parameters) - len(self.fixed_), "dof": self.dof_,
                   "rse": self.rse_, "y_unit": y_unit, "aic": self.aic_, "bic": self.bic_,
                   "boot": boot},
            notes=list(self.notes_),
        )

    def to_dict(self) -> dict:
        """JSON-ready result: ``{"model", "n", "params": {name: {"value", "unit", "ci95", ...}}}``
        with NaN as ``None``; ``ci95`` is the covariance interval, ``ci95_bootstrap`` the other."""
        self._check_fitted()

        def num(v):
            return float(v) if v is not None and np.isfinite(v) else None

        params = {}
        for p in self.parameters:
            is_fixed = p.name in self.fixed_
            params[p.name] = {
                "value": num(self.params_[p.name]),
                "unit": self.unit(p.name),
                "stderr": num(self.stderr_[p.name]),
                "fixed": is_fixed,
                "ci95": None if is_fixed else [num(v) for v in self.ci_[p.name]],
                "ci95_bootstrap": None if is_fixed else [num(v) for v in self.ci_boot_[p.name]],
            }
        return {"model": self.label, "n": self.n_, "dof": self.dof_, "params": params,
                "rse": num(self.rse_), "aic": num(self.aic_), "bic": num(self.bic_),
                "bootstrap": {"resamples": self.n_boot, "kind": self.bootstrap, "seed": self.seed},
                "notes": list(self.notes_)}


def band(draws: np.ndarray, level: float = CI_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` percentile band (e.g. 0.95: 2.5th to 97.5th) of ``draws`` (rows: bootstrap
    refits, columns: points), over the rows without NaN; NaN where no row is complete.

    The one bootstrap band of the suite: ``CurveModel.predict_band`` and any derived quantity
    (e.g. a ratio of two fits' ``predict_draws``) go through it.
    """
    if not 0 < level < 1:
        raise UsageError(f"level={level!r}: expected a share between 0 and 1")
    draws = np.asarray(draws, dtype=float)
    size = draws.shape[-1] if draws.ndim == 2 else 0
    ok = draws[~np.isnan(draws).any(axis=1)] if draws.size else draws
    if len(ok) == 0:
        nan = np.full(size, math.nan)
        return nan, nan.copy()
    tail = round(50 * (1 - level), 10)  # 2.5 for 0.95, 5.0 for 0.90 (no float residue)
    lo, hi = np.percentile(ok, [tail, 100 - tail], axis=0)
    return lo, hi


def _bound_transforms(free: list[Parameter]):
    """(to_p, to_q): maps between bounded parameters p and unbounded q, per lmfit's transforms:
    both bounds p = lo + (sin q + 1)(hi - lo)/2; lower only p = lo - 1 + sqrt(q^2 + 1); upper only
    p = hi + 1 - sqrt(q^2 + 1); none p = q. Scalar math per parameter: these run inside every
    residual evaluation of the bootstrap, where numpy's per-call overhead dominated.

    ``to_q`` (used for starting points only) keeps q off the points where dp/dq = 0 (a parameter
    exactly at its bound), where Levenberg-Marquardt could never move it: q >= START_Q for
    one-sided bounds, |q| <= EDGE_Q for two-sided ones."""
    forward, backward = [], []
    for p in free:
        lo, hi = p.lower, p.upper
        if math.isfinite(lo) and math.isfinite(hi):
            forward.append(lambda q, lo=lo, hi=hi: lo + (math.sin(q) + 1) * (hi - lo) / 2)
            backward.append(lambda v, lo=lo, hi=hi: min(max(
                math.asin(min(max(2 * (v - lo) / (hi - lo) - 1, -1), 1)), -EDGE_Q), EDGE_Q))
        elif math.isfinite(lo):
            forward.append(lambda q, lo=lo: lo - 1 + math.sqrt(q * q + 1))
            backward.append(lambda v, lo=lo: max(math.sqrt(max((v - lo + 1) ** 2 - 1, 0)), START_Q))
        elif math.isfinite(hi):
            forward.append(lambda q, hi=hi: hi + 1 - math.sqrt(q * q + 1))
            backward.append(lambda v, hi=hi: max(math.sqrt(max((hi - v + 1) ** 2 - 1, 0)), START_Q))
        else:
            forward.append(float)
            backward.append(float)

    def to_p(q):
        return [f(v) for f, v in zip(forward, q)]

    def to_q(values):
        return np.array([f(v) for f, v in zip(backward, values)])

    return to_p, to_q


def domain_message(name: str, values: np.ndarray, ok: np.ndarray, expected: str) -> str | None:
    """``"expected <name> <expected>, found <value> (index i)"`` for the first bad value, or None."""
    bad = np.flatnonzero(~ok)
    if not bad.size:
        return None
    i = int(bad[0])
    return f"expected {name} {expected}, found {values[i]:g} (index {i})"


def _disagree(cov_ci, boot_ci) -> bool:
    """True when an end of the two intervals differs by more than DISAGREE_SHARE of the
    covariance interval's width (both must be finite)."""
    vals = np.array([*cov_ci, *boot_ci], dtype=float)
    if not np.all(np.isfinite(vals)):
        return False
    width = vals[1] - vals[0]
    if width <= 0:
        return False
    return bool(max(abs(vals[0] - vals[2]), abs(vals[1] - vals[3])) > DISAGREE_SHARE * width)


def compare(fits: dict) -> "pandas.DataFrame":  # noqa: F821 - pandas imported lazily
    """Rank fitted models of the same data by AIC: one row per model with n, k, RSS, AIC, BIC,
    delta AIC and Akaike weight (Burnham & Anderson 2002, eq. 2.14)."""
    import pandas as pd

    rows = []
    for name, model in fits.items():
        model._check_fitted()
        rows.append({"model": name, "n": model.n_, "k": len(model.parameters) - len(model.fixed_),
                     "rss": model.rss_, "aic": model.aic_, "bic": model.bic_})
    table = pd.DataFrame(rows).set_index("model")
    table["delta_aic"] = table["aic"] - table["aic"].min()
    weights = np.exp(-table["delta_aic"] / 2)
    table["akaike_weight"] = weights / weights.sum()
    return table.sort_values("aic")
