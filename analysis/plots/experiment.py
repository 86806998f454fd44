"""Figures of an experiment (notebooks 09 and 10): scaling, per-guest spread, USL fits, decision map.

Plotting only: every function takes tables or fits made by analysis.ingest.experiment and
analysis.decide.decision and returns a seaborn FacetGrid or matplotlib Figure; callers add the title
naming the data and the model (escaped with analysis.text.mathtext). Every label made from a
user's column names or condition values is literal text, never mathtext: seaborn's facet titles are
made inside analysis.text.literal_figure_text, heat-map rows and legend entries are escaped with
analysis.text.mathtext.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis import text
from analysis.decide.decision import CellFits, cell_columns
from analysis.ingest.experiment import MODES
from analysis.plots import palette as P
from analysis.plots.layout import finish

_PALETTE = P.colours(P.MODE, MODES)
_MARKERS = P.markers(P.MODE, MODES)
IOPS_LABEL = "total IOPS of all guests (I/O per s)"
#: Appended to a mode's name in legends when the data are the bundled example, whose two modes are
#: fio engines standing in for persistent and non-persistent grants, not the grant modes themselves.
STAND_IN = " (stand-in)"
#: The hatch over guest counts beyond the most measured, where a fitted curve extrapolates.
EXTRAPOLATED_HATCH = "//"


def extrapolated_label(measured: int) -> str:
    return f"extrapolated (beyond {measured} guests measured)"


def _shade_extrapolated(ax, measured: float, end: float) -> None:
    """Hatch the guest counts beyond ``measured`` on ``ax`` (up to ``end``), labelled for the legend."""
    ax.axvspan(measured, end, facecolor="none", edgecolor=P.REFERENCE, hatch=EXTRAPOLATED_HATCH, linewidth=0,
               zorder=0, label=extrapolated_label(int(measured)))


def _stand_in_legend(fig: plt.Figure, stand_in: bool) -> None:
    """Say "(stand-in)" after every mode named in the figure's legends (the bundled example)."""
    if not stand_in:
        return
    found = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    for legend in found:
        for entry in legend.texts:
            for mode in MODES:
                if entry.get_text() in (mode, f"USL {mode}"):
                    entry.set_text(entry.get_text() + STAND_IN)


def _order(table: pd.DataFrame) -> list[str] | None:
    """Modes in a fixed order (persistent first) so colours and markers agree across figures."""
    if "mode" not in table.columns:
        return None
    return [m for m in MODES if m in set(table["mode"])]


def _facets(runs: pd.DataFrame) -> dict:
    cells = [c for c in cell_columns(runs) if runs[c].nunique() > 1]
    facets = {}
    if cells:
        facets["col"] = cells[0]
    if len(cells) > 1:
        facets["row"] = cells[1]
    return facets


def plot_scaling(runs: pd.DataFrame, *, stand_in: bool = False) -> sns.FacetGrid:
    """Total IOPS against guests: one point per run, a line through the mean per mode; ``stand_in``
    (the bundled example) labels the modes "(stand-in)"."""
    hue = "mode" if "mode" in runs.columns else None
    facets = _facets(runs)
    with text.literal_figure_text():  # facet titles "column = value" from the user's manifest
        grid = sns.relplot(data=runs, x="guests", y="iops", hue=hue, style=hue, kind="line",
                           markers=_MARKERS if hue else True, hue_order=_order(runs), style_order=_order(runs),
                           errorbar=None, palette=_PALETTE if hue else None, height=3.2, aspect=1.3,
                           facet_kws={"sharey": False}, **facets)
    for ax, sub in _facet_data(runs, grid, facets):
        ax.scatter(sub["guests"], sub["iops"], s=12, color="black", alpha=0.5, zorder=3)
    grid.set_axis_labels("guests (count of fio clients driven at once)", IOPS_LABEL)
    _stand_in_legend(grid.figure, stand_in)
    finish(grid.figure, layout=False)
    return grid


