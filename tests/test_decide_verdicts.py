"""analysis.decide.verdicts: the judges decide as documented, the table covers every claim, notebook 00 runs."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import paths
from analysis.decide import verdicts as V
from analysis.ingest import bundle
from analysis.simulated import grants as datasets
from analysis.errors import PgrantLabError
from analysis.models import peak_ratio_bounds, usl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


# --- judges ------------------------------------------------------------------------------------

def test_judge_memory_separates_arithmetic_from_premise():
    assert V.judge_memory(True, True, False).verdict == V.HOLDS
    assert V.judge_memory(True, False, False).verdict == V.WRONG
    assert V.judge_memory(True, False, True).verdict == V.CAVEAT
    assert V.judge_memory(False, True, True).verdict == V.WRONG


def test_judge_usl_peak_accepts_a_real_usl_and_rejects_the_threads_fall():
    bounds = peak_ratio_bounds(5, 10)
    # A USL with sigma = 0.5 and its peak at 5 (kappa = (1 - sigma) / 25) is consistent by construction.
    x5, x10 = usl([5, 10], lam=1.0, sigma=0.5, kappa=0.5 / 25)
    assert V.judge_usl_peak(x10 / x5, bounds).verdict == V.CAVEAT
    # By hand: sigma = 0 gives the steepest fall, X(10)/X(5) = 2 (1 + 20/25) / (1 + 90/25) = 3.6/4.6.
    assert V.judge_usl_peak(3.6 / 4.6 + 1e-9, bounds).verdict == V.CAVEAT
    assert V.judge_usl_peak(400_000 / 650_000, bounds).verdict == V.INCONSISTENT


@pytest.mark.parametrize("ci, points, expected", [
    ((1.0, 2.0), 2, V.UNJUDGED),  # two munmap points here cannot show how Xen's flush scales
    ((1.0, 2.0), 5, V.HOLDS),
    ((-1.0, 2.0), 5, V.UNJUDGED),
    ((-3.0, -1.0), 2, V.WRONG),
])
def test_judge_growth(ci, points, expected):
    assert V.judge_growth(ci, points).verdict == expected


@pytest.mark.parametrize("best, worst, expected", [
    (0.001, 0.005, V.HOLDS),
    (0.005, 0.5, V.CAVEAT),
    (0.2, 0.5, V.WRONG),
])
def test_judge_cost_share(best, worst, expected):
    assert V.judge_cost_share(best, worst).verdict == expected


PERSISTENT = {"maps": 0.0, "copy_bytes": 45056.0}
NON_PERSISTENT = {"maps": 11.0, "copy_bytes": 0.0}


def test_judge_between_flags_a_mode_worse_than_both():
    assert V.judge_between({"maps": 11.0, "copy_bytes": 45056.0}, PERSISTENT, NON_PERSISTENT).verdict == V.WRONG
    assert V.judge_between({"maps": 5.5, "copy_bytes": 22528.0}, PERSISTENT, NON_PERSISTENT).verdict == V.HOLDS
    # Beyond the worse mode on one count, better than both on another: depends on the costs.
    assert V.judge_between({"maps": 12.0, "copy_bytes": 0.0}, PERSISTENT, NON_PERSISTENT).verdict == V.CAVEAT


@given(t=st.floats(0.05, 0.95), maps=st.floats(1.0, 100.0), copy=st.floats(1.0, 1e6))
def test_any_mixture_of_two_modes_is_in_between(t, maps, copy):
    mixed = {"maps": t * maps, "copy_bytes": (1 - t) * copy}
    verdict = V.judge_between(mixed, {"maps": 0.0, "copy_bytes": copy}, {"maps": maps, "copy_bytes": 0.0})
    assert verdict.verdict == V.HOLDS


def test_judge_batching_and_cliff():
    assert V.judge_batching({"a": 88.0, "b": 176.0}, 11.0).verdict == V.HOLDS
    caveat = V.judge_batching({"a": 88.0, "b": 11.0}, 11.0)
    assert caveat.verdict == V.CAVEAT and caveat.reason == "good batching except: b"
    assert V.judge_batching({"a": 12.0}, 11.0).verdict == V.WRONG
    assert V.judge_cliff(0.01, 10.9).verdict == V.HOLDS
    assert V.judge_cliff(2.0, 2.5).verdict == V.WRONG
    assert V.judge_cliff(0.0, 0.0).verdict == V.WRONG


def test_verdict_outside_the_vocabulary_is_refused():
    with pytest.raises(ValueError, match="verdict: expected one of holds, .* found 'maybe'"):
        V.Verdict("maybe", "")


# --- the table on the bundled data ---------------------------------------------------------------

@pytest.fixture(scope="module")
def inputs():
    return bundle.load_bundled(DATA)


@pytest.fixture(scope="module")
def simulated():
    return datasets.read_all(DATA, V.SIMULATED_SETS)


@pytest.fixture(scope="module")
def table(inputs, simulated):
    return V.verdict_table(inputs, simulated)


def test_table_has_one_judged_row_per_claim_in_thread_order(table):
    claims = pd.read_csv(DATA / paths.THREAD_CLAIMS_FILE)
    assert table["claim_id"].tolist() == claims["claim_id"].tolist()
    assert set(table["verdict"]) <= set(V.VERDICTS)
    assert table["computed"].str.len().min() > 0
    for page in table["page"]:
        assert (ROOT / "notebooks" / f"{page}.py").exists(), page


def test_table_labels_measured_numbers_as_not_xen(table):
    measured = table[table["claim_id"].isin(["unmap-shootdown", "memcpy-cost", "linear-search"])]
    assert len(measured) == 3
    assert measured["evidence"].str.startswith("measured on ").all()
    assert measured["evidence"].str.contains(" - not Xen").all()
    policies = table[table["page"] == "08-grant-policies"]
    assert policies["evidence"].str.startswith("simulated").all()


def test_table_rows_agree_with_numbers_worked_by_hand(table):
    rows = table.set_index("claim_id")
    # (4096 - 64) / 112 = 36 -> 32 slots in a one-page x86_64 ring, not 64.
    assert rows.loc["jan-one-page-64", "verdict"] == V.WRONG
    assert "holds 32 requests" in rows.loc["jan-one-page-64", "computed"]
    # 32 x 11 x 4 KiB = 1.375 MiB per device.
    assert "1.38 MiB" in rows.loc["oliver-2.75mb", "computed"]
    assert f"{650_000 * 3.6 / 4.6:,.0f}" in rows.loc["iops-peak-decline", "computed"]


def test_the_collapse_is_explained_by_the_lock_collapse_chain_not_called_inconsistent(table):
    """Issue 12: a model that cannot fall that fast fails, not the thread's data."""
    row = table.set_index("claim_id").loc["iops-peak-decline"]
    assert row["verdict"] == V.CAVEAT and row["page"] == "12-flush-path"
    assert "Lock collapse (Boyd-Wickizer 2012): reproduces it" in row["computed"]
    assert "USL: cannot" in row["computed"] and "MVA (FCFS flush lock): cannot" in row["computed"]
    assert row["number"] == pytest.approx(400_000 / 650_000, rel=1e-3)


