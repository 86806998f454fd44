"""Figures of the scaling models (notebooks 03 and 04): the USL against the thread's two points, USL
fits to the fio sweep, and the TLB-shootdown model on simulated unmap costs and as a what-if.

Every function takes the tables (the thread's ``iops-vs-guests`` points, the sweep's totals, the
simulated unmap costs) and the fitted models from :mod:`analysis.models`, and returns the figure.
Measured or digitized points are black (:data:`analysis.plots.palette.MEASURED`); the title or a
footnote names the data and the model.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.models import usl
from analysis.plots import palette as P
from analysis.plots.layout import finish

THROUGHPUT_LABEL = "total throughput (thousand IOPS)"


def _seed_points(seed_table: pd.DataFrame) -> tuple[int, float, int, float, str]:
    """(N at the peak, X there, the later N, X there, the points' legend label) of the thread's table."""
    peak, late = seed_table[seed_table["peak"]].iloc[0], seed_table[~seed_table["peak"]].iloc[0]
    date = str(peak["message_date"]).split()[0]
    name = f"thread, {date} (Xen, {int(peak['dom0_vcpus'])} dom0 VCPUs)"
    return int(peak["guests"]), float(peak["total_iops"]), int(late["guests"]), float(late["total_iops"]), name


def usl_peak_family(seed_table: pd.DataFrame, lowest_ratio: float, sigmas=(0.0, 0.2, 0.5, 0.8)) -> plt.Figure:
    """USLs that peak exactly at the thread's peak, one per sigma, with the thread's points.

    ``lowest_ratio`` is the smallest X(late)/X(peak) of any such USL (``peak_ratio_bounds``), drawn
    as a line.
    """
    n_peak, x_peak, n_late, x_late, name = _seed_points(seed_table)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    n_grid = np.linspace(1, 12, 200)
    for sigma in sigmas:
        kappa = (1 - sigma) / n_peak**2
        lam = x_peak / usl(n_peak, lam=1.0, sigma=sigma, kappa=kappa)
        ax.plot(n_grid, usl(n_grid, lam=lam, sigma=sigma, kappa=kappa) / 1e3,
                label=f"USL peaking at {n_peak}, sigma = {sigma:.1f}, kappa = {kappa:.3f}")
    ax.scatter(seed_table["guests"], seed_table["total_iops"] / 1e3, color=P.MEASURED, zorder=5, label=name)
    lowest = lowest_ratio * x_peak / 1e3
    ax.axhline(lowest, color=P.REFERENCE, ls=":", label=f"lowest X({n_late}) of any such USL ({lowest:.0f}k)")
    ax.set(xlabel="guests doing I/O (N)", ylabel=THROUGHPUT_LABEL,
           title=f"Every USL (sigma, kappa >= 0) that peaks at {n_peak} guests through {x_peak / 1e3:.0f}k IOPS\n"
                 f"stays above {lowest:.0f}k at {n_late} guests; the thread reports {x_late / 1e3:.0f}k")
    ax.legend(fontsize=9, loc="lower right")
    return finish(fig)


def exact_fits(seed_table: pd.DataFrame, curves: dict) -> plt.Figure:
    """USLs fitted exactly through the thread's two points, one per fixed sigma (``curves``: sigma -> fit)."""
    n_peak, x_peak, _, _, name = _seed_points(seed_table)
    peaks = [fit.peak()[0] for fit in curves.values()]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    n_grid = np.linspace(1, 12, 200)
    for sigma, fit in curves.items():
        ax.plot(n_grid, fit.predict(n_grid) / 1e3, label=f"USL through both points, sigma fixed at {sigma}")
    ax.scatter(seed_table["guests"], seed_table["total_iops"] / 1e3, color=P.MEASURED, zorder=5, label=name)
    ax.axvline(n_peak, color=P.REFERENCE, ls=":", label=f"claimed peak ({n_peak} guests)")
    ax.set(xlabel="guests doing I/O (N)", ylabel=THROUGHPUT_LABEL,
           title="USLs through the thread's two points (exact fits, no intervals):\n"
                 f"all peak at {min(peaks):.1f}-{max(peaks):.1f} guests, above {x_peak / 1e3:.0f}k IOPS, "
                 f"not at {n_peak}")
    ax.legend(fontsize=9)
    return finish(fig)


def sweep_fits(runs: pd.DataFrame, fits: dict, label: str) -> plt.Figure:
    """USL fits with their bootstrap band to the sweep's totals, one panel per (ioengine, rw)."""
    n_grid = np.linspace(1, runs["jobs"].max(), 100)
    panels = sorted(fits.items())
    fig, axes = plt.subplots(2, int(np.ceil(len(panels) / 2)), figsize=(10, 7), sharex=True, squeeze=False)
    for ax, ((engine, rw), fit) in zip(axes.flat, panels):
        group = runs[(runs["ioengine"] == engine) & (runs["rw"] == rw)]
        reps = group.groupby("jobs").size().max()
        colour = P.colour(P.ENGINE, engine)
        lo, hi = fit.predict_band(n_grid)
        ax.fill_between(n_grid, lo / 1e3, hi / 1e3, alpha=0.25, color=colour, label="95% bootstrap band")
        ax.plot(n_grid, fit.predict(n_grid) / 1e3, color=colour, label="USL fit")
        ax.scatter(group["jobs"], group["iops"] / 1e3, s=14, color=P.MEASURED, label=f"fio runs ({reps} per N)")
        ax.set(title=f"{engine}, {rw}, 4 KiB", xlabel="fio jobs (N)", ylabel="total IOPS (thousands)")
    axes.flat[0].legend(fontsize=9)
    fig.suptitle(f"USL fits to the fio sweep, {label}", fontsize=10)
    return finish(fig)


def simulated_unmap(design: pd.DataFrame, fit, fit_linear, caption: str) -> plt.Figure:
    """Simulated cost per unmap against dom0 VCPUs, one colour per number of concurrent unmappers,
    with the contention fit (solid) and the linear fit (dotted); ``caption`` names the data file."""
    vcpus, unmap_ns, unmappers = (design[c].to_numpy(float) for c in ("dom0_vcpus", "unmap_ns", "unmappers"))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    grid = np.linspace(1, vcpus.max(), 100)
    counts = sorted(set(unmappers))
    for colour, m in zip([P.BLUE, P.ORANGE, P.GREEN, P.VERMILLION, P.PINK], counts):
        sel = unmappers == m
        ax.scatter(vcpus[sel], unmap_ns[sel] / 1e3, color=colour, s=18, label=f"simulated, {m:g} unmapper(s)")
        ax.plot(grid, fit.predict(grid, m) / 1e3, color=colour, label=f"contention fit, m = {m:g}")
        ax.plot(grid, fit_linear.predict(grid, m) / 1e3, color=colour, ls=":", lw=1)
    ax.set(xlabel="dom0 VCPUs (V)", ylabel="cost per unmap (µs)",
           title="SIMULATED unmap cost (design B) with the contention fit (solid)\n"
                 "and the linear fit (dotted), ShootdownModel")
    fig.text(0.01, -0.02, textwrap.fill(caption, 120), fontsize=9, ha="left", va="top")
    ax.legend(fontsize=9, ncol=2)
    return finish(fig)


def shootdown_whatif(curves: pd.DataFrame, seed_table: pd.DataFrame) -> plt.Figure:
    """Predicted total IOPS against guests, one line per dom0 size (``curves``: dom0_vcpus, guests,
    iops), with the thread's peak; an illustration under the model's assumptions, not a forecast."""
    n_peak, x_peak, _, _, _ = _seed_points(seed_table)
    vcpus = int(seed_table["dom0_vcpus"].iloc[0])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for v, part in curves.groupby("dom0_vcpus", sort=True):
        ax.plot(part["guests"], part["iops"] / 1e3, marker="o", ms=3, label=f"{v} dom0 VCPUs")
    ax.scatter([n_peak], [x_peak / 1e3], color=P.MEASURED, zorder=5, label=f"thread's peak (Xen, {vcpus} dom0 VCPUs)")
    ax.set(xlabel="guests doing I/O (N)", ylabel=THROUGHPUT_LABEL,
           title="ILLUSTRATION: shootdown model, rule-of-thumb unmap cost, calibrated to the\n"
                 f"thread's peak at {vcpus} VCPUs; other dom0 sizes are what-ifs (assumptions 1-4, N <= V)")
    ax.legend(fontsize=9)
    return finish(fig)
