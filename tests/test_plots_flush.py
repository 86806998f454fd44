"""analysis.plots.flush: the flush-path figures of notebook 12, drawn from real tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from analysis import paths
from analysis.ingest import thread
from analysis.plots import flush
from analysis.plots import palette as P
from analysis.simulated import flush as simulated_flush
from tests.plots_checks import assert_readable, assert_units, texts


def test_curves_bands_and_the_threads_points_with_units_and_mode_colours():
    points = thread.load_scaling_points(paths.DATA_DIR)
    sims, side = simulated_flush.read(paths.DATA_DIR)
    n = np.arange(1, 17, dtype=float)
    curves = pd.concat([
        pd.DataFrame({"guests": n, "iops": 1e5 * n, "series": "persistent: no flush",
                      "low": 0.9e5 * n, "high": 1.1e5 * n}),
        pd.DataFrame({"guests": n, "iops": 5e4 * n, "series": "non-persistent: chain"}),
        sims[sims["dist"] == "exp"].assign(series="simulated, exp times", style="points"),
    ])
    fig = flush.throughput_curves(curves, points, title="t", caption=simulated_flush.caption(side),
                                  band_label="sensitivity band")
    try:
        assert_units(fig)
        assert_readable(fig)
        ax = fig.axes[0]
        colours = {line.get_label(): to_hex(line.get_color()) for line in ax.lines}
        assert colours["persistent: no flush"] == P.colour(P.MODE, "persistent")
        assert colours["non-persistent: chain"] == P.colour(P.MODE, "non-persistent")
        assert "simulated" in texts(fig) and "flush-lock-simulated.csv" in texts(fig)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "persistent: no flush: sensitivity band" in labels and any("thread" in t for t in labels)
    finally:
        plt.close(fig)
