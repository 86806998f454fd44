"""analysis.plots.palette: one colour-blind safe colour and one marker per domain name, covering every
name the data and the code use."""

from __future__ import annotations

import pandas as pd
import pytest
import seaborn as sns
from matplotlib.colors import to_hex

from analysis import paths
from analysis.ingest import mechanisms as mech
from analysis.ingest import sweep
from analysis.ingest.experiment import MODES
from analysis.plots import palette as P
from analysis.simulated import grants as datasets

PALETTES = {"MODE": P.MODE, "POLICY": P.POLICY, "STRUCTURE": P.STRUCTURE, "ENGINE": P.ENGINE}


def test_modes_are_the_experiments():
    assert list(P.MODE) == list(MODES)


@pytest.mark.parametrize("name", ["grants-cliff-simulated", "grants-malicious-simulated", "grants-phase-simulated",
                                  "grants-predictability-simulated"])
def test_every_simulated_policy_has_a_style(name):
    table, _ = datasets.read(paths.DATA_DIR, name)
    assert set(table["label"]) <= set(P.POLICY)


def test_structures_are_the_lookup_samples():
    samples = mech.load_lookup(paths.DATA_DIR / paths.LOOKUP_DIR)
    assert set(samples["structure"]) == set(P.STRUCTURE)


def test_engines_are_the_sweeps():
    _, manifest = sweep.read_manifest(paths.DATA_DIR)
    engines = {run.get("ioengine") for run in manifest["runs"]} - {None}
    engines = engines or set(sweep.totals(sweep.load(paths.DATA_DIR))["ioengine"])
    assert engines == set(P.ENGINE)


@pytest.mark.parametrize("name", PALETTES)
def test_colours_and_markers_are_distinct_and_colour_blind_safe(name):
    styles = PALETTES[name]
    safe = set(sns.color_palette("colorblind").as_hex()) | {to_hex(P.BLACK)}
    assert len({s.colour for s in styles.values()}) == len(styles)
    assert len({s.marker for s in styles.values()}) == len(styles)
    assert {to_hex(s.colour) for s in styles.values()} <= safe


def test_the_non_persistent_policy_is_the_non_persistent_modes_colour():
    assert P.POLICY["non_persistent"].colour == P.MODE["non-persistent"].colour
    assert P.POLICY["persistent_array"].colour == P.MODE["persistent"].colour


def test_order_follows_the_palette_not_the_table():
    assert P.order(P.MODE, pd.Series(["non-persistent", "persistent", "persistent"])) == list(MODES)


def test_an_unknown_name_is_one_sentence():
    with pytest.raises(KeyError, match=r"STRUCTURE has no style for 'skiplist'; it has ptr-array, flat-array, "):
        P.colours(P.STRUCTURE, ["bst", "skiplist"])
