"""Figures of the bundled fio sweep (notebook 01): total IOPS, CPU share, latency, json+ histograms.

Every function takes the tidy tables of :mod:`analysis.ingest.sweep` / :mod:`analysis.ingest.fio`
and a ``label`` naming the machine and fio version (the data's provenance), and returns the figure.
Engines keep their :data:`analysis.plots.palette.ENGINE` colour and marker.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis.plots import palette as P
from analysis.plots.layout import finish


def total_iops(totals: pd.DataFrame, label: str) -> plt.Figure:
    """Total IOPS per run against jobs, per rw: a line through the median of the reps, every rep a point."""
    engines = P.order(P.ENGINE, totals["ioengine"])
    colours, marks = P.colours(P.ENGINE, engines), P.markers(P.ENGINE, engines)
    grid = sns.relplot(data=totals, x="jobs", y="iops", hue="ioengine", style="ioengine", col="rw",
                       hue_order=engines, style_order=engines, palette=colours, markers=marks,
                       kind="line", estimator="median", errorbar=None, height=4, aspect=1.1)
    for ax, rw in zip(grid.axes.flat, grid.col_names):
        part = totals[totals["rw"] == rw]
        sns.scatterplot(data=part, x="jobs", y="iops", hue="ioengine", hue_order=engines, palette=colours, ax=ax,
                        legend=False, alpha=0.5, s=25)
        ax.set_title(f"rw={rw}, bs=4 KiB")
    grid.set_axis_labels("independent fio jobs N (stand-ins for guests)", "total IOPS (I/O per s, sum over jobs)")
    grid.figure.suptitle(f"fio sweep: total IOPS vs jobs (line: median of reps, points: each rep)\n{label}", y=1.08)
    return finish(grid.figure, layout=False)


def cpu_share(totals: pd.DataFrame, logical_cores: int, label: str) -> plt.Figure:
    """The jobs' CPU time against jobs, coloured by the load average before each run; dashed: all cores."""
    engines = P.order(P.ENGINE, totals["ioengine"])
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.scatterplot(data=totals, x="jobs", y="cpu_pct", hue="load1_before", style="ioengine", style_order=engines,
                    markers=P.markers(P.ENGINE, engines), palette="viridis", ax=ax)
    ax.axhline(100 * logical_cores, color=P.REFERENCE, ls="--", lw=1)
    ax.text(1, 100 * logical_cores, " all cores", va="bottom", color=P.REFERENCE)
    ax.set_xlabel("independent fio jobs N (count)")
    ax.set_ylabel("CPU used by the fio jobs (% of one CPU)")
    ax.set_title(f"fio sweep: CPU time of the jobs vs N, colour = load average before the run\n{label}", fontsize=10)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1))
    return finish(fig)


def latency(jobs: pd.DataFrame, label: str) -> plt.Figure:
    """Per-job completion latency p50 and p99 (median over jobs and reps) against jobs, per rw, log scale."""
    pct = jobs.melt(id_vars=["ioengine", "rw", "jobs"], value_vars=["clat_p50_ns", "clat_p99_ns"],
                    var_name="percentile", value_name="clat_ns")
    pct["percentile"] = pct["percentile"].map({"clat_p50_ns": "p50", "clat_p99_ns": "p99"})
    pct["clat_us"] = pct["clat_ns"] / 1000
    engines = P.order(P.ENGINE, pct["ioengine"])
    grid = sns.relplot(data=pct, x="jobs", y="clat_us", hue="ioengine", style="percentile", col="rw", kind="line",
                       hue_order=engines, palette=P.colours(P.ENGINE, engines),
                       estimator="median", errorbar=None, markers=True, height=4, aspect=1.1)
    grid.set(yscale="log")
    grid.set_axis_labels("independent fio jobs N (count)", "completion latency (us, log scale)")
    grid.figure.suptitle(f"fio sweep: per-job clat p50 and p99 (median over jobs and reps)\n{label}", y=1.08)
    return finish(grid.figure, layout=False)


def latency_cdf(hist: pd.DataFrame, label: str) -> plt.Figure:
    """Empirical CDFs of json+ clat histograms (``bin_ns``, ``count``), one per ``run``.

    ``hist`` also has ``ioengine`` and ``jobs`` per run: the colour is the engine's, the line style
    tells the job counts apart.
    """
    runs = hist.drop_duplicates("run")[["run", "ioengine", "jobs"]]
    dashes = dict(zip(sorted(runs["jobs"].unique()), ["-", "--", ":", "-."]))
    fig, ax = plt.subplots(figsize=(7, 4))
    for _, run in runs.iterrows():
        part = hist[hist["run"] == run["run"]]
        sns.ecdfplot(x=part["bin_ns"] / 1000, weights=part["count"], log_scale=True, ax=ax, label=run["run"],
                     color=P.colour(P.ENGINE, run["ioengine"]), linestyle=dashes[run["jobs"]])
    ax.legend(title="run")
    ax.set_xlabel("completion latency (us, log scale)")
    ax.set_ylabel("fraction of I/Os (cumulative, 0-1)")
    ax.set_title(f"fio json+ clat histograms, randread 4 KiB, all jobs of each run\n{label}", fontsize=10)
    return finish(fig)
