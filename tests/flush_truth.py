"""Known flush-path parameters (MVA, lock collapse) and noisy throughput generated from them.

Used by tests/test_models_mva.py, tests/test_models_lock_collapse.py, tests/test_models_flush_path.py
and tests/test_cli_fit.py: fits are tested by recovering these parameters from data generated with
them plus noise, fitted on some guest counts and predicted at others.
"""

import numpy as np

from analysis.models import flush_path as fp


FITTED = np.array([1, 2, 3, 4, 5, 6, 7, 8, 11, 14], dtype=float)
CHAIN = {"think_us": 4.0, "hold_base_us": 0.3, "hold_per_cpu_us": fp.PUBLISHED_MID["hold_per_cpu_us"],
         "handoff_us": 0.2}
MVA = {"think_us": 6.0, "cpu_us": 2.0, "hold_base_us": 0.9, "hold_per_cpu_us": fp.PUBLISHED_MID["hold_per_cpu_us"],
       "handler_us": fp.PUBLISHED_MID["handler_us"]}
NOISE = 0.02


def stack(n, cpus=24):
    n = np.asarray(n, dtype=float)
    return np.vstack([n, np.full_like(n, cpus)])


def noisy(func, params, n, seed):
    y = func(stack(n), **params)
    return y * (1 + NOISE * np.random.default_rng(seed).standard_normal(y.size))
