"""analysis.plots.experiment on the bundled example experiment (data/raw/measured-here/fio-experiment,
fio's own output) and the decision tables made from it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from analysis import paths
from analysis.decide import decision
from analysis.ingest import experiment
from analysis.plots import experiment as plots
from analysis.plots import palette as P
from analysis.ingest import mechanisms
from tests.plots_checks import assert_palette, assert_readable, assert_units, drawn_axes, legends


@pytest.fixture(scope="module")
def figures():
    table = experiment.load(paths.DATA_DIR / paths.EXAMPLE_EXPERIMENT, progress=False)
    runs = experiment.aggregate(table)
    fits = decision.fit_cells(runs, draws=50)
    ratios = decision.ratio_map(fits, decision.guest_grid(runs))
    made = {"scaling": plots.plot_scaling(runs).figure,
            "per_guest": plots.plot_per_guest(experiment.per_guest(table)).figure,
            "fits": plots.plot_fits(runs, fits).figure,
            "ratio_map": plots.plot_ratio_map(ratios),
            "cost_balance": plots.plot_cost_balance(decision.cost_balance(
                mechanisms.load_unmap(paths.DATA_DIR / paths.UNMAP_DIR),
                mechanisms.load_memcpy(paths.DATA_DIR / paths.MEMCPY_DIR))),
            "memory": plots.plot_memory(decision.memory_map(decision.guest_grid(runs), ["4k"])).figure}
    yield made, runs
    for fig in made.values():
        plt.close(fig)


def test_units_and_legends(figures):
    for name, fig in figures[0].items():
        assert_units(fig)
        if name != "cost_balance":  # one heat map, its colour bar is the key
            assert legends(fig), name


def test_modes_have_their_palette_colour(figures):
    made, runs = figures
    for name in ("scaling", "per_guest", "fits"):
        found = assert_palette(made[name], P.MODE)
        assert set(found) == set(runs["mode"]), name


def test_fitted_curves_are_drawn_in_their_modes_colour(figures):
    lines = [line for ax in figures[0]["fits"].axes for line in ax.lines if line.get_label().startswith("USL ")]
    assert lines
    for line in lines:
        assert to_hex(line.get_color()) == P.colour(P.MODE, line.get_label().removeprefix("USL "))


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, fig in figures[0].items():
        assert_readable(fig)


def test_fits_and_ratios_hatch_the_extrapolated_guests_and_say_so(figures):
    made, runs = figures
    measured = runs["guests"].max()
    for name in ("fits", "ratio_map"):
        fig = made[name]
        hatched = [patch for ax in drawn_axes(fig) for patch in ax.patches if patch.get_hatch()]
        assert hatched, f"{name}: nothing hatched"
        for patch in hatched:
            extent = patch.get_extents().transformed(patch.axes.transData.inverted())
            if patch.axes.get_xlabel().startswith("guests (count"):  # the line panels, in guests
                assert extent.x0 == pytest.approx(measured, abs=1e-6), name
        entries = [t.get_text() for legend in legends(fig) for t in legend.texts]
        assert any(f"extrapolated (beyond {measured} guests measured)" == t for t in entries), (name, entries)


def test_the_stand_in_flag_says_so_after_every_mode(figures):
    made, runs = figures
    table = experiment.load(paths.DATA_DIR / paths.EXAMPLE_EXPERIMENT, progress=False)
    fits = decision.fit_cells(runs, draws=20)
    stand_in = {"scaling": plots.plot_scaling(runs, stand_in=True).figure,
                "per_guest": plots.plot_per_guest(experiment.per_guest(table), stand_in=True).figure,
                "fits": plots.plot_fits(runs, fits, stand_in=True).figure}
    try:
        for name, fig in stand_in.items():
            entries = {t.get_text() for legend in legends(fig) for t in legend.texts}
            for mode in set(runs["mode"]):
                assert f"{mode} (stand-in)" in entries, (name, entries)
                assert mode not in entries, (name, entries)
            # without the flag, the same figure names the modes plainly
            plain = {t.get_text() for legend in legends(made[name]) for t in legend.texts}
            assert set(runs["mode"]) <= plain and not any("stand-in" in t for t in plain), (name, plain)
        ratio = plots.plot_ratio_map(decision.ratio_map(fits, decision.guest_grid(runs)), stand_in=True)
        stand_in["ratio_map"] = ratio
        assert "(stand-ins)" in " ".join(ax.get_ylabel() for ax in ratio.axes)
    finally:
        for fig in stand_in.values():
            plt.close(fig)
