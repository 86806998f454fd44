"""Figures of the mechanisms measured on this machine (notebooks 05-07): memcpy per request, gref
lookup per structure, munmap/mprotect per call and per page.

Every function takes the summary table of :func:`analysis.ingest.mechanisms.summarize` (median per
group; the value column renamed as documented) and ``label``, the machine the numbers were measured
on (:func:`analysis.machine.label`), and returns the figure. Lookup structures keep their
:data:`analysis.plots.palette.STRUCTURE` colour and marker.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis import constants as C
from analysis.plots import palette as P
from analysis.plots.layout import finish


def memcpy_sizes(medians: pd.DataFrame, label: str) -> plt.Figure:
    """Median copy time (``median_copy_ns``) against bytes per copy, per implementation and layout, per cache."""
    medians = medians.assign(series=medians["impl"] + " " + medians["layout"])
    grid = sns.relplot(data=medians, x="size_bytes", y="median_copy_ns", hue="series", col="cache",
                       marker="o", kind="line", palette="colorblind", height=4, aspect=1.2)
    grid.set(xscale="log", yscale="log", xlabel="bytes per request copy (B, log)", ylabel="median time per copy (ns)")
    for ax in grid.axes.flat:
        ax.axvline(C.PAGE_BYTES, color=P.REFERENCE, lw=0.8, ls=":")
        ax.axvline(C.REQUEST_BYTES, color=P.REFERENCE, lw=0.8, ls="--")
    grid.figure.suptitle(f"memcpy per request (medians; dotted 4 KiB, dashed 11 x 4 KiB)\n{label}", y=1.08, fontsize=10)
    return finish(grid.figure, layout=False)


#: One dash per lookup structure, in the order of :data:`analysis.plots.palette.STRUCTURE`.
_DASHES = ["", (5, 2), (1, 1.5), (6, 2, 1, 2), (3, 3)]
_MARKER_SIZES = [10, 5, 6, 6, 6]


def lookup_times(medians: pd.DataFrame, label: str) -> plt.Figure:
    """Median time per lookup (``median_lookup_ns``) against mapped grants, per structure and outcome;
    dotted lines at a one-page ring's grants, Linux's cap and the 2012 patch's cap."""
    structures = P.order(P.STRUCTURE, medians["structure"])
    # flat-array and ptr-array time alike (both scan linearly): each structure has its own marker and
    # dash (and ptr-array a larger marker), and the outcomes are separate panels, so a line lying on another shows.
    grid = sns.relplot(data=medians, x="n_grants", y="median_lookup_ns", hue="structure", style="structure",
                       col="outcome", hue_order=structures, style_order=structures,
                       palette=P.colours(P.STRUCTURE, structures), markers=P.markers(P.STRUCTURE, structures),
                       dashes={name: dash for name, dash in zip(P.STRUCTURE, _DASHES)},
                       kind="line", height=4, aspect=1.1)
    grid.set(xscale="log", yscale="log", xlabel="mapped grants n (count, log)", ylabel="median time per lookup (ns)")
    one_page = C.LINUX_REQS_PER_RING_PAGE * C.SEGMENTS_PER_REQUEST
    sizes = {P.colour(P.STRUCTURE, name): size for name, size in zip(P.STRUCTURE, _MARKER_SIZES)}
    for ax in grid.axes.flat:
        for line in ax.lines:  # ptr-array's large circles ring flat-array's small squares where they coincide
            line.set_markersize(sizes.get(line.get_color(), line.get_markersize()))
        for n in (one_page, C.LINUX_MAX_PERSISTENT_GRANTS, C.PATCH_2012_MAX_PERSISTENT_GRANTS):
            ax.axvline(n, color=P.REFERENCE, lw=0.8, ls=":")
            ax.text(n, ax.get_ylim()[0], f" {n}", ha="right", va="bottom", fontsize=9, rotation=90, color=P.REFERENCE)
    grid.figure.suptitle(f"gref lookup time vs mapped grants (medians; dotted: {one_page}, {C.LINUX_MAX_PERSISTENT_GRANTS} and "
                         f"{C.PATCH_2012_MAX_PERSISTENT_GRANTS} grants)\n{label}", y=1.1, fontsize=10)
    return finish(grid.figure, layout=False)


def unmap_per_call(medians: pd.DataFrame, label: str) -> plt.Figure:
    """Median time per call (``median_call_us``) against remote CPUs, per pages per call, per op."""
    grid = sns.relplot(data=medians, x="remote_threads", y="median_call_us", hue="pages_per_call", col="op",
                       kind="line", marker="o", palette="viridis", height=4, aspect=1.1)
    grid.set(xlabel="remote CPUs that touched the pages (count)", ylabel="median time per call (us)")
    grid.set(xticks=sorted(medians["remote_threads"].unique()))
    grid.figure.suptitle(f"munmap / mprotect(PROT_NONE) per call (medians)\n{label}", y=1.12, fontsize=10)
    return finish(grid.figure, layout=False)


def unmap_per_page(per_page: pd.DataFrame, label: str) -> plt.Figure:
    """Median time per page (``median_page_us``) against pages per call, per remote CPUs, per op."""
    grid = sns.catplot(data=per_page, x="pages_per_call", y="median_page_us", hue="remote_threads", col="op",
                       kind="bar", height=4, aspect=1.1)
    grid.set(yscale="log", xlabel="pages per call (1 = unbatched)", ylabel="median time per page (us)")
    grid.figure.suptitle(f"Batched vs single-page unmap: time per page (medians)\n{label}", y=1.12, fontsize=10)
    return finish(grid.figure, layout=False)
