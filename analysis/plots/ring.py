"""Figures of the blkif ring and persistent-grant memory (notebook 02), all computed, none measured.

Every function takes a table made by :mod:`analysis.xen.blkif` (``memory_grid`` and the host
totals built from it) and returns the figure; titles name the function that computed the numbers.
The series are segments per request; each keeps one colour (:data:`SEGMENTS`) on every figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis import constants as C
from analysis.plots import palette as P
from analysis.plots.layout import finish

#: Segments per request -> colour: direct, blkfront's default, blkback's maximum, the protocol's.
SEGMENTS = {C.SEGMENTS_PER_REQUEST: P.BLUE, C.LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS: P.ORANGE,
            C.LINUX_BACKEND_MAX_INDIRECT_SEGMENTS: P.GREEN, C.MAX_INDIRECT_SEGMENTS_PROTOCOL: P.VERMILLION}
HUE = "segments per request"
ORDERS = range(C.MAX_RING_PAGE_ORDER + 1)


def _segment_colours(grid: pd.DataFrame) -> dict[str, str]:
    """The ``segments per request`` label of each row -> the colour of its segment count."""
    pairs = grid.drop_duplicates(HUE).sort_values("segments")
    return {name: SEGMENTS[k] for name, k in zip(pairs[HUE], pairs["segments"])}


def memory_per_device(grid: pd.DataFrame, abi: str, patch_cap_mib: float) -> plt.Figure:
    """Worst-case mapped memory per device against ring order, per segments per request and cap."""
    fig, ax = plt.subplots(figsize=(8, 5))
    sns.lineplot(data=grid, x="order", y="mib_per_device", hue=HUE, style="cap", markers=True,
                 palette=_segment_colours(grid), ax=ax)
    ax.axhline(patch_cap_mib, color=P.REFERENCE, ls=":",
               label=f"2012 patch cap ({C.PATCH_2012_MAX_PERSISTENT_GRANTS} grants)")
    ax.set_yscale("log")
    ax.set_xticks(ORDERS)
    ax.set_xlabel("ring page order (ring = 2^order pages)")
    ax.set_ylabel("persistently mapped memory per device (MiB, log)")
    ax.set_title(f"Computed worst case per device, {abi} guest\n(analysis.xen.blkif.persistent_memory; no measurement)")
    ax.legend(fontsize=9, bbox_to_anchor=(1.02, 1), loc="upper left")
    return finish(fig)


def memory_per_host(host_grid: pd.DataFrame, abi: str, *, vms: int, disks: int, queues: int,
                    dom0_mem_gib: float) -> plt.Figure:
    """Worst-case mapped memory of ``vms`` x ``disks`` devices (``host_gib``) against ring order."""
    fig, ax = plt.subplots(figsize=(8, 5))
    sns.lineplot(data=host_grid, x="order", y="host_gib", hue=HUE, style="cap", markers=True,
                 palette=_segment_colours(host_grid), ax=ax)
    ax.axhline(dom0_mem_gib, color="crimson", ls="--", label=f"dom0 memory ({dom0_mem_gib:g} GiB, parameter)")
    ax.set_yscale("log")
    ax.set_xticks(ORDERS)
    ax.set_xlabel("ring page order (ring = 2^order pages)")
    ax.set_ylabel(f"mapped memory, {vms} VMs x {disks} disks x {queues} queue(s) (GiB, log)")
    ax.set_title(f"Computed worst case per host, {abi} guests\n(analysis.xen.blkif.host_memory; no measurement)")
    ax.legend(fontsize=9, bbox_to_anchor=(1.02, 1), loc="upper left")
    return finish(fig)


def memory_by_devices(by_devices: pd.DataFrame, abi: str, *, vms: int, disks: int, queues: int,
                      dom0_mem_gib: float) -> plt.Figure:
    """Host memory (``host_gib``) against block devices, one line per ring ``order`` (11 segments, no cap)."""
    fig, ax = plt.subplots(figsize=(8, 5))
    sns.lineplot(data=by_devices, x="devices", y="host_gib", hue="order", marker="o", palette="mako", ax=ax)
    ax.axhline(dom0_mem_gib, color="crimson", ls="--", label=f"dom0 memory ({dom0_mem_gib:g} GiB, parameter)")
    ax.axvline(vms * disks, color=P.REFERENCE, ls=":", label=f"{vms} VMs x {disks} disks")
    ax.set_xlabel("block devices on the host (VMs x disks)")
    ax.set_ylabel("mapped memory (GiB)")
    ax.set_title(f"Computed worst case vs devices, 11 segments, no cap, {queues} queue(s), {abi} guests\n"
                 "(analysis.xen.blkif.host_memory)")
    ax.legend(fontsize=9)
    return finish(fig)


def capacity(flight: pd.DataFrame, abi: str) -> plt.Figure:
    """Slots per ring and data in flight per ring (``in_flight_mib``) against ring order."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(data=flight.drop_duplicates("order"), x="order", y="in_flight_requests", marker="o", ax=axes[0])
    axes[0].set_yscale("log", base=2)
    axes[0].set_xticks(ORDERS)
    axes[1].set_xticks(ORDERS)
    axes[0].set_xlabel("ring page order (ring = 2^order pages)")
    axes[0].set_ylabel("requests in flight (ring slots)")
    axes[0].set_title("Slots per ring (ring.h arithmetic)")
    sns.lineplot(data=flight, x="order", y="in_flight_mib", hue=HUE, marker="o", palette=_segment_colours(flight),
                 ax=axes[1])
    axes[1].set_yscale("log")
    axes[1].set_xlabel("ring page order (ring = 2^order pages)")
    axes[1].set_ylabel("data in flight per ring (MiB, log)")
    axes[1].set_title("slots x segments x 4 KiB")
    fig.suptitle(f"Computed ring capacity, {abi} guest (analysis.xen.blkif; no measurement)")
    return finish(fig)
