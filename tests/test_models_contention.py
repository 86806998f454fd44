"""analysis.models.contention: the three contention models made alike, compared by AIC/BIC and by
leave-one-guest-count-out error, recovering the model that generated the data."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import UsageError
from analysis.models import contention
from analysis.models.lock_collapse import collapse_iops
from analysis.models.usl import usl

CHAIN = {"think_us": 4.2, "hold_base_us": 0.79, "hold_per_cpu_us": 0.0, "handoff_us": 0.21}  # the thread's
GUESTS = np.repeat(np.arange(1, 13), 2).astype(float)


def _noisy(values, seed=3, share=0.01):
    rng = np.random.default_rng(seed)
    return values * (1 + share * rng.standard_normal(values.shape))


def test_unknown_model_name_is_named():
    with pytest.raises(UsageError, match=r"name='amdahl': expected one of usl, mva, lock-collapse"):
        contention.make("amdahl")


def test_data_from_the_lock_collapse_chain_is_best_predicted_by_the_chain():
    iops = _noisy(collapse_iops(np.vstack([GUESTS, np.full_like(GUESTS, 24)]), **CHAIN))
    table = contention.compare(GUESTS, iops, dom0_cpus=24).set_index("name")
    assert table["fitted"].all()
    assert table.loc["lock-collapse", "loo_rel_rmse"] < 0.03
    assert table["loo_rel_rmse"].idxmin() == "lock-collapse"
    # An FCFS lock only plateaus: it cannot follow the fall past the peak.
    assert table.loc["mva", "loo_rel_rmse"] > 2 * table.loc["lock-collapse", "loo_rel_rmse"]
    assert table.loc["lock-collapse", "aic"] < table.loc["mva", "aic"]


def test_data_from_a_usl_is_predicted_well_by_the_usl():
    iops = _noisy(usl(GUESTS, lam=1e5, sigma=0.05, kappa=0.01))
    table = contention.compare(GUESTS, iops, dom0_cpus=24).set_index("name")
    assert table.loc["usl", "loo_rel_rmse"] < 0.03


def test_a_model_that_cannot_be_fitted_is_a_row_with_its_reason_not_an_error():
    table = contention.compare([1.0, 2.0], [1e5, 1.8e5], dom0_cpus=4)
    assert not table["fitted"].any()
    assert table["note"].str.startswith("not fitted: ").all()
