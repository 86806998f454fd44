"""Gunther's Universal Scalability Law, with its Amdahl and linear special cases.

    X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))

Source: N. J. Gunther, *Guerrilla Capacity Planning* (Springer, 2007), eq. 4.31 (p. 57); the
peak N* = sqrt((1 - sigma) / kappa) is eq. 4.33 there, as R usl's ``scalability()`` and
``peak.scalability()`` cite them (R/scalability.R). Setting kappa = 0 gives Amdahl's law, sigma = kappa = 0 linear scaling.
"""

from __future__ import annotations

import math

import numpy as np

from scipy import optimize

from analysis.models.base import CurveModel, Parameter, domain_message

# least_squares tolerances of the USL fit (scipy's default 1e-8 stops early in its valley).
_TIGHT = 1e-15


def usl(n, *, lam, sigma, kappa):
    """Throughput at concurrency ``n`` (e.g. guests) under the USL, in the unit of ``lam``.

    lam: throughput of one unit of concurrency (e.g. IOPS of one guest alone).
    sigma: contention, the serialised share of the work (dimensionless, 0..1).
    kappa: coherency, the pairwise cross-talk cost per pair of units (dimensionless, >= 0).
    """
    n = np.asarray(n, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def _peak_n(sigma: float, kappa: float) -> float:
    """N* = sqrt((1 - sigma) / kappa) (Gunther 2007, eq. 4.33); inf when kappa = 0."""
    if kappa <= 0:
        return math.inf
    return math.sqrt(max(1 - sigma, 0.0) / kappa)


def _quadratic_coefficients(x, t):
    """(a, b, c) of t = a + b x + c x^2 by least squares, or None with < 3 distinct x or NaN."""
    ok = np.isfinite(t)
    if np.unique(x[ok]).size < 3:
        return None
    c, b, a = np.polyfit(x[ok], t[ok], 2)
    return float(a), float(b), float(c)


class USL(CurveModel):
    """Universal Scalability Law fitted to throughput vs concurrency.

    ``fit(n, throughput)``: n = concurrency (e.g. guests, jobs; > 0), throughput in any unit
    (e.g. IOPS). ``params_``: ``lambda`` (throughput per unit of concurrency at N = 1, in
    y_unit/x_unit), ``sigma`` (contention, dimensionless, 0..1), ``kappa`` (coherency,
    dimensionless, >= 0). Settings as :class:`~analysis.models.base.CurveModel`.
    """

    label = "USL"
    x_name, y_name = "concurrency", "throughput"
    default_units = ("N", "ops/s")
    parameters = (
        Parameter("lambda", "{y}/{x}", "throughput of one unit of concurrency alone (N = 1)",
                  lower=0.0, arg="lam"),
        Parameter("sigma", "1", "contention: share of the work that is serialised", 0.0, 1.0),
        Parameter("kappa", "1", "coherency: cost of cross-talk per pair of units", 0.0),
    )
    function = staticmethod(usl)

    def _domain_error(self, x):
        return domain_message("concurrency", x, x > 0, "> 0")

    def _solve(self, x, y, free, fixed, start):
        """Bounded least squares (trust-region reflective) with the USL's analytic Jacobian and
        tight tolerances.

        The USL's lambda and sigma lie in a long, narrow valley of the residual sum of squares.
        With finite-difference derivatives and scipy's default tolerances (1e-8) the solver
        stopped early there: on SPEC SDM91 (R usl's ``specsdm91``) at lambda = 89.99493, sigma =
        0.0277283, where R usl 3.0.3 (nlxb, analytic derivatives) prints 89.9952330 and
        0.0277285 (smoeding/usl README.md). With the exact derivatives

            dX/dlambda = N / D,  dX/dsigma = -lambda N (N - 1) / D^2,
            dX/dkappa = -lambda N^2 (N - 1) / D^2,  D = 1 + sigma (N - 1) + kappa N (N - 1)

        and tolerances of 1e-15 the fit reaches the optimum to 8 significant digits of lambda;
        tests/test_corpus.py checks every published USL fit to the precision its source printed.
        Falls back to the generic solver if this one does not converge.
        """
        names = [p.name for p in free]
        lower = np.array([p.lower for p in free])
        upper = np.array([p.upper for p in free])
        span = np.where(np.isfinite(upper - lower), upper - lower, np.abs(start) + 1.0)
        start = np.clip(np.clip(start, lower, upper), lower + 1e-9 * span, upper - 1e-9 * span)

        def values(theta):
            return {**fixed, **dict(zip(names, theta))}

        def residuals(theta):
            v = values(theta)
            return usl(x, lam=v["lambda"], sigma=v["sigma"], kappa=v["kappa"]) - y

        def jacobian(theta):
            v = values(theta)
            d = 1 + v["sigma"] * (x - 1) + v["kappa"] * x * (x - 1)
            columns = {"lambda": x / d, "sigma": -v["lambda"] * x * (x - 1) / d**2,
                       "kappa": -v["lambda"] * x * x * (x - 1) / d**2}
            return np.column_stack([columns[name] for name in names])

        try:
            with np.errstate(all="ignore"):
                res = optimize.least_squares(residuals, start, jac=jacobian, bounds=(lower, upper),
                                             x_scale="jac", method="trf", ftol=_TIGHT, xtol=_TIGHT,
                                             gtol=_TIGHT, max_nfev=self.max_nfev or 200 * (len(free) + 1))
        except ValueError:
            res = None
        if res is None or res.status <= 0 or not np.all(np.isfinite(res.x)):
            return super()._solve(x, y, free, fixed, start)
        return res

    def guess(self, x, y):
        """Starting values from the quadratic N / X(N) = (1 - sigma)/lambda
        + (sigma - kappa)/lambda N + kappa/lambda N^2 (the USL's linearisation, as in Schwartz &
        Fortune 2010, "Forecasting MySQL Scalability with the Universal Scalability Law"), fitted
        by linear least squares; falls back to the best throughput per unit when that fails."""
        coef = _quadratic_coefficients(x, x / np.where(y > 0, y, np.nan))
        if coef is not None and sum(coef) > 0:
            a, b, c = coef
            lam = 1 / (a + b + c)
            return {"lambda": lam, "sigma": min(max(lam * (b + c), 1e-3), 0.99),
                    "kappa": max(lam * c, 1e-6)}
        return {"lambda": float(np.max(y / x)), "sigma": 0.01, "kappa": 1e-4}

    def peak(self, **overrides) -> tuple[float, float]:
        """(N*, X(N*)): the concurrency of peak throughput and that throughput.

        N* = sqrt((1 - sigma) / kappa) (Gunther 2007, eq. 4.33; R usl ``peak.scalability``);
        (inf, lambda / sigma) when kappa = 0 (Amdahl's asymptote; inf if sigma is 0 too).
        Overrides (``lambda=``, ``sigma=``, ``kappa=``) default to the fitted values.
        """
        v = self._values(overrides)
        n_star = _peak_n(v["sigma"], v["kappa"])
        if math.isinf(n_star):
            return n_star, (v["lambda"] / v["sigma"] if v["sigma"] > 0 else math.inf)
        return n_star, float(usl(n_star, lam=v["lambda"], sigma=v["sigma"], kappa=v["kappa"]))

    def efficiency(self, n, **overrides) -> np.ndarray:
        """X(N) / (lambda N): the share of linear scaling achieved at concurrency ``n`` (0..1)
        (R usl ``efficiency``)."""
        v = self._values(overrides)
        n = np.asarray(n, dtype=float)
        return usl(n, lam=v["lambda"], sigma=v["sigma"], kappa=v["kappa"]) / (v["lambda"] * n)


class Amdahl(USL):
    """USL with kappa fixed at 0: Amdahl's law X(N) = lambda N / (1 + sigma (N - 1))."""

    label = "Amdahl"

    def _implied_fixed(self):
        return {"kappa": 0.0}


class Linear(USL):
    """USL with sigma = kappa = 0: X(N) = lambda N (ideal scaling)."""

    label = "Linear"

    def _implied_fixed(self):
        return {"sigma": 0.0, "kappa": 0.0}


def peak_ratio_bounds(n_peak: float, n_later: float) -> tuple[float, float]:
    """The range of X(n_later) / X(n_peak) over every USL with sigma, kappa >= 0 whose peak is
    at N* = n_peak (n_later > n_peak).

    With the peak pinned, kappa = (1 - sigma) / n_peak**2, so both denominators of the ratio are
    linear in sigma and the ratio is monotone in sigma on [0, 1): its range is spanned by
    sigma = 0 and sigma -> 1 (where kappa -> 0 and the ratio -> 1). This is the analytic check the
    scaling notebook applies to the seed thread's numbers.
    """
    def ratio(sigma):
        kappa = (1 - sigma) / n_peak**2
        x = usl(np.array([n_peak, n_later]), lam=1.0, sigma=sigma, kappa=kappa)
        return float(x[1] / x[0])

    ends = ratio(0.0), ratio(1 - 1e-12)
    return min(ends), max(ends)


def integer_peak_ratio_range(n_peak: int, n_later: int, *, grid: int = 400) -> tuple[float, float, int]:
    """(min, max, count) of X(n_later) / X(n_peak) over a grid of USLs (sigma in [0, 1), kappa
    log-spaced in [1e-6, 10]) whose best *integer* load in 1..n_later is n_peak.

    The numerical companion of :func:`peak_ratio_bounds`: "a bottleneck at 5 guests" read as "5
    did best among the guest counts tried" rather than N* = 5 exactly. ``count`` is the number of
    grid USLs that qualify (NaN ratios if none does).
    """
    sigma = np.linspace(0.0, 0.999, grid)[:, None, None]
    kappa = np.logspace(-6, 1, grid)[None, :, None]
    n = np.arange(1, n_later + 1, dtype=float)[None, None, :]
    x = usl(n, lam=1.0, sigma=sigma, kappa=kappa)
    best = x.argmax(axis=2) + 1
    ratio = x[..., n_later - 1] / x[..., n_peak - 1]
    chosen = ratio[best == n_peak]
    if chosen.size == 0:
        return math.nan, math.nan, 0
    return float(chosen.min()), float(chosen.max()), int(chosen.size)
