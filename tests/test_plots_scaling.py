"""analysis.plots.scaling on the thread's two points (data/raw/seed-thread), the fio sweep
(data/raw/measured-here/fio-sweep) and the simulated unmap costs (data/simulated), with real fits."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from analysis import machine, paths
from analysis.ingest import sweep
from analysis.models import USL, ShootdownModel, peak_ratio_bounds
from analysis.plots import palette as P
from analysis.plots import scaling
from analysis.simulated import shootdown as simulate
from tests.plots_checks import assert_readable, assert_units, legends, texts


@pytest.fixture(scope="module")
def seed_table():
    return pd.read_csv(paths.DATA_DIR / paths.SCALING_FILE)


@pytest.fixture(scope="module")
def figures(seed_table):
    guests, iops = seed_table["guests"].to_numpy(float), seed_table["total_iops"].to_numpy(float)
    lo, _ = peak_ratio_bounds(5, 10)
    curves = {s: USL(fixed={"sigma": s}, n_boot=0).fit(guests, iops) for s in (0.0, 0.1, 0.3)}

    _, manifest = sweep.read_manifest(paths.DATA_DIR)
    runs = sweep.totals(sweep.load(paths.DATA_DIR))
    fits = {key: USL(n_boot=30, seed=0).fit(g["jobs"].to_numpy(float), g["iops"].to_numpy(float))
            for key, g in runs.groupby(["ioengine", "rw"])}
    sweep_label = f"measured on {machine.describe(manifest)}, not Xen"

    unmap, side = simulate.read(paths.DATA_DIR)
    design = unmap[unmap["design"] == "b"]
    args = (design["dom0_vcpus"].to_numpy(float), design["unmap_ns"].to_numpy())
    fit = ShootdownModel(kind="contention", n_boot=0).fit(*args, unmappers=design["unmappers"].to_numpy(float))
    linear = ShootdownModel(kind="linear", n_boot=0).fit(*args, unmappers=design["unmappers"].to_numpy(float))
    rule = ShootdownModel(kind="contention")
    whatif = pd.concat([pd.DataFrame({"dom0_vcpus": v, "guests": np.arange(1, v + 1.0),
                                      "iops": rule.throughput(np.arange(1, v + 1.0), dom0_vcpus=v, service_ns=5000.0,
                                                              unmaps_per_io=0.1, base_ns=1000.0, per_vcpu_ns=200.0,
                                                              contention=0.05)})
                        for v in (4, 8, 24)], ignore_index=True)
    made = {"usl_peak_family": scaling.usl_peak_family(seed_table, lo),
            "exact_fits": scaling.exact_fits(seed_table, curves),
            "sweep_fits": scaling.sweep_fits(runs, fits, sweep_label),
            "simulated_unmap": scaling.simulated_unmap(design, fit, linear, simulate.caption(side)),
            "shootdown_whatif": scaling.shootdown_whatif(whatif, seed_table)}
    yield made, {"lo": lo, "curves": curves, "sweep_label": sweep_label, "caption": simulate.caption(side)}
    for fig in made.values():
        plt.close(fig)


def test_units_and_legends(figures):
    for name, fig in figures[0].items():
        assert_units(fig)
        assert legends(fig), name


def test_titles_name_data_and_model(figures):
    made, facts = figures
    assert f"stays above {facts['lo'] * 650:.0f}k at 10 guests; the thread reports 400k" in texts(made["usl_peak_family"])
    peaks = [f.peak()[0] for f in facts["curves"].values()]
    assert f"all peak at {min(peaks):.1f}-{max(peaks):.1f} guests" in texts(made["exact_fits"])
    assert facts["sweep_label"] in texts(made["sweep_fits"])
    assert "SIMULATED" in texts(made["simulated_unmap"]) and "simulated" in texts(made["simulated_unmap"]).lower()
    assert "ILLUSTRATION" in texts(made["shootdown_whatif"])


def test_the_threads_points_are_drawn_as_measured(figures, seed_table):
    for name in ("usl_peak_family", "exact_fits"):
        ax = figures[0][name].axes[0]
        points = [c for c in ax.collections if to_hex(c.get_facecolor()[0]) == to_hex(P.MEASURED)]
        assert len(points) == 1
        np.testing.assert_allclose(points[0].get_offsets()[:, 1], seed_table["total_iops"] / 1e3)


def test_sweep_fits_use_the_engine_colours(figures):
    for ax in figures[0]["sweep_fits"].axes:
        engine = ax.get_title().split(",")[0]
        assert to_hex(ax.lines[0].get_color()) == P.colour(P.ENGINE, engine)


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, fig in figures[0].items():
        assert_readable(fig)
