"""analysis.plots.mechanisms on the mechanisms measured here (data/raw/measured-here/memcpy, gref-lookup,
unmap-shootdown), read by analysis.ingest.mechanisms."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from analysis import machine, paths
from analysis.ingest import mechanisms as mech
from analysis.plots import mechanisms as plots
from analysis.plots import palette as P
from tests.plots_checks import assert_palette, assert_readable, assert_units, legends, texts


def _label(folder):
    return machine.label(mech.load_manifest(folder))


@pytest.fixture(scope="module")
def lookup():
    folder = paths.DATA_DIR / paths.LOOKUP_DIR
    samples = mech.load_lookup(folder)
    medians = mech.summarize(samples, ["structure", "outcome", "n_grants"], "lookup_ns")
    return medians.rename(columns={"median": "median_lookup_ns"}), _label(folder)


@pytest.fixture(scope="module")
def figures(lookup):
    memcpy_dir, unmap_dir = paths.DATA_DIR / paths.MEMCPY_DIR, paths.DATA_DIR / paths.UNMAP_DIR
    copies = mech.summarize(mech.load_memcpy(memcpy_dir), ["impl", "layout", "cache", "size_bytes"], "copy_ns")
    unmaps = mech.load_unmap(unmap_dir)
    per_call = mech.summarize(unmaps, ["op", "remote_threads", "pages_per_call"], "call_us")
    per_page = mech.summarize(unmaps, ["op", "remote_threads", "pages_per_call"], "page_ns")
    per_page["median_page_us"] = per_page["median"] / 1e3
    made = {
        "memcpy_sizes": (plots.memcpy_sizes(copies.rename(columns={"median": "median_copy_ns"}), _label(memcpy_dir)),
                         _label(memcpy_dir)),
        "lookup_times": (plots.lookup_times(*lookup), lookup[1]),
        "unmap_per_call": (plots.unmap_per_call(per_call.rename(columns={"median": "median_call_us"}),
                                                _label(unmap_dir)), _label(unmap_dir)),
        "unmap_per_page": (plots.unmap_per_page(per_page, _label(unmap_dir)), _label(unmap_dir)),
    }
    yield made
    for fig, _ in made.values():
        plt.close(fig)


def test_units_legends_and_provenance(figures):
    for name, (fig, label) in figures.items():
        assert_units(fig)
        assert legends(fig), name
        assert label in texts(fig), f"{name} does not name the machine the samples were measured on"


def test_structures_have_their_palette_colour(figures, lookup):
    found = assert_palette(figures["lookup_times"][0], P.STRUCTURE)
    assert set(found) == set(lookup[0]["structure"])


def test_lookup_marks_the_caps(figures):
    ax = figures["lookup_times"][0].axes[0]
    marked = {line.get_xdata()[0] for line in ax.lines if len(set(line.get_xdata())) == 1}
    assert marked == {352, 1056, 2816}


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, (fig, _) in figures.items():
        assert_readable(fig)


def test_flat_array_and_ptr_array_differ_in_marker_and_dash(figures):
    """Both scan linearly and time alike: each must stay visible where it lies on the other."""
    ax = figures["lookup_times"][0].axes[0]
    styles = {}
    for line in ax.lines:
        if to_hex(line.get_color()) in (P.colour(P.STRUCTURE, "ptr-array"), P.colour(P.STRUCTURE, "flat-array")):
            styles.setdefault(to_hex(line.get_color()), set()).add((line.get_marker(), line.get_linestyle()))
    assert len(styles) == 2
    ptr, flat = styles[P.colour(P.STRUCTURE, "ptr-array")], styles[P.colour(P.STRUCTURE, "flat-array")]
    assert {m for m, _ in ptr}.isdisjoint({m for m, _ in flat})
    assert {d for _, d in ptr}.isdisjoint({d for _, d in flat})
