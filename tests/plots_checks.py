"""What every figure of analysis.plots must satisfy, read back from the matplotlib Figure.

Used by the tests/test_plots_*.py modules; nothing is written to disk.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from analysis.plots.layout import CONTEXT as CONTEXT_GREY  # noqa: E402
from analysis.plots.palette import REFERENCE as REFERENCE_GREY  # noqa: E402

UNIT = re.compile(r"\(.*\S.*\)", re.S)  # "(us)", "(MiB, log)", "(count)": a unit or what is counted


def drawn_axes(fig: plt.Figure) -> list:
    """The axes that hold data (not colour bars, not empty facets)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and (ax.lines or ax.collections or ax.patches)]


def assert_units(fig: plt.Figure) -> None:
    """Every data axis has an x and a y label (on the facet that shows it) with a unit in parentheses."""
    axes = drawn_axes(fig)
    assert axes, "the figure draws nothing"
    xlabels = {ax.get_xlabel() for ax in axes} - {""}
    ylabels = {ax.get_ylabel() for ax in axes} - {""}
    assert xlabels and ylabels, f"unlabelled axes: x {xlabels}, y {ylabels}"
    for text in xlabels | ylabels:
        if text == "grant policy":  # a categorical axis: its ticks are the policies' names
            continue
        assert UNIT.search(text), f"axis label without a unit: {text!r}"


def texts(fig: plt.Figure) -> str:
    """Every title, suptitle and free text of the figure, joined (where the data and model are named)."""
    parts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    parts += [ax.get_title() for ax in fig.axes]
    return "\n".join(parts)


def _handle_colour(handle) -> str | None:
    for getter in ("get_color", "get_facecolor", "get_edgecolor"):
        if hasattr(handle, getter):
            value = getattr(handle, getter)()
            if hasattr(value, "ndim") and value.ndim == 2:
                if not len(value):
                    continue
                value = value[0]
            try:
                return to_hex(value)
            except ValueError:
                continue
    return None


def legends(fig: plt.Figure) -> list:
    found = list(fig.legends)
    found += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return found


def legend_colours(fig: plt.Figure) -> dict[str, set[str]]:
    """Legend entry text -> colours of its handles, over every legend of the figure."""
    colours: dict[str, set[str]] = {}
    for legend in legends(fig):
        for text, handle in zip(legend.texts, legend.legend_handles):
            colour = _handle_colour(handle)
            if colour is not None:
                colours.setdefault(text.get_text(), set()).add(colour)
    return colours


def artist_colours(fig: plt.Figure) -> set[str]:
    """Colours of every line, collection and patch drawn in the data axes."""
    found = set()
    for ax in drawn_axes(fig):
        for artist in [*ax.lines, *ax.collections, *ax.patches]:
            colour = _handle_colour(artist)
            if colour is not None:
                found.add(colour)
    return found


def category_colours(fig: plt.Figure, names) -> dict[str, set[str]]:
    """Name -> colours, for figures that name their series on the axes rather than in a legend:
    bars and boxes under a tick label, or a facet whose title is the name."""
    names = set(names)
    colours: dict[str, set[str]] = {}
    for ax in drawn_axes(fig):
        if ax.get_title() in names and ax.lines:
            colours.setdefault(ax.get_title(), set()).update(to_hex(line.get_color()) for line in ax.lines)
        for axis, position in ((ax.yaxis, "get_y"), (ax.xaxis, "get_x")):
            ticks = {round(float(tick), 6): label.get_text()
                     for tick, label in zip(axis.get_ticklocs(), axis.get_ticklabels()) if label.get_text() in names}
            if not ticks:
                continue
            for patch in ax.patches:
                extent = patch.get_extents().transformed(ax.transData.inverted())
                lo, hi = (extent.y0, extent.y1) if position == "get_y" else (extent.x0, extent.x1)
                inside = [name for tick, name in ticks.items() if lo <= tick <= hi]
                if len(inside) == 1 and (isinstance(patch, Rectangle) or patch.get_facecolor()[3] > 0):
                    colours.setdefault(inside[0], set()).add(to_hex(patch.get_facecolor()))
    return colours


def named_colours(fig: plt.Figure, names) -> dict[str, set[str]]:
    """Name -> colours it is drawn in on this figure, from legends and from labelled categories."""
    colours = {k: v for k, v in legend_colours(fig).items() if k in set(names)}
    for name, found in category_colours(fig, names).items():
        colours.setdefault(name, set()).update(found)
    return colours


def assert_palette(fig: plt.Figure, styles: dict) -> dict[str, set[str]]:
    """Every name of ``styles`` the figure shows is drawn in its palette colour, and that colour is
    really drawn; returns name -> colours found."""
    found = named_colours(fig, styles)
    drawn = artist_colours(fig)
    for name, colours in found.items():
        expected = to_hex(styles[name].colour)
        assert colours == {expected}, f"{name!r} is drawn in {colours}, the palette says {expected}"
        assert expected in drawn, f"{name!r}'s colour {expected} is in the legend but nothing is drawn in it"
    return found


MIN_POINTS = 9


def _overlap(a, b, slack: float = 1.0) -> bool:
    """Whether two display-space boxes overlap by more than ``slack`` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def assert_readable(fig: plt.Figure) -> None:
    """Every visible text of the figure (ticks, labels, titles, legends, annotations) is at least
    MIN_POINTS points, and no legend overlaps the data area (the axes box) of any axes with data.

    The figure is drawn first, so layout engines have placed everything as a saved PNG shows it.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    small = sorted({f"{t.get_text()[:40]!r} ({t.get_fontsize():.1f} pt)" for t in fig.findobj(Text)
                    if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_POINTS})
    assert not small, f"text under {MIN_POINTS} pt: {', '.join(small[:8])}"
    data_axes = drawn_axes(fig)
    assert data_axes, "the figure draws nothing"
    for legend in legends(fig):
        box = legend.get_window_extent(renderer)
        for ax in data_axes:
            assert not _overlap(box, ax.get_window_extent(renderer)), (
                f"legend ({', '.join(t.get_text() for t in legend.texts[:3])}, ...) overlaps the data area of "
                f"axes {ax.get_title() or ax.get_ylabel()!r}")


def highlighted_lines(ax) -> list:
    """Lines of ``ax`` with several x values drawn in a series colour (any colour but the context
    grey of highlighted panels and the reference grey of caps and budgets): the series a reader
    must tell apart in that panel."""
    neutral = {to_hex(REFERENCE_GREY), to_hex(CONTEXT_GREY)}
    return [line for line in ax.lines
            if to_hex(line.get_color()) not in neutral and len(set(map(float, line.get_xdata()))) > 1]
