"""Flush-path models (MVA, lock collapse) and what they say about the 2012 statement.

Fits are tested by recovering known parameters: data generated from each model with known
parameters plus noise, fitted on some guest counts, predicted inside the 95% band at the others
(the issue's "done when", through the CLI as a user runs it)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_run import run_cli
from analysis.errors import ModelFitError, UsageError
from analysis.models import flush_path as fp
from analysis.models.lock_collapse import LockCollapse, chain_distribution, collapse_iops
from analysis.models.mva import FlushMVA, mva_iops

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

FITTED = np.array([1, 2, 3, 4, 5, 6, 7, 8, 11, 14], dtype=float)
HELD_OUT = np.array([9, 10, 12, 16], dtype=float)
CHAIN = {"think_us": 4.0, "hold_base_us": 0.3, "hold_per_cpu_us": fp.PUBLISHED_MID["hold_per_cpu_us"],
         "handoff_us": 0.2}
MVA = {"think_us": 6.0, "cpu_us": 2.0, "hold_base_us": 0.9, "hold_per_cpu_us": fp.PUBLISHED_MID["hold_per_cpu_us"],
       "handler_us": fp.PUBLISHED_MID["handler_us"]}
NOISE = 0.02


@pytest.fixture
def thread_points():
    return pd.read_csv(DATA_DIR / "raw" / "seed-thread" / "iops-vs-guests.csv")


def _stack(n, cpus=24):
    n = np.asarray(n, dtype=float)
    return np.vstack([n, np.full_like(n, cpus)])


def _noisy(func, params, n, seed):
    y = func(_stack(n), **params)
    return y * (1 + NOISE * np.random.default_rng(seed).standard_normal(y.size))


@pytest.fixture
def chain_csv(tmp_path):
    path = tmp_path / "chain.csv"
    pd.DataFrame({"guests": FITTED.astype(int), "iops": _noisy(collapse_iops, CHAIN, FITTED, 3)}).to_csv(path, index=False)
    return path


@pytest.fixture
def mva_csv(tmp_path):
    path = tmp_path / "mva.csv"
    pd.DataFrame({"guests": FITTED.astype(int), "iops": _noisy(mva_iops, MVA, FITTED, 4)}).to_csv(path, index=False)
    return path


def _run(argv, capsys):
    return run_cli(["fit", *argv], capsys)


@pytest.mark.parametrize("model, csv, func, truth", [
    ("lock-collapse", "chain_csv", collapse_iops, CHAIN),
    ("mva", "mva_csv", mva_iops, MVA),
])
def test_cli_predicts_unfitted_guest_counts_inside_the_95_band(model, csv, func, truth, request, capsys):
    path = request.getfixturevalue(csv)
    code, out, err = _run([str(path), "--model", model, "--x", "guests", "--y", "iops",
                           "--predict", "9,10,12,16", "--json", "--boot", "300"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    true_y = func(_stack(HELD_OUT), **truth)
    assert [p["x"] for p in doc["predictions"]] == HELD_OUT.tolist()
    for p, y in zip(doc["predictions"], true_y):
        lo, hi = p["ci95"]
        assert lo <= y <= hi, (p, y)
        assert lo <= p["y"] <= hi


def test_lock_collapse_recovers_its_parameters_within_their_intervals():
    y = _noisy(collapse_iops, CHAIN, FITTED, 5)
    fit = LockCollapse(n_boot=200, fixed={"hold_per_cpu_us": CHAIN["hold_per_cpu_us"]}).fit(FITTED, y)
    for name in ("think_us", "hold_base_us", "handoff_us"):
        lo, hi = fit.ci_[name]
        assert lo <= CHAIN[name] <= hi, (name, fit.ci_[name])
    n_star, _ = fit.peak()
    assert n_star == LockCollapse().peak(**CHAIN)[0]


def test_mva_recovers_its_parameters_within_their_intervals():
    y = _noisy(mva_iops, MVA, FITTED, 6)
    fixed = {k: MVA[k] for k in ("hold_per_cpu_us", "handler_us")}
    fit = FlushMVA(n_boot=0, fixed=fixed).fit(FITTED, y)
    for name in ("think_us", "cpu_us", "hold_base_us"):
        lo, hi = fit.ci_[name]
        assert lo <= MVA[name] <= hi, (name, fit.ci_[name])


def test_chain_distribution_satisfies_detailed_balance():
    n, think, hold, handoff = 7, 3.0, 0.8, 0.2
    pi = chain_distribution(n, think_us=think, hold_us=hold, handoff_us=handoff)
    k = np.arange(n)
    flow_up = pi[:-1] * (n - k) / think
    flow_down = pi[1:] / (hold + handoff * (k + 1))
    assert pi.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(flow_up, flow_down, rtol=1e-12)


def test_one_guest_is_one_cycle_of_think_plus_hold_in_both_models():
    # N = 1: no queue, so X = 1 / (think + cpu + hold) exactly
    assert collapse_iops(_stack([1]), **CHAIN)[0] == pytest.approx(
        1e6 / (CHAIN["think_us"] + CHAIN["hold_base_us"] + 23 * CHAIN["hold_per_cpu_us"] + CHAIN["handoff_us"]))
    no_handler = {**MVA, "handler_us": 0.0}
    assert mva_iops(_stack([1]), **no_handler)[0] == pytest.approx(
        1e6 / (MVA["think_us"] + MVA["cpu_us"] + MVA["hold_base_us"] + 23 * MVA["hold_per_cpu_us"]))


def test_mva_never_falls_and_saturates_at_the_lock():
    n = np.arange(1, 200, dtype=float)
    x = mva_iops(_stack(n), **{**MVA, "handler_us": 0.0})
    assert np.all(np.diff(x) >= -1e-9 * x[1:])
    assert x[-1] == pytest.approx(1e6 / (MVA["hold_base_us"] + 23 * MVA["hold_per_cpu_us"]), rel=1e-3)
    assert fp.mva_min_ratio(5, 10, draws=200) >= 1 - 1e-9


def test_thread_statement_only_the_lock_collapse_chain_reproduces(thread_points):
    table = fp.collapse_table(thread_points)
    assert not table.loc["USL", "reproduces"]
    assert table.loc["USL", "x_later"] > 400_000
    assert not table.loc["MVA (FCFS flush lock)", "reproduces"]
    assert table.loc["MVA (FCFS flush lock)", "x_later"] >= table.loc["MVA (FCFS flush lock)", "x_peak"]
    assert table.loc["Lock collapse (Boyd-Wickizer 2012)", "reproduces"]
    family = fp.collapse_family(thread_points)
    ok = family[family["reproduces"]]
    for _, row in ok.iterrows():
        x = collapse_iops(_stack([4, 5, 6, 10]), think_us=row["think_us"], hold_base_us=row["hold_us"],
                          hold_per_cpu_us=0.0, handoff_us=row["handoff_us"])
        assert x[1] == pytest.approx(650_000, rel=0.01) and x[3] == pytest.approx(400_000, rel=0.01)
        assert x[1] > x[0] and x[1] > x[2]
        assert row["hold_us"] <= fp.hold_budget_us(650_000)


def test_flush_cost_band_is_ordered_grows_with_cpus_and_follows_its_formula():
    band = fp.flush_cost_band([1, 4, 24, 64])
    assert (band["cost_low_ns"] <= band["cost_ns"]).all() and (band["cost_ns"] <= band["cost_high_ns"]).all()
    assert band["cost_ns"].is_monotonic_increasing
    mid = fp.PUBLISHED_MID
    row = band.set_index("dom0_vcpus").loc[24]
    assert row["cost_ns"] == pytest.approx(1e3 * (mid["hold_base_us"] + 23 * (mid["hold_per_cpu_us"] + mid["handler_us"])))
    assert "sensitivity" in row["band"]
    with pytest.raises(UsageError, match="dom0_vcpus"):
        fp.flush_cost_band([0])


def test_hold_budget_of_the_peak():
    assert fp.hold_budget_us(650_000) == pytest.approx(1.538, abs=1e-3)


def test_non_integer_guests_are_refused_by_fit_and_cli(chain_csv, capsys):
    with pytest.raises(ModelFitError, match="whole number"):
        LockCollapse(n_boot=0).fit([1.5, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    code, out, err = _run([str(chain_csv), "--model", "mva", "--x", "guests", "--y", "iops",
                           "--predict", "9,10.5"], capsys)
    assert code == 2 and "--predict 9,10.5" in err and "10.5" in err and "Traceback" not in err
    code, out, err = _run([str(chain_csv), "--model", "usl", "--x", "guests", "--y", "iops",
                           "--predict", "9,ten"], capsys)
    assert code == 2 and "'ten'" in err


def test_usl_prediction_table_is_printed(chain_csv, capsys):
    code, out, err = _run([str(chain_csv), "--model", "usl", "--x", "guests", "--y", "iops",
                           "--predict", "12", "--boot", "50"], capsys)
    assert code == 0, err
    assert "Predictions" in out and "95% band" in out
