"""analysis.plots.policies on the committed simulated data sets (data/simulated)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.constants import PAGE_BYTES
from analysis.plots import palette as P
from analysis.plots import policies
from analysis.simulated import grants as datasets
from analysis.xen.grants import Costs, with_costs
from tests.plots_checks import assert_palette, assert_readable, assert_units, drawn_axes, highlighted_lines, legends, named_colours, texts

GUESTS = 10
COSTS = Costs(dom0_vcpus=24)


def _read(name: str):
    table, meta = datasets.read(paths.DATA_DIR, name)
    return table, meta


@pytest.fixture(scope="module")
def cliff():
    table, meta = _read("grants-cliff-simulated")
    table = with_costs(table, COSTS, GUESTS)
    table["max_mapped_mib"] = table["max_mapped_pages"] * PAGE_BYTES / 2**20
    return table, meta


@pytest.fixture(scope="module")
def lru():
    table, meta = _read("grants-lru-tradeoff-simulated")
    table["batches_per_1000_requests"] = 1000 * table["unmap_batches"] / table["requests"]
    return table, meta


@pytest.fixture(scope="module")
def pred():
    table, meta = _read("grants-predictability-simulated")
    return with_costs(table, COSTS, GUESTS), meta


@pytest.fixture(scope="module")
def malicious_summary():
    table, meta = _read("grants-malicious-simulated")
    table = with_costs(table, COSTS, GUESTS)
    summary = table.groupby("label").agg(dom0_us_per_request=("dom0_us_per_request", "mean"),
                                         max_held_pages=("mapped_pages", "max"),
                                         max_resident_pages=("resident_pages", "max"))
    return summary, meta


@pytest.fixture(scope="module")
def phase():
    table, meta = _read("grants-phase-simulated")
    table["time_s"] = table["time_us"] / 1e6
    return table, meta


def policy_figures(cliff, lru, pred, malicious_summary, phase) -> dict:
    """Every figure function of analysis.plots.policies, called on the real tables: name -> figure."""
    return {
        "cliff random": policies.cliff(*cliff, order="random", guests=GUESTS),
        "cliff cyclic": policies.cliff(*cliff, order="cyclic", guests=GUESTS),
        "throughput_bound": policies.throughput_bound(*cliff, COSTS, working_sets=(264, 440), guests=np.arange(1, 41)),
        "lru_tradeoff": policies.lru_tradeoff(*lru),
        "predictability_boxes": policies.predictability_boxes(*pred),
        "predictability_trace": policies.predictability_trace(*pred, working_set_pages=440),
        "malicious": policies.malicious(*malicious_summary),
        "phase": policies.phase(*phase),
        "vcpu_bound": policies.vcpu_bound(_vcpu_bound(cliff[0]), cliff[1], guests=5, working_set_pages=264),
    }


def _vcpu_bound(table):
    """Notebook 08's bound with one blkback thread per guest, from the cliff table."""
    from analysis.xen.grants.costs import blkback_threads_iops
    at_w = table[(table["order"] == "random") & (table["working_set_pages"] == 264)]
    return pd.DataFrame([{"label": row["label"], "dom0_vcpus": v,
                          "successful_miops": float(blkback_threads_iops(row, COSTS, 5, dom0_vcpus=v))
                          * (1 - row["failed_requests"] / row["requests"]) / 1e6}
                         for _, row in at_w.iterrows() for v in (5, 8, 16, 32, 64)])


@pytest.fixture(scope="module")
def figures(cliff, lru, pred, malicious_summary, phase):
    made = policy_figures(cliff, lru, pred, malicious_summary, phase)
    yield made
    for fig in made.values():
        plt.close(fig)


def test_every_figure_has_units_and_names_the_simulator(figures):
    for name, fig in figures.items():
        assert_units(fig)
        assert "simulated: grant-store simulator" in texts(fig), name


def test_policies_have_their_palette_colour(figures, cliff, pred, malicious_summary, phase):
    expected = {
        "cliff random": set(cliff[0]["label"]),
        "throughput_bound": set(cliff[0]["label"]),
        "predictability_boxes": set(pred[0]["label"]),
        "predictability_trace": set(pred[0]["label"]),
        "malicious": set(malicious_summary[0].index),
        "phase": set(phase[0]["label"]),
    }
    for name, labels in expected.items():
        found = assert_palette(figures[name], P.POLICY)
        assert set(found) == labels, f"{name}: policies found {sorted(found)}, the table has {sorted(labels)}"


def test_legends_where_several_series(figures):
    for name in ("cliff random", "cliff cyclic", "throughput_bound", "lru_tradeoff", "predictability_trace"):
        assert legends(figures[name]), name


def test_cliff_marks_the_cap_from_the_sidecar(figures, cliff):
    cap = cliff[1]["parameters"]["cap_pages"]
    ax = figures["cliff random"].axes[0]
    assert any(line.get_xdata()[0] == cap for line in ax.lines if len(set(line.get_xdata())) == 1)


def test_an_unknown_policy_is_one_sentence(cliff):
    table = cliff[0].assign(label=cliff[0]["label"].replace("linux_lru", "my_policy"))
    with pytest.raises(KeyError, match="POLICY has no style for 'my_policy'; it has non_persistent, "):
        policies.cliff(table, cliff[1], order="random", guests=GUESTS)


def test_a_policy_has_one_colour_across_all_figures(figures, cliff):
    seen: dict[str, dict[str, set[str]]] = {}
    for name, fig in figures.items():
        for policy, colours in named_colours(fig, P.POLICY).items():
            seen.setdefault(policy, {})[name] = colours
    assert set(seen) == set(P.POLICY), "every policy of the palette is drawn by some figure"
    for policy, by_figure in seen.items():
        union = set().union(*by_figure.values())
        assert union == {P.colour(P.POLICY, policy)}, f"{policy}: {by_figure}"
    # The cliff's policies are compared on several pages (cliff, bound, malicious, ...): the check spans them.
    assert all(len(seen[policy]) >= 4 for policy in set(cliff[0]["label"])), {k: sorted(v) for k, v in seen.items()}


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, fig in figures.items():
        assert_readable(fig)


def test_no_cliff_panel_highlights_more_than_three_policies(figures, cliff):
    for name in ("cliff random", "cliff cyclic", "throughput_bound", "predictability_trace", "vcpu_bound"):
        fig = figures[name]
        shown = set()
        for ax in drawn_axes(fig):
            lines = highlighted_lines(ax)
            assert 0 < len(lines) <= policies.CLIFF_HIGHLIGHT, (name, [line.get_label() for line in lines])
            shown |= {line.get_label() for line in lines}
        if name.startswith("cliff"):  # every policy is highlighted in some panel
            assert shown == set(cliff[0]["label"]), (name, sorted(shown))
