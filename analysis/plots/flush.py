"""Figures of the flush-path models (notebook 12): throughput against guests, one line per model,
mode or dom0 size, with the thread's two points in black.

One function, :func:`throughput_curves`, draws every figure of the notebook from a tidy table of
curves (``guests``, ``iops``, ``series``; optional ``low``/``high`` for a band and ``style``
``line``/``points``) and the thread's digitized points; the caption names the data and the model.
Persistent and non-persistent series take the palette's mode colours.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd

from analysis.plots import palette as P
from analysis.plots.layout import finish
from analysis.plots.scaling import THROUGHPUT_LABEL, _seed_points


def throughput_curves(curves: pd.DataFrame, points: pd.DataFrame, *, title: str, caption: str,
                      band_label: str | None = None) -> plt.Figure:
    """Total IOPS (thousands) against guests for every ``series`` of ``curves``.

    curves: guests, iops, series; optional low/high (a band, labelled ``band_label`` in the
    legend) and style ("line", default, or "points" for simulated points). points: the thread's
    iops-vs-guests table (guests, total_iops, peak, message_date, dom0_vcpus).
    """
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for series, part in curves.groupby("series", sort=False):
        part = part.sort_values("guests")
        colour = _mode_colour(str(series))
        style = part["style"].iloc[0] if "style" in part.columns else "line"
        if style == "points":
            (line,) = ax.plot(part["guests"], part["iops"] / 1e3, "o--", color=colour, label=series, ms=4)
        else:
            (line,) = ax.plot(part["guests"], part["iops"] / 1e3, color=colour, label=series, lw=1.8)
        if {"low", "high"} <= set(part.columns) and part["low"].notna().any():
            ax.fill_between(part["guests"], part["low"] / 1e3, part["high"] / 1e3, color=line.get_color(),
                            alpha=0.2, lw=0, label=f"{series}: {band_label}" if band_label else None)
    *_, name = _seed_points(points)
    ax.scatter(points["guests"], points["total_iops"] / 1e3, color=P.MEASURED, zorder=5, label=name)
    ax.set(xlabel="guests (count)", ylabel=THROUGHPUT_LABEL, title=title)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.text(0.01, -0.02, "\n".join(textwrap.wrap(caption, 120)), fontsize=9, va="top")
    return finish(fig)


def _mode_colour(series: str) -> str | None:
    """The palette's mode colour when a series names a mode (persistent / non-persistent)."""
    lowered = series.lower()
    if lowered.startswith("non-persistent"):
        return P.colour(P.MODE, "non-persistent")
    if lowered.startswith("persistent"):
        return P.colour(P.MODE, "persistent")
    return None
