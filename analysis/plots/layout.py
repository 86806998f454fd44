"""Readable figures: every text at least :data:`MIN_POINTS` points, legends outside the data.

:func:`finish` is the last call of every figure function of :mod:`analysis.plots`. It moves an axes'
legend out of the data area (to the figure's right edge, under constrained layout) and raises any
text smaller than :data:`MIN_POINTS`. Seaborn grids already keep their legend outside the axes;
for those only the font sizes change. :func:`highlight` draws one panel of a small-multiples
figure: a few series in their palette colour over all the others in light grey.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.text import Text

MIN_POINTS = 9
#: Context lines of a highlighted panel (the series that are not the panel's own): lighter than
#: :data:`analysis.plots.palette.REFERENCE` and than every series colour of the palette.
CONTEXT = "#d9d9d9"
CONTEXT_GID = "context"
#: Where successive axes legends go when they are moved out of the data area.
_OUTSIDE = ["outside right upper", "outside right lower", "outside lower center"]


def readable(fig: plt.Figure) -> plt.Figure:
    """Raise every text of ``fig`` (ticks, labels, titles, legends, annotations) to MIN_POINTS."""
    for artist in fig.findobj(Text):
        if artist.get_fontsize() < MIN_POINTS:
            artist.set_fontsize(MIN_POINTS)
    return fig


def _wrap_suptitle(fig: plt.Figure) -> None:
    """Wrap the figure's title to its width (a one-line caption must not widen the saved image)."""
    title = fig._suptitle
    if title is None:
        return
    chars = int(fig.get_figwidth() * 72 / (0.55 * title.get_fontsize()))
    lines = [textwrap.fill(line, chars) for line in title.get_text().split("\n")]
    title.set_text("\n".join(lines))


def finish(fig: plt.Figure, *, layout: bool = True) -> plt.Figure:
    """Move axes legends (those not already anchored outside) out of the data area and make every text readable; ``layout=False`` for a
    seaborn grid (its legend is already a figure legend beside the axes and it keeps its own layout)."""
    moved = 0
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not layout or legend._bbox_to_anchor is not None:
            continue  # no legend, a grid, or a legend its function already anchored outside the axes
        handles, labels = legend.legend_handles, [t.get_text() for t in legend.texts]
        title = legend.get_title().get_text() or None
        legend.remove()
        fig.legend(handles, labels, title=title, loc=_OUTSIDE[min(moved, len(_OUTSIDE) - 1)],
                   fontsize=MIN_POINTS, frameon=False)
        moved += 1
    readable(fig)
    _wrap_suptitle(fig)
    if layout:
        fig.set_layout_engine("constrained")
    return fig


def highlight(ax, lines: dict[str, tuple], shown: list[str], styles: dict, **kwargs) -> None:
    """Draw every ``name -> (x, y)`` of ``lines`` on ``ax``: the ``shown`` names in their palette
    colour and marker, labelled; the others thin and grey, unlabelled (context)."""
    for name, (x, y) in lines.items():
        if name not in shown:
            # gid "context": not a series of its own here (analysis.site.hover gives it no hover target)
            ax.plot(x, y, color=CONTEXT, lw=1, zorder=1, label="_nolegend_", gid=CONTEXT_GID)
    # a different dash per highlighted series, so one that lies on another still shows
    for name, dashes in zip(shown, ["-", "--", ":"] * len(shown)):
        if name in lines:
            x, y = lines[name]
            style = styles[name]
            ax.plot(x, y, **{"color": style.colour, "marker": style.marker, "ls": dashes, "zorder": 3, "label": name,
                             **kwargs})
