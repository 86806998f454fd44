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
from tests.plots_checks import assert_palette, assert_units, legends


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
