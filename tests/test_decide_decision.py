"""analysis.decide.decision: per-mode USL fits recover a known crossover; memory follows the ring geometry."""

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.decide import decision

# Known truth: persistent grants scale without coherency cost but start slower (the copy);
# non-persistent ones start faster and fall after N* = sqrt((1 - 0.02) / 0.02) = 7 guests.
TRUTH = {
    "persistent": {"lam": 1000.0, "sigma": 0.05, "kappa": 0.0},
    "non-persistent": {"lam": 1100.0, "sigma": 0.02, "kappa": 0.02},
}


def _usl(n, lam, sigma, kappa):
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def _runs(seed=1, noise=0.02, guests=range(1, 11), repeats=2, bs="4k"):
    rng = np.random.default_rng(seed)
    rows = []
    for mode, p in TRUTH.items():
        for n in guests:
            for run in range(1, repeats + 1):
                iops = _usl(n, **p) * (1 + noise * rng.standard_normal())
                rows.append({"mode": mode, "guests": n, "dom0_vcpus": 24, "bs": bs, "run": run, "iops": iops,
                             "bw_bytes_s": iops * 4096, "guests_measured": n})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fits():
    return decision.fit_cells(_runs(), draws=100, seed=3)


def test_cells_are_the_conditions_other_than_mode_guests_and_run():
    assert decision.cell_columns(_runs()) == ["dom0_vcpus", "bs"]


def test_each_mode_is_fitted_once_per_cell(fits):
    assert sorted(f.mode for f in fits.cells) == ["non-persistent", "persistent"]
    assert all(f.cell == {"dom0_vcpus": 24, "bs": "4k"} for f in fits.cells)
    table = fits.parameter_table()
    assert len(table) == 2 and {"mode", "runs", "dom0_vcpus", "bs"} <= set(table.columns)


def test_the_ratio_map_recovers_the_known_crossover(fits):
    guests = np.arange(1, 13)
    ratios = decision.ratio_map(fits, guests).set_index("guests")
    truth = _usl(guests, **TRUTH["persistent"]) / _usl(guests, **TRUTH["non-persistent"])
    assert ratios.loc[1, "verdict"] == "non-persistent pays"
    assert (ratios.loc[8:10, "verdict"] == "persistent pays").all()
    measured = ratios.loc[~ratios["extrapolated"]]
    inside = (measured["ratio_low"] <= truth[:10]) & (truth[:10] <= measured["ratio_high"])
    assert inside.mean() >= 0.7, "the 5-95% band should cover the true ratio at most measured guest counts"
    assert ratios.loc[11:, "extrapolated"].all() and not ratios.loc[:10, "extrapolated"].any()


def test_too_few_guest_counts_are_noted_not_fitted():
    runs = _runs(guests=[1, 2])
    fits = decision.fit_cells(runs, draws=10)
    assert fits.cells == []
    assert "persistent, dom0 VCPUs 24, bs 4k: only 2 guest count(s); the USL needs 3 or more" in fits.notes_markdown()
    assert decision.ratio_map(fits, np.arange(1, 5)).empty


def test_persistent_memory_per_host_follows_the_one_page_ring():
    # one-page ring: 32 slots ((4096-64)/112 = 36 -> 32, analysis.xen.blkif); 4k = 1 page per request;
    # 64k = 16 pages, more than 11 direct segments, so an indirect request: + 1 indirect page
    memory = decision.memory_map(np.array([1, 10]), ["4k", "64k"], queues=(1, 4)).set_index(["bs", "queues", "guests"])
    assert memory.loc[("4k", 1, 1), "mem_mib"] == pytest.approx(32 * 4096 / 2**20)
    assert memory.loc[("64k", 1, 10), "mem_mib"] == pytest.approx(10 * 32 * (16 + 1) * 4096 / 2**20)
    assert memory.loc[("64k", 4, 10), "mem_mib"] == pytest.approx(4 * memory.loc[("64k", 1, 10), "mem_mib"])


def test_cost_balance_uses_the_flush_model_band_and_keeps_munmap_as_comparison():
    """The unmap side is the flush-path model's band (one flush per 32 pages); the munmap line
    measured here passes through both measured medians and stays a labelled comparison column."""
    from analysis.ingest import mechanisms
    from analysis.models.flush_path import flush_cost_band
    from analysis.paths import DATA_DIR

    unmaps = mechanisms.load_unmap(DATA_DIR / paths.UNMAP_DIR)
    copies = mechanisms.load_memcpy(DATA_DIR / paths.MEMCPY_DIR)
    balance = decision.cost_balance(unmaps, copies, dom0_vcpus=(1, 2, 24)).set_index(["bs_bytes", "dom0_vcpus"])
    band = flush_cost_band([1, 2, 24]).set_index("dom0_vcpus")
    for pages in sorted(unmaps["pages_per_call"].unique()):
        bs = int(pages) * 4096
        munmap = unmaps[(unmaps["op"] == "munmap") & (unmaps["pages_per_call"] == pages)]
        for k in (0, 1):
            assert balance.loc[(bs, k + 1), "munmap_here_ns"] == pytest.approx(
                munmap.loc[munmap["remote_threads"] == k, "call_ns"].median())
        flushes = -(-int(pages) // 32)
        for v in (1, 2, 24):
            row = balance.loc[(bs, v)]
            assert row["unmap_ns"] == pytest.approx(flushes * band.loc[v, "cost_ns"])
            assert row["unmap_low_ns"] <= row["unmap_ns"] <= row["unmap_high_ns"]
            assert "sensitivity" in row["unmap_band"]
        cold = copies[(copies["impl"] == "c") & (copies["layout"] == "segments") & (copies["cache"] == "cold")
                      & (copies["size_bytes"] == bs)]
        assert balance.loc[(bs, 1), "copy_ns"] == pytest.approx(cold["copy_ns"].median())
        row = balance.loc[(bs, 24)]
        assert row["ratio"] == pytest.approx(row["unmap_ns"] / row["copy_ns"])
        assert row["ratio_low"] <= row["ratio"] <= row["ratio_high"]
    assert not balance.xs(2, level="dom0_vcpus")["extrapolated"].any()
    assert balance.xs(24, level="dom0_vcpus")["extrapolated"].all()


def test_the_two_modes_draw_their_bootstraps_from_independent_seeds_and_bands_are_95(fits):
    """Issue 12 item 4: the ratio band pairs the modes' refits, which must not share a random stream."""
    seeds = [f.model.seed for f in fits.cells]
    assert len(set(seeds)) == len(seeds)
    draws = [f.model.predict_draws(np.array([3.0]))[:, 0] for f in fits.cells]
    assert not np.allclose(draws[0] / draws[0].mean(), draws[1] / draws[1].mean())
    assert decision.BAND_LEVEL == 0.95
