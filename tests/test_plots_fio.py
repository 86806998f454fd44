"""analysis.plots.fio on the bundled fio sweep (data/raw/measured-here/fio-sweep, fio's own output)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import machine, paths
from analysis.ingest import fio, sweep
from analysis.plots import fio as plots
from analysis.plots import palette as P
from tests.plots_checks import assert_palette, assert_readable, assert_units, legends, texts


@pytest.fixture(scope="module")
def sweep_tables():
    folder, manifest = sweep.read_manifest(paths.DATA_DIR)
    jobs = sweep.load(paths.DATA_DIR)
    hist = pd.concat([fio.read_histogram(folder / f"{engine}-randread-n{n}-r0.json")
                      .assign(run=f"{engine}, {n} jobs", ioengine=engine, jobs=n)
                      for engine in ("psync", "libaio") for n in (1, 8)], ignore_index=True)
    return manifest, jobs, sweep.totals(jobs), hist


@pytest.fixture(scope="module")
def figures(sweep_tables):
    manifest, jobs, totals, hist = sweep_tables
    label = machine.label(manifest)
    made = {"total_iops": plots.total_iops(totals, label),
            "cpu_share": plots.cpu_share(totals, manifest["machine"]["logical_cores"], label),
            "latency": plots.latency(jobs, label),
            "latency_cdf": plots.latency_cdf(hist, label)}
    yield label, made
    for fig in made.values():
        plt.close(fig)


def test_units_legends_and_provenance(figures):
    label, made = figures
    for name, fig in made.items():
        assert_units(fig)
        assert legends(fig), name
        assert label in texts(fig), f"{name} does not name the machine the sweep was measured on"


def test_engines_have_their_palette_colour(figures, sweep_tables):
    engines = set(sweep_tables[2]["ioengine"])
    for name in ("total_iops", "latency", "latency_cdf"):
        found = assert_palette(figures[1][name], P.ENGINE)
        if name != "latency_cdf":
            assert set(found) == engines, name


def test_every_histogram_run_is_a_legend_entry(figures, sweep_tables):
    entries = {t.get_text() for legend in legends(figures[1]["latency_cdf"]) for t in legend.texts}
    assert entries == set(sweep_tables[3]["run"])


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, fig in figures[1].items():
        assert_readable(fig)
