"""Figures of the grant-store simulator's data sets (notebook 08): the fallback cliff, the throughput
bound, Ian's LRU trade-off, predictability near the cap, a malicious frontend, burst-then-idle memory.

Every function takes a simulated table (as :func:`analysis.simulated.grants.read` returns it, with
:func:`analysis.xen.grants.with_costs` applied where times are drawn) and its sidecar ``meta``, and
returns the figure; the title is :func:`analysis.simulated.grants.caption` of the sidecar, so it
names the simulator and its parameters. Each policy keeps its
:data:`analysis.plots.palette.POLICY` colour and marker.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.plots import palette as P
from analysis.plots.layout import finish, highlight
from analysis.simulated.grants import caption
from analysis.xen.grants import Costs, throughput_iops

#: (column, y label) of the cliff's panels; ``{guests}`` is filled in.
CLIFF_PANELS = [("hit_rate", "hit rate (fraction of segments served without a map)"),
                ("dom0_us_per_request", "dom0 CPU time per request (us)"),
                ("goodput_iops", "successful requests/s, {guests} guests (millions)"),
                ("max_mapped_mib", "pages held, high-water (MiB)")]


#: Policies per panel of the cliff: at most this many coloured lines, the others grey behind them.
CLIFF_HIGHLIGHT = 3


def cliff(table: pd.DataFrame, meta: dict, *, order: str, guests: int) -> plt.Figure:
    """Hit rate, dom0 time, goodput and pages held (rows) against the working set, for one access
    ``order``, as small multiples: each column highlights up to :data:`CLIFF_HIGHLIGHT` policies in
    their palette colour over the others in grey; ``table`` has the cost columns for ``guests``
    guests and ``max_mapped_mib``."""
    part = table[table["order"] == order].sort_values("working_set_pages")
    labels = P.order(P.POLICY, part["label"])
    groups = [labels[i:i + CLIFF_HIGHLIGHT] for i in range(0, len(labels), CLIFF_HIGHLIGHT)]
    cap = meta["parameters"]["cap_pages"]
    fig, axes = plt.subplots(len(CLIFF_PANELS), len(groups), figsize=(4.1 * len(groups) + 1.2, 2.8 * len(CLIFF_PANELS) + 1),
                             sharex=True, sharey="row", squeeze=False, layout="constrained")
    for row, (column, ylabel) in enumerate(CLIFF_PANELS):
        # one row per policy and working set (the simulator's table): the line is the table itself
        scale = 1e6 if column == "goodput_iops" else 1  # drawn in millions, as its label says
        means = {name: (sub["working_set_pages"].to_numpy(), sub[column].to_numpy() / scale)
                 for name, sub in part.groupby("label")}
        for col, shown in enumerate(groups):
            ax = axes[row, col]
            highlight(ax, means, shown, P.POLICY, ms=4)
            ax.axvline(cap, color=P.REFERENCE, ls=":")
            ax.set_xscale("log")
            if row == 0:
                ax.set_title("\n".join(shown) + "\n(grey: the other policies)", fontsize=9)
            if row == len(CLIFF_PANELS) - 1:
                ax.set_xlabel("working set W (pages of 4 KiB)")
        axes[row, 0].set_ylabel(textwrap.fill(ylabel.format(guests=guests), 20))
    handles = [line for ax in axes[0] for line in ax.lines if not line.get_label().startswith("_")]
    fig.legend(handles, [h.get_label() for h in handles], loc="outside lower center", title="grant policy",
               ncol=3, frameon=False)
    fig.suptitle(textwrap.fill(f"Fallback cliff, {order} order; dotted line = cap. "
                               + caption(meta, order=order) + "; costs: assumed defaults", 150), fontsize=10)
    return finish(fig)


def throughput_bound(table: pd.DataFrame, meta: dict, costs: Costs, *, working_sets=(264, 440),
                     guests=np.arange(1, 41)) -> plt.Figure:
    """Bound on successful requests/s against identical guests, per policy, at each working set
    (random order, one row each): :func:`analysis.xen.grants.throughput_iops` times the share not
    failed; each column highlights up to :data:`CLIFF_HIGHLIGHT` policies over the others in grey."""
    random = table[table["order"] == "random"]
    labels = P.order(P.POLICY, random[random["working_set_pages"].isin(working_sets)]["label"])
    groups = [labels[i:i + CLIFF_HIGHLIGHT] for i in range(0, len(labels), CLIFF_HIGHLIGHT)]
    fig, axes = plt.subplots(len(working_sets), len(groups), figsize=(4.1 * len(groups) + 1.2, 3 * len(working_sets) + 1),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    for row, w in enumerate(working_sets):
        at_w = random[random["working_set_pages"] == w].set_index("label")
        lines = {name: (guests, throughput_iops(at_w.loc[name], costs, guests)
                        * (1 - at_w.loc[name, "failed_requests"] / at_w.loc[name, "requests"]) / 1e6)
                 for name in labels if name in at_w.index}
        for col, shown in enumerate(groups):
            ax = axes[row, col]
            highlight(ax, lines, shown, P.POLICY, markevery=5, ms=4)
            if row == 0:
                ax.set_title("\n".join(shown) + "\n(grey: the other policies)", fontsize=9)
            if row == len(working_sets) - 1:
                ax.set_xlabel("guests (count; identical, 1 VCPU each)")
        axes[row, 0].set_ylabel(f"W = {w} pages:\nsuccessful req/s\n(millions), bound")
    handles = [line for ax in axes[0] for line in ax.lines if not line.get_label().startswith("_")]
    fig.legend(handles, [h.get_label() for h in handles], loc="outside lower center", title="grant policy",
               ncol=3, frameon=False)
    fig.suptitle(textwrap.fill(caption(meta, order="random") + f"; costs: assumed, dom0 VCPUs = "
                               f"{costs.dom0_vcpus}",
                               150), fontsize=10)
    return finish(fig)


def vcpu_bound(bound: pd.DataFrame, meta: dict, *, guests: int, working_set_pages: int) -> plt.Figure:
    """Successful requests/s (``successful_miops``, millions) against dom0 VCPUs (``dom0_vcpus``), per
    policy (``label``), with one blkback thread per guest (random order, one working set); each panel
    highlights up to :data:`CLIFF_HIGHLIGHT` policies over the others in grey."""
    labels = P.order(P.POLICY, bound["label"])
    groups = [labels[i:i + CLIFF_HIGHLIGHT] for i in range(0, len(labels), CLIFF_HIGHLIGHT)]
    lines = {name: (part["dom0_vcpus"].to_numpy(), part["successful_miops"].to_numpy())
             for name, part in bound.sort_values("dom0_vcpus").groupby("label")}
    fig, axes = plt.subplots(1, len(groups), figsize=(4.1 * len(groups) + 1.2, 4.6), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, shown in zip(axes[0], groups):
        highlight(ax, lines, shown, P.POLICY, ms=4)
        ax.set_title("\n".join(shown) + "\n(grey: the other policies)", fontsize=9)
        ax.set_xlabel("dom0 VCPUs V (count; each\nflush IPIs V - 1 of them)")
    axes[0, 0].set_ylabel(f"successful requests/s\n(millions), {guests} guests")
    handles = [line for ax in axes[0] for line in ax.lines if not line.get_label().startswith("_")]
    fig.legend(handles, [h.get_label() for h in handles], loc="outside lower center", title="grant policy",
               ncol=3, frameon=False)
    fig.suptitle(textwrap.fill(caption(meta, order="random", working_set_pages=working_set_pages)
                               + "; costs: assumed, one blkback thread per guest", 130), fontsize=10)
    return finish(fig)


def lru_tradeoff(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Hit rate against shootdowns per 1000 requests (``batches_per_1000_requests``) for M = 1..16,
    one line per working set W = ratio x N, one panel per cap N."""
    caps = sorted(table["cap"].unique())
    fig, axes = plt.subplots(1, len(caps), figsize=(4.4 * len(caps), 4.2), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, n_cap in zip(axes, caps):
        for ratio, part in table[table["cap"] == n_cap].groupby("ratio"):
            part = part.sort_values("m")
            ax.plot(part["batches_per_1000_requests"], part["hit_rate"], marker="o", label=f"W = {ratio} N")
            for _, row in part.iterrows():
                ax.annotate(f"M={row['m']}", (row["batches_per_1000_requests"], row["hit_rate"]), fontsize=9,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_title(f"N = cap = {n_cap} pages")
        ax.set_xlabel("shootdowns per 1000 requests (count)")
    axes[0].set_ylabel("hit rate (fraction of segments)")
    axes[0].legend()
    fig.suptitle(caption(meta) + "; each line: M = 1..16 at one working set W", fontsize=10)
    return finish(fig)


def predictability_boxes(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Distribution of dom0 time per request, per policy, one panel per working set."""
    labels = P.order(P.POLICY, table["label"])
    grid = sns.catplot(data=table, x="label", y="dom0_us_per_request", col="working_set_pages", kind="box",
                       order=labels, hue="label", hue_order=labels, palette=P.colours(P.POLICY, labels),
                       saturation=1, legend=False, height=4, aspect=1.05, showfliers=True)
    grid.set_axis_labels("grant policy", "dom0 CPU time per request (us)")
    grid.set_titles("working set W = {col_name} pages (cap " + str(meta["parameters"]["cap_pages"]) + ")")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=30)
    grid.figure.suptitle(caption(meta) + "; costs: assumed defaults", fontsize=10, y=1.03)
    return finish(grid.figure, layout=False)


def predictability_trace(table: pd.DataFrame, meta: dict, *, working_set_pages: int = 440,
                         window: int = 50) -> plt.Figure:
    """dom0 time per request along the trace (rolling mean of ``window``), per policy, at one working
    set; each panel highlights up to :data:`CLIFF_HIGHLIGHT` policies over the others in grey."""
    at_w = table[table["working_set_pages"] == working_set_pages]
    labels = P.order(P.POLICY, at_w["label"])
    groups = [labels[i:i + CLIFF_HIGHLIGHT] for i in range(0, len(labels), CLIFF_HIGHLIGHT)]
    lines = {name: (part["request"].to_numpy(),
                    part["dom0_us_per_request"].rolling(window, min_periods=1).mean().to_numpy())
             for name, part in at_w.groupby("label")}
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, 2.4 * len(groups) + 1.6), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    for ax, shown in zip(axes[:, 0], groups):
        highlight(ax, lines, shown, P.POLICY, marker=None)
        ax.set_ylabel(f"dom0 us per request\n(mean of {window}, us)")
    axes[-1, 0].set_xlabel("request index (count)")
    handles = [line for ax in axes[:, 0] for line in ax.lines if not line.get_label().startswith("_")]
    fig.legend(handles, [h.get_label() for h in handles], loc="outside lower center", title="grant policy",
               ncol=3, frameon=False)
    fig.suptitle(textwrap.fill(caption(meta, working_set_pages=working_set_pages) + "; costs: assumed; "
                               "each panel: its policies coloured, the others grey", 130), fontsize=10)
    return finish(fig)


#: (column, x label) of the malicious-frontend panels.
MALICIOUS_PANELS = [("max_resident_pages", "persistent pages, high-water (pages)"),
                    ("max_held_pages", "pages held: persistent + transient in flight (pages)"),
                    ("dom0_us_per_request", "mean dom0 CPU time per request (us)")]


def malicious(summary: pd.DataFrame, meta: dict) -> plt.Figure:
    """Bars per policy (``summary`` indexed by label): pages held and dom0 time under fresh grefs; dotted: cap."""
    colours = [P.colour(P.POLICY, name) for name in summary.index]
    fig, axes = plt.subplots(1, len(MALICIOUS_PANELS), figsize=(14, 4.5), sharey=True)
    for ax, (column, xlabel) in zip(axes, MALICIOUS_PANELS):
        summary[column].plot.barh(ax=ax, color=colours)
        ax.set_xlabel(textwrap.fill(xlabel, 28))
        ax.set_ylabel("grant policy")
    for ax in axes[:2]:
        ax.axvline(meta["parameters"]["cap_pages"], color=P.REFERENCE, ls=":")
    fig.suptitle(caption(meta) + "; dotted = cap; costs: assumed", fontsize=10)
    return finish(fig)


def phase(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Pages held against simulated time (``time_s``), one row per policy."""
    labels = P.order(P.POLICY, table["label"])
    grid = sns.relplot(data=table, x="time_s", y="mapped_pages", row="label", row_order=labels, hue="label",
                       hue_order=labels, palette=P.colours(P.POLICY, labels), legend=False, kind="line",
                       drawstyle="steps-post", height=1.8, aspect=6, facet_kws={"sharey": True})
    grid.set_axis_labels("simulated time (s)", "pages held (pages)")
    grid.set_titles("{row_name}")
    grid.figure.suptitle(caption(meta) + "; rows: windows of 10 requests", fontsize=10, y=1.02)
    return finish(grid.figure, layout=False)