def test_lookup_share_counts_pages_per_second_at_the_reachable_array(inputs, table):
    """Issue 13.1: lookups/s = 4 KiB pages/s (130k per guest), at most 32 x 11 = 352 grants."""
    row = table.set_index("claim_id").loc["linear-search"]
    samples = inputs.lookup.samples
    hit = samples[(samples["structure"] == "ptr-array") & (samples["outcome"] == "hit") & (samples["n_grants"] == 352)]
    by_hand = 650_000 / 5 * hit["lookup_ns"].median() / 1e9
    assert row["number"] == pytest.approx(100 * by_hand, rel=1e-3)
    assert row["unit"] == "% of a CPU at n = 352" and "never reached" in row["computed"]
    assert row["verdict"] == V.judge_cost_share(0.0, by_hand).verdict


def test_lru_batching_counts_one_flush_per_32_unmaps(simulated, table):
    """Issue 13.2: Xen flushes every 32 unmaps of a hypercall, so a 176-page purge is 6 flushes."""
    lru, _ = simulated[V.LRU_SET]
    ian = lru[lru["m"].between(*V.IAN_M)]
    by_hand = (ian["unmaps"] / ian["tlb_flushes"]).min()
    row = table.set_index("claim_id").loc["ian-lru-batching"]
    assert row["number"] == pytest.approx(by_hand, rel=1e-3)
    assert 11 * V.BATCH_GAIN <= row["number"] <= 32
    assert row["verdict"] == V.CAVEAT