def plot_per_guest(per_guest: pd.DataFrame, *, stand_in: bool = False) -> sns.FacetGrid:
    """Each guest's IOPS against the number of guests in its run, per mode (``stand_in``: as plot_scaling)."""
    hue = "mode" if "mode" in per_guest.columns else None
    facets = _facets(per_guest)
    with text.literal_figure_text():  # facet titles "column = value" from the user's manifest
        grid = sns.catplot(data=per_guest, x="guests", y="iops", hue=hue, kind="strip", dodge=True, hue_order=_order(per_guest),
                           palette=_PALETTE if hue else None, height=3.2, aspect=1.3, sharey=False,
                           **facets)
    grid.set_axis_labels("guests in the run (count)", "IOPS of one guest (I/O per s)")
    _stand_in_legend(grid.figure, stand_in)
    finish(grid.figure, layout=False)
    return grid


def plot_fits(runs: pd.DataFrame, fits: CellFits, *, stand_in: bool = False) -> sns.FacetGrid:
    """The runs with each mode's fitted USL curve and its bootstrap band; the guest counts beyond the
    most measured are hatched and the legend says "extrapolated" (``stand_in``: as plot_scaling)."""
    facets = _facets(runs)
    hue = "mode" if "mode" in runs.columns else None
    with text.literal_figure_text():  # facet titles "column = value" from the user's manifest
        grid = sns.relplot(data=runs, x="guests", y="iops", hue=hue, hue_order=_order(runs),
                           palette=_PALETTE if hue else None, height=3.2, aspect=1.3, facet_kws={"sharey": False},
                           legend=False, **facets)
    measured = runs["guests"].max()
    n = np.linspace(1, max(measured * 1.5, 2), 100)
    for fit in fits.cells:
        ax = _axis_for(grid, facets, fit.cell)
        colour = _PALETTE.get(fit.mode, P.REFERENCE)  # no mode column
        ax.plot(n, fit.predict(n), color=colour, label=text.mathtext(f"USL {fit.mode}"))
        low, high = fit.band(n)
        ax.fill_between(n, low, high, color=colour, alpha=0.2, linewidth=0)
    for ax in grid.axes.flat:
        _shade_extrapolated(ax, measured, n[-1])
    handles = [plt.Line2D([], [], color=_PALETTE[m], marker="o", ls="", label=m) for m in (_order(runs) or [])]
    seen = {}
    for ax in grid.axes.flat:
        for artist in [*ax.lines, *ax.patches]:
            if not artist.get_label().startswith("_"):
                seen.setdefault(artist.get_label(), artist)
    handles += list(seen.values())
    grid.figure.legend(handles, [h.get_label() for h in handles], loc="center left", bbox_to_anchor=(1.0, 0.5),
                       frameon=False, title="runs (points), fits (lines)")
    grid.set_axis_labels("guests (count)", IOPS_LABEL)
    _stand_in_legend(grid.figure, stand_in)
    finish(grid.figure, layout=False)
    return grid


def plot_ratio_map(ratios: pd.DataFrame, *, stand_in: bool = False) -> plt.Figure:
    """Heat map of log2(persistent / non-persistent) over guests x cells; '?' where the band spans 1.
    Below it the ratio per cell, hatched beyond the most guests measured (said "extrapolated" in the
    legend); ``stand_in`` (the bundled example) says the modes are stand-ins in the labels."""
    modes = "persistent / non-persistent" + (" (stand-ins)" if stand_in else "")
    table = ratios.pivot(index="cell", columns="guests", values="ratio")
    marks = ratios.pivot(index="cell", columns="guests", values="verdict").replace(
        {"persistent pays": "P", "non-persistent pays": "N", "unclear": "?"})
    fig, (ax_map, ax_line) = plt.subplots(2, 1, figsize=(10, 2.2 + 0.5 * len(table) + 3.5),
                                          height_ratios=[len(table) + 1, 3.5], layout="constrained")
    logs = np.log2(table.astype(float))
    logs.index = marks.index = [text.mathtext(cell) for cell in logs.index]  # the user's condition values
    limit = float(np.nanmax(np.abs(logs.to_numpy()))) if np.isfinite(logs.to_numpy()).any() else 1.0
    sns.heatmap(logs, ax=ax_map, cmap="RdBu", center=0, vmin=-limit, vmax=limit, annot=marks, fmt="",
                cbar_kws={"label": f"log2 of the IOPS ratio\n{modes}"})
    ax_map.set_xlabel("guests (count)")
    ax_map.set_ylabel("condition (manifest columns\nother than mode, guests, run)")
    for cell, sub in ratios.groupby("cell"):
        line, = ax_line.plot(sub["guests"], sub["ratio"], label=text.mathtext(cell))
        ax_line.fill_between(sub["guests"], sub["ratio_low"], sub["ratio_high"], color=line.get_color(), alpha=0.2)
    measured = ratios.loc[~ratios["extrapolated"], "guests"].max()
    if ratios["extrapolated"].any():
        _shade_extrapolated(ax_line, measured, ratios["guests"].max())
        beyond = int((table.columns <= measured).sum())  # heat-map columns are 0, 1, ... in guest order
        ax_map.axvspan(beyond, len(table.columns), facecolor="none", edgecolor=P.REFERENCE,
                       hatch=EXTRAPOLATED_HATCH, linewidth=0)
    ax_line.axhline(1, color="black", linewidth=0.8)
    ax_line.set_xlabel(f"guests (count; hatched: beyond the {measured} measured, the fits extrapolate)")
    ax_line.set_ylabel(f"{modes}\n(band: 95% bootstrap)")
    ax_line.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), borderaxespad=0, frameon=False)
    finish(fig)
    return fig


