"""analysis.models.flush_path: what the flush-path models say about the 2012 statement (only the
lock-collapse chain reproduces it), the hold budget of its peak and the per-request flush cost band."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import UsageError
from analysis.models import flush_path as fp
from analysis.models.lock_collapse import collapse_iops
from tests.flush_truth import stack


DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def thread_points():
    return pd.read_csv(DATA_DIR / "raw" / "seed-thread" / "iops-vs-guests.csv")


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
        x = collapse_iops(stack([4, 5, 6, 10]), think_us=row["think_us"], hold_base_us=row["hold_us"],
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