def test_unmap_scaling_is_not_judged_from_two_munmap_points(table):
    """Issue 13.3: two CPU counts on a 2-vCPU KVM guest; the measurement stays as a comparison."""
    row = table.set_index("claim_id").loc["unmap-shootdown"]
    assert row["verdict"] == V.UNJUDGED and "(comparison only)" in row["evidence"]


def test_fallback_reports_the_steady_state_and_the_warm_up(table):
    """Issue 13.4: once the array fills, every request falls back; W H(W) / 11 = 206 requests."""
    from analysis.xen.grants.fallback import harmonic

    row = table.set_index("claim_id").loc["fallback-in-between"]
    assert row["number"] == 100 and row["verdict"] == V.WRONG
    assert f"about {352 * harmonic(352) / 11:.0f} requests" in row["computed"]
    assert "never falls back" in row["computed"] and "maps again and still copies" in row["computed"]


def test_the_patch_cap_is_itself_a_dos(table):
    """Issue 13.5: 1 + 255 x 11 = 2806 grants, then request 257 reaches BUG_ON(2816 >= 2816)."""
    row = table.set_index("claim_id").loc["patch-dos-cap"]
    assert row["verdict"] == V.WRONG and row["number"] == 1 + 255 + 1
    assert "BUG_ON(2816 >= 2816)" in row["computed"]


def test_memory_is_dom0_pages_so_david_holds_and_jans_pointers_miss_it(table):
    """Issue 13.6: every persistent grant is an alloc_page in dom0; today's defaults give 4,950 MiB."""
    rows = table.set_index("claim_id")
    assert rows.loc["david-150x2", "verdict"] == V.CAVEAT
    assert "4,950 MiB" in rows.loc["david-150x2", "computed"]
    assert rows.loc["jan-pointer-22k", "verdict"] == V.WRONG
    assert "alloc_page" in rows.loc["jan-pointer-22k", "computed"]


def test_a_gentler_fall_in_the_data_changes_the_scaling_verdict(inputs, simulated):
    scaling = inputs.scaling.copy()
    scaling.loc[~scaling["peak"], "total_iops"] = 560_000.0  # 86% of the peak: a USL can do that
    gentler = dataclasses.replace(inputs, seed={**inputs.seed, "x_later": 560_000.0}, scaling=scaling)
    rows = V.verdict_table(gentler, simulated).set_index("claim_id")
    assert rows.loc["iops-peak-decline", "verdict"] == V.CAVEAT
    assert "USL: reproduces it" in rows.loc["iops-peak-decline", "computed"]


def test_a_missing_simulated_set_is_named(inputs, simulated):
    partial = {k: v for k, v in simulated.items() if k != V.MALICIOUS_SET}
    with pytest.raises(PgrantLabError, match=f"found no {V.MALICIOUS_SET}$"):
        V.verdict_table(inputs, partial)


def test_to_html_links_each_notebook_page(table):
    html = V.to_html(table)
    assert html.count("<tr>") == len(table) + 1
    for page in set(table["page"]):
        assert f'href="{page}.html"' in html


@pytest.mark.slow
def test_notebook_00_executes_and_shows_the_table(tmp_path):
    from analysis import report

    result = report.build(tmp_path, parameters={"data_dir": str(DATA)}, only=["00"], progress=False)
    assert [p.source.name for p in result.pages] == ["00-verdicts.py"]
    page = result.pages[0]
    assert page.ok, page.error
    html = page.html.read_text()
    assert 'class="verdicts"' in html
    assert html.count('href="02-ring-size-and-memory.html"') >= 1
    assert "reproduced by Lock collapse" in html
    # Issue 13 item 9: the report writes every verdict's number and unit beside the pages.
    records = pd.read_csv(tmp_path / "verdicts.csv")
    assert list(records["claim_id"]) == list(pd.read_csv(DATA / paths.THREAD_CLAIMS_FILE)["claim_id"])
    assert {"number", "unit", "evidence_kind", "verdict", "notebook"} <= set(records.columns)