def plot_cost_balance(balance: pd.DataFrame) -> plt.Figure:
    """Heat map of log2(unmap / copy) per request over dom0 VCPUs x block size (decision.cost_balance).

    Letters as plot_ratio_map; a * marks VCPU counts beyond those measured (a linear extrapolation).
    """
    order = balance.drop_duplicates("bs").sort_values("bs_bytes")["bs"]
    table = balance.pivot(index="bs", columns="dom0_vcpus", values="ratio").loc[order]
    letters = balance["verdict"].map({"persistent pays": "P", "non-persistent pays": "N", "unclear": "?"})
    marks = balance.assign(mark=letters + np.where(balance["extrapolated"], "*", "")).pivot(
        index="bs", columns="dom0_vcpus", values="mark").loc[order]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(table)))
    logs = np.log2(table.astype(float))
    limit = float(np.nanmax(np.abs(logs.to_numpy())))
    sns.heatmap(logs, ax=ax, cmap="RdBu", center=0, vmin=-limit, vmax=limit, annot=marks, fmt="",
                cbar_kws={"label": "log2(unmap / copy per request)"})
    ax.set_xlabel("dom0 VCPUs (remote CPUs taking the flush = VCPUs - 1)")
    ax.set_ylabel("block size (pages x 4 KiB)")
    fig.tight_layout()
    return finish(fig, layout=False)


def plot_memory(memory: pd.DataFrame) -> sns.FacetGrid:
    """Worst-case dom0 memory held by persistent grants per host against guests (the y label is
    wrapped so it stays beside the axes and clear of the caller's title)."""
    grid = sns.relplot(data=memory, x="guests", y="mem_mib", hue="bs", style="queues", kind="line",
                       markers=True, height=4, aspect=1.6)
    grid.set_axis_labels("guests (count, one disk each)", "persistently mapped grants\nper host (MiB)")
    grid.tight_layout()
    finish(grid.figure, layout=False)
    return grid


def _facet_key(facets: dict, values) -> object:
    """The FacetGrid.axes_dict key of a panel: the col value, the row value, or (row, col)."""
    if "row" in facets and "col" in facets:
        return (values[facets["row"]], values[facets["col"]])
    if facets:
        return values[next(iter(facets.values()))]
    return None


def _facet_data(runs: pd.DataFrame, grid: sns.FacetGrid, facets: dict):
    """(axis, rows of runs drawn in it) for every panel."""
    if not facets:
        return [(grid.ax, runs)]
    names = [facets[k] for k in ("row", "col") if k in facets]
    return [(grid.axes_dict[_facet_key(facets, dict(zip(names, key if isinstance(key, tuple) else (key,))))], sub)
            for key, sub in runs.groupby(names)]


def _axis_for(grid: sns.FacetGrid, facets: dict, cell: dict):
    return grid.axes_dict[_facet_key(facets, cell)] if facets else grid.ax
