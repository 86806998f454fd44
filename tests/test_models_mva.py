"""analysis.models.mva: the exact MVA of the flush lock recovers its parameters, never falls and
saturates at the lock."""

import numpy as np
import pytest

from analysis.models import flush_path as fp
from analysis.models.mva import FlushMVA, mva_iops
from tests.flush_truth import FITTED, MVA, noisy, stack


def test_mva_recovers_its_parameters_within_their_intervals():
    y = noisy(mva_iops, MVA, FITTED, 6)
    fixed = {k: MVA[k] for k in ("hold_per_cpu_us", "handler_us")}
    fit = FlushMVA(n_boot=0, fixed=fixed).fit(FITTED, y)
    for name in ("think_us", "cpu_us", "hold_base_us"):
        lo, hi = fit.ci_[name]
        assert lo <= MVA[name] <= hi, (name, fit.ci_[name])


def test_mva_never_falls_and_saturates_at_the_lock():
    n = np.arange(1, 200, dtype=float)
    x = mva_iops(stack(n), **{**MVA, "handler_us": 0.0})
    assert np.all(np.diff(x) >= -1e-9 * x[1:])
    assert x[-1] == pytest.approx(1e6 / (MVA["hold_base_us"] + 23 * MVA["hold_per_cpu_us"]), rel=1e-3)
    assert fp.mva_min_ratio(5, 10, draws=200) >= 1 - 1e-9
