"""analysis.simulated.flush: the flush-lock simulation of notebook 12 is a data set with a sidecar
that regenerates it exactly, and its reader names what is wrong."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from analysis import paths
from analysis.errors import SimulatedDataError
from analysis.ingest import thread
from analysis.simulated import flush


def test_the_bundled_file_is_what_its_sidecar_regenerates():
    table, side = flush.read(paths.DATA_DIR)
    again = flush.regenerate(side)
    pd.testing.assert_frame_equal(table, again, check_dtype=False)
    # The parameters are the chain fitted to the thread's points, not typed by hand.
    assert side["parameters_us"] == pytest.approx(flush.chain_parameters(thread.load_scaling_points(paths.DATA_DIR)))
    assert side["simulated"] is True and "simulated" in flush.NAME


def test_the_simulation_reproduces_the_threads_fall(tmp_path):
    table, _ = flush.read(paths.DATA_DIR)
    exp = table[table["dist"] == "exp"].set_index("guests")["iops"]
    assert exp.idxmax() in (4, 5, 6) and exp[10] < 0.75 * exp.max()


def test_a_sidecar_without_parameters_is_one_sentence(tmp_path):
    folder = tmp_path / "simulated"
    shutil.copytree(paths.DATA_DIR / "simulated", folder)
    side_path = folder / f"{flush.NAME}.json"
    side = json.loads(side_path.read_text())
    del side["parameters_us"]["handoff_us"]
    side_path.write_text(json.dumps(side))
    with pytest.raises(SimulatedDataError, match=r"field 'parameters_us': expected think_us"):
        flush.read(tmp_path)
