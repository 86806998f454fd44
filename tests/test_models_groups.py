"""analysis.models.groups.fit_groups: one fit per group recovers each group's known parameters;
rows without a group, non-finite values and failed fits are named, never dropped."""

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ModelFitError
from analysis.models import USL, Linear
from analysis.models.groups import fit_groups

TRUTH = {"a": {"lam": 1000.0, "sigma": 0.05, "kappa": 0.0}, "b": {"lam": 1200.0, "sigma": 0.02, "kappa": 0.02}}


def _table(seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    rows = []
    for mode, p in TRUTH.items():
        for n in range(1, 13):
            x = p["lam"] * n / (1 + p["sigma"] * (n - 1) + p["kappa"] * n * (n - 1))
            rows.append({"mode": mode, "guests": n, "iops": x * (1 + noise * rng.standard_normal())})
    return pd.DataFrame(rows).sample(frac=1, random_state=1)  # group order must not depend on row order


def test_each_group_recovers_its_own_parameters():
    fits = fit_groups(_table(), "mode", "guests", "iops", lambda: USL(n_boot=0))
    assert [f.key for f in fits] == [{"mode": "a"}, {"mode": "b"}]
    for fit in fits:
        truth = TRUTH[fit.key["mode"]]
        assert fit.model.params_["lambda"] == pytest.approx(truth["lam"], rel=0.05)
        assert fit.model.params_["kappa"] == pytest.approx(truth["kappa"], abs=0.005)
        assert len(fit.x) == 12 and fit.label == f"mode={fit.key['mode']}"


def test_no_by_is_one_group_of_every_row():
    (fit,) = fit_groups(_table(), None, "guests", "iops", lambda: Linear(n_boot=0))
    assert fit.key == {} and len(fit.x) == 24


def test_a_row_without_a_group_is_an_error_naming_the_parameter_and_row():
    table = _table().reset_index(drop=True)
    table.loc[4, "mode"] = None
    with pytest.raises(ModelFitError, match=r"^column 'mode' \(by\): expected a group in every row, found an empty "
                                            r"cell in data row 5$"):
        fit_groups(table, "mode", "guests", "iops", lambda: USL(n_boot=0))


def test_a_non_finite_value_names_column_and_row():
    table = _table().reset_index(drop=True)
    table.loc[2, "iops"] = np.inf
    with pytest.raises(ModelFitError, match=r"^column 'iops': expected finite numbers, found 'inf' in data row 3$"):
        fit_groups(table, "mode", "guests", "iops", lambda: USL(n_boot=0))


def test_too_few_x_values_skip_and_failed_fits_raise_or_are_kept():
    table = pd.concat([_table(), pd.DataFrame({"mode": ["c", "c"], "guests": [1, 2], "iops": [1.0, 2.0]})])
    fits = fit_groups(table, "mode", "guests", "iops", lambda: USL(n_boot=0), min_x_values=3)
    assert [f.skipped for f in fits] == [False, False, True] and fits[2].model is None
    with pytest.raises(ModelFitError, match=r"^\(mode=c\): columns 'guests'/'iops': USL fit: fewer points than"):
        fit_groups(table, "mode", "guests", "iops", lambda: USL(n_boot=0))
    kept = fit_groups(table, "mode", "guests", "iops", lambda: USL(n_boot=0), on_error="note")
    assert kept[2].model is None and "fewer points than parameters" in str(kept[2].error)
