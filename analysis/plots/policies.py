"""Figures of the grant-store simulator's data sets (notebook 08): the fallback cliff, the throughput
bound, Ian's LRU trade-off, predictability near the cap, a malicious frontend, burst-then-idle memory.

Every function takes a simulated table (as :func:`analysis.simulated.grants.read` returns it, with
:func:`analysis.xen.grants.with_costs` applied where times are drawn) and its sidecar ``meta``, and
returns the figure; the title is :func:`analysis.simulated.grants.caption` of the sidecar, so it
names the simulator and its parameters. Each policy keeps its
:data:`analysis.plots.palette.POLICY` colour and marker.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.plots import palette as P
from analysis.simulated.grants import caption
from analysis.xen.grants import Costs, throughput_iops

#: (column, y label) of the cliff's panels; ``{guests}`` is filled in.
CLIFF_PANELS = [("hit_rate", "hit rate (segments served without a map, fraction)"),
                ("dom0_us_per_request", "dom0 CPU time per request (us)"),
                ("goodput_iops", "successful requests/s, {guests} guests (req/s)"),
                ("max_mapped_mib", "pages held, high-water (MiB)")]


def cliff(table: pd.DataFrame, meta: dict, *, order: str, guests: int) -> plt.Figure:
    """Hit rate, dom0 time, goodput and pages held against the working set, per policy, for one
    access ``order``; ``table`` has the cost columns for ``guests`` guests and ``max_mapped_mib``."""
    part = table[table["order"] == order]
    labels = P.order(P.POLICY, part["label"])
    cap = meta["parameters"]["cap_pages"]
    fig, axes = plt.subplots(1, len(CLIFF_PANELS), figsize=(20, 4.5))
    for ax, (column, ylabel) in zip(axes, CLIFF_PANELS):
        sns.lineplot(data=part, x="working_set_pages", y=column, hue="label", hue_order=labels, style="label",
                     style_order=labels, palette=P.colours(P.POLICY, labels), markers=P.markers(P.POLICY, labels),
                     dashes=False, ax=ax, legend=ax is axes[0])
        ax.axvline(cap, color=P.REFERENCE, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("working set W (pages of 4 KiB)")
        ax.set_ylabel(ylabel.format(guests=guests))
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Fallback cliff, {order} order; dotted line = cap. "
                 + caption(meta, order=order) + "; costs: assumed defaults", fontsize=9)
    fig.tight_layout()
    return fig


def throughput_bound(table: pd.DataFrame, meta: dict, costs: Costs, *, working_sets=(264, 440),
                     guests=np.arange(1, 41)) -> plt.Figure:
    """Bound on successful requests/s against identical guests, per policy, at each working set
    (random order): :func:`analysis.xen.grants.throughput_iops` times the share not failed."""
    cap = meta["parameters"]["cap_pages"]
    fig, axes = plt.subplots(1, len(working_sets), figsize=(7 * len(working_sets), 4), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, w in zip(axes, working_sets):
        at_w = table[(table["order"] == "random") & (table["working_set_pages"] == w)]
        at_w = at_w.set_index("label").loc[P.order(P.POLICY, at_w["label"])].reset_index()
        for _, row in at_w.iterrows():
            ok = 1 - row["failed_requests"] / row["requests"]
            style = P.POLICY[row["label"]]
            ax.plot(guests, throughput_iops(row, costs, guests) * ok / 1e6, color=style.colour, marker=style.marker,
                    markevery=5, ms=4, label=row["label"])
        ax.set_title(f"working set W = {w} pages (cap {cap})")
        ax.set_xlabel("guests (count; identical, 1 VCPU each)")
    axes[0].set_ylabel("successful requests/s (millions), bound")
    axes[-1].legend(fontsize=8)
    fig.suptitle(caption(meta, order="random") + f"; costs: assumed, dom0 VCPUs = {costs.dom0_vcpus}", fontsize=9)
    fig.tight_layout()
    return fig


def lru_tradeoff(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Hit rate against shootdowns per 1000 requests (``batches_per_1000_requests``) for M = 1..16,
    one line per working set W = ratio x N, one panel per cap N."""
    caps = sorted(table["cap"].unique())
    fig, axes = plt.subplots(1, len(caps), figsize=(6 * len(caps), 4.5), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, n_cap in zip(axes, caps):
        for ratio, part in table[table["cap"] == n_cap].groupby("ratio"):
            part = part.sort_values("m")
            ax.plot(part["batches_per_1000_requests"], part["hit_rate"], marker="o", label=f"W = {ratio} N")
            for _, row in part.iterrows():
                ax.annotate(f"M={row['m']}", (row["batches_per_1000_requests"], row["hit_rate"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_title(f"N = cap = {n_cap} pages")
        ax.set_xlabel("shootdowns per 1000 requests (count)")
    axes[0].set_ylabel("hit rate (fraction of segments)")
    axes[0].legend()
    fig.suptitle(caption(meta) + "; each line: M = 1..16 at one working set W", fontsize=9)
    fig.tight_layout()
    return fig


def predictability_boxes(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Distribution of dom0 time per request, per policy, one panel per working set."""
    labels = P.order(P.POLICY, table["label"])
    grid = sns.catplot(data=table, x="label", y="dom0_us_per_request", col="working_set_pages", kind="box",
                       order=labels, hue="label", hue_order=labels, palette=P.colours(P.POLICY, labels),
                       saturation=1, legend=False, height=4, aspect=1.2, showfliers=True)
    grid.set_axis_labels("grant policy", "dom0 CPU time per request (us)")
    grid.set_titles("working set W = {col_name} pages (cap " + str(meta["parameters"]["cap_pages"]) + ")")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=30)
    grid.figure.suptitle(caption(meta) + "; costs: assumed defaults", fontsize=9, y=1.03)
    return grid.figure


def predictability_trace(table: pd.DataFrame, meta: dict, *, working_set_pages: int = 440,
                         window: int = 50) -> plt.Figure:
    """dom0 time per request along the trace (rolling mean of ``window``), per policy, at one working set."""
    at_w = table[table["working_set_pages"] == working_set_pages]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    for name in P.order(P.POLICY, at_w["label"]):
        part = at_w[at_w["label"] == name]
        ax.plot(part["request"], part["dom0_us_per_request"].rolling(window, min_periods=1).mean(),
                color=P.colour(P.POLICY, name), label=name)
    ax.set_xlabel("request index (count)")
    ax.set_ylabel(f"dom0 us per request (mean of {window}, us)")
    ax.legend(fontsize=8)
    ax.set_title(caption(meta, working_set_pages=working_set_pages) + "; costs: assumed", fontsize=9)
    return fig


#: (column, x label) of the malicious-frontend panels.
MALICIOUS_PANELS = [("max_resident_pages", "persistent pages, high-water (pages)"),
                    ("max_held_pages", "pages held: persistent + transient in flight (pages)"),
                    ("dom0_us_per_request", "mean dom0 CPU time per request (us)")]


def malicious(summary: pd.DataFrame, meta: dict) -> plt.Figure:
    """Bars per policy (``summary`` indexed by label): pages held and dom0 time under fresh grefs; dotted: cap."""
    colours = [P.colour(P.POLICY, name) for name in summary.index]
    fig, axes = plt.subplots(1, len(MALICIOUS_PANELS), figsize=(18, 4.5))
    for ax, (column, xlabel) in zip(axes, MALICIOUS_PANELS):
        summary[column].plot.barh(ax=ax, color=colours)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("grant policy")
    for ax in axes[:2]:
        ax.axvline(meta["parameters"]["cap_pages"], color=P.REFERENCE, ls=":")
    fig.suptitle(caption(meta) + "; dotted = cap; costs: assumed", fontsize=9)
    fig.tight_layout()
    return fig


def phase(table: pd.DataFrame, meta: dict) -> plt.Figure:
    """Pages held against simulated time (``time_s``), one row per policy."""
    labels = P.order(P.POLICY, table["label"])
    grid = sns.relplot(data=table, x="time_s", y="mapped_pages", row="label", row_order=labels, hue="label",
                       hue_order=labels, palette=P.colours(P.POLICY, labels), legend=False, kind="line",
                       drawstyle="steps-post", height=1.8, aspect=6, facet_kws={"sharey": True})
    grid.set_axis_labels("simulated time (s)", "pages held (pages)")
    grid.set_titles("{row_name}")
    grid.figure.suptitle(caption(meta) + "; rows: windows of 10 requests", fontsize=9, y=1.02)
    return grid.figure
