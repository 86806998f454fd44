"""analysis.plots.ring on the tables analysis.xen.blkif computes (notebook 02's grids)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from analysis import constants as C
from analysis.plots import ring
from analysis.xen import blkif
from tests.plots_checks import assert_readable, assert_units, legend_colours, legends, texts

ABI, VMS, DISKS, QUEUES, DOM0_GIB = "x86_64", 150, 2, 1, 4.0
SEGMENTS = (C.SEGMENTS_PER_REQUEST, C.LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS,
            C.LINUX_BACKEND_MAX_INDIRECT_SEGMENTS, C.MAX_INDIRECT_SEGMENTS_PROTOCOL)


@pytest.fixture(scope="module")
def grid():
    table = blkif.memory_grid(abi=ABI, segments=SEGMENTS, caps=(None, C.LINUX_MAX_PERSISTENT_GRANTS))
    table["cap"] = table["cap"].map(lambda g: "no cap" if pd.isna(g) else f"cap {int(g)} (Linux)")
    table[ring.HUE] = table["segments"].map(lambda k: f"{k} segments")
    return table


@pytest.fixture(scope="module")
def figures(grid):
    host = grid.assign(host_gib=[blkif.host_memory(VMS, DISKS, slots=int(r.slots), segments=int(r.segments),
                                                   cap=None if r.cap == "no cap" else C.LINUX_MAX_PERSISTENT_GRANTS,
                                                   queues=QUEUES).gib for r in grid.itertuples()])
    devices = pd.DataFrame([{"order": f"order {o}", "devices": d,
                             "host_gib": blkif.host_memory(d, 1, slots=blkif.ring_slots(o, ABI), queues=QUEUES).gib}
                            for o in range(C.MAX_RING_PAGE_ORDER + 1) for d in (1, 10, 100, 1000)])
    flight = grid[grid["cap"] == "no cap"].assign(in_flight_mib=lambda d: d["in_flight_bytes"] / blkif.MIB)
    kw = {"vms": VMS, "disks": DISKS, "queues": QUEUES, "dom0_mem_gib": DOM0_GIB}
    made = {"memory_per_device": ring.memory_per_device(grid, ABI, 11.0),
            "memory_per_host": ring.memory_per_host(host, ABI, **kw),
            "memory_by_devices": ring.memory_by_devices(devices, ABI, **kw),
            "capacity": ring.capacity(flight, ABI)}
    yield made
    for fig in made.values():
        plt.close(fig)


def test_units_legends_and_model(figures):
    for name, fig in figures.items():
        assert_units(fig)
        assert legends(fig), name
        assert "analysis.xen.blkif" in texts(fig), name


def test_segment_counts_keep_one_colour_on_every_figure(figures):
    for name in ("memory_per_device", "memory_per_host", "capacity"):
        colours = legend_colours(figures[name])
        for k in SEGMENTS:
            assert colours[f"{k} segments"] == {to_hex(ring.SEGMENTS[k])}, (name, k)


def test_every_figure_is_readable_with_its_legend_outside_the_data(figures):
    for name, fig in figures.items():
        assert_readable(fig)
