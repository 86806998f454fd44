"""Speed of the USL bootstrap against plain ``scipy.optimize.curve_fit`` calls, side by side.

Workload (issue 5): a USL fit on 20 points (1..20 guests, seeded synthetic throughput with 2%
Gaussian noise) with a 1,000-resample residual bootstrap, i.e. ``USL(n_boot=1000).fit(n, y)``,
against 1,000 plain ``curve_fit`` calls of the same model on the same data (unbounded
Levenberg-Marquardt, the same data-derived start each time). Both run in this process,
interleaved, several times; we print min and median wall time of each and their ratio
(goal: at most 1.5x). The bootstrap does more per refit than curve_fit (bounds via lmfit-style
transforms, resampling), and also the main bounded fit, covariance and intervals.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_models.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import scipy
from scipy.optimize import curve_fit

from analysis.models import USL, usl

N_POINTS = 20
RESAMPLES = 1000
GOAL_RATIO = 1.5


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    n = np.arange(1.0, N_POINTS + 1)
    y = usl(n, lam=1e5, sigma=0.05, kappa=0.002)
    return n, y + 0.02 * y.max() * np.random.default_rng(seed).standard_normal(n.size)


def _bootstrap_fit(n, y) -> float:
    start = time.perf_counter()
    USL(n_boot=RESAMPLES, seed=1).fit(n, y)
    return time.perf_counter() - start


def _plain_curve_fits(n, y) -> float:
    def model(n, lam, sigma, kappa):
        return usl(n, lam=lam, sigma=sigma, kappa=kappa)

    p0 = list(USL().guess(n, y).values())
    start = time.perf_counter()
    for _ in range(RESAMPLES):
        curve_fit(model, n, y, p0=p0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs of each (default 5)")
    args = parser.parse_args()
    n, y = _data()
    _bootstrap_fit(n, y), _plain_curve_fits(n, y)  # warm-up: imports, caches
    boot, plain = [], []
    for _ in range(args.repeats):
        boot.append(_bootstrap_fit(n, y))
        plain.append(_plain_curve_fits(n, y))
    print(f"USL on {N_POINTS} points, {RESAMPLES} resamples; python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}; {args.repeats} interleaved runs")
    print(f"{'':34}{'min s':>9}{'median s':>10}")
    print(f"{'USL fit + 1000-resample bootstrap':34}{min(boot):9.3f}{statistics.median(boot):10.3f}")
    print(f"{'1000 x curve_fit (baseline)':34}{min(plain):9.3f}{statistics.median(plain):10.3f}")
    ratio = min(boot) / min(plain)
    verdict = "meets" if ratio <= GOAL_RATIO else "MISSES"
    print(f"ratio (min/min): {ratio:.2f}x; median/median: "
          f"{statistics.median(boot) / statistics.median(plain):.2f}x ({verdict} the goal of <= {GOAL_RATIO}x)")


if __name__ == "__main__":
    main()
