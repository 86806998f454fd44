"""Hover values for a report's figures, offline and without JavaScript: an SVG laid over the PNG.

Each plotted point (line vertices, scatter points) and each cell of a heat map (a decision map)
becomes a transparent shape over the embedded PNG whose ``<title>`` the browser shows on hover:
the series and the values, with the axes' labels and units. Nothing is loaded and nothing runs;
a reader without a mouse loses nothing, since every value is also in the figure's CSV.

The PNG is saved with an explicit bounding box (:func:`save_png`), so the shapes' pixel positions
are those of the saved image: display coordinates (pixels from the figure's lower left at its dpi)
minus the box's lower-left corner, with y flipped.
"""

from __future__ import annotations

import html
import io
import math

import numpy as np

from analysis.plots.layout import CONTEXT_GID

#: Most hover targets in one figure (bounds the page's size for a dense figure); later points are dropped.
MAX_AREAS = 1000
#: Radius (px) of a point's hover target.
POINT_RADIUS = 6
#: Padding (inches) around the tight bounding box, as matplotlib's default ``pad_inches``.
PAD_INCHES = 0.1


def save_png(fig) -> tuple[bytes, object]:
    """The figure as PNG cropped to its tight bounding box (padded), and that box (inches)."""
    fig.canvas.draw()  # lay the figure out once, so the box and the transforms are final
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches=box, dpi=fig.dpi)
    return buffer.getvalue(), box


#: A line with more points than this gets a hover target on every k-th point only (a smooth model
#: curve of hundreds of points needs a few dozen).
MAX_LINE_TARGETS = 60


def _shown(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}" if math.isfinite(value) else ""
    return _plain(str(value))


def _plain(text: str) -> str:
    """A label as a reader sees it: one line, literal dollars unescaped (analysis.text.mathtext)."""
    return " ".join(text.replace(r"\$", "$").replace("-\n", "-").split())


def _categories(ax):
    """Formatters for x and y values: a categorical axis (seaborn's strip and bar plots put category k
    at k, named by its tick label) shows the category nearest the value, a numeric one the number."""
    def formatter(ticks, labels):
        names = _tick_names(ticks, labels)
        if not names or all(_number(text) for text in names.values()):
            return _shown
        def named(value):
            number = float(value) if _number(str(value)) else math.nan
            return names.get(round(number), _shown(value)) if math.isfinite(number) else _shown(value)
        return named
    return formatter(ax.get_xticks(), ax.get_xticklabels()), formatter(ax.get_yticks(), ax.get_yticklabels())


def _number(text: str) -> bool:
    try:
        float(text.replace("\u2212", "-").replace(",", ""))
    except ValueError:
        return False
    return True


def _tick_names(ticks, labels) -> dict:
    return {round(float(t), 3): _plain(label.get_text()) for t, label in zip(ticks, labels) if label.get_text()}


def _series(artist, panel: str) -> str:
    """What a hover names a line or point set by: its legend label, else its axes' title, else nothing."""
    label = artist.get_label()
    name = label if not label.startswith("_") else panel
    return f"{_plain(name)}: " if name else ""


def _line_targets(ax, panel, xl, yl):
    for line in ax.get_lines():
        # Reference lines (axhline, axvline) live partly in axes coordinates: no values to show.
        # Context lines (grey, drawn behind a small multiple's highlighted series) are not its data.
        if (not line.get_visible() or len(line.get_xydata()) == 0 or line.get_transform() is not ax.transData
                or line.get_gid() == CONTEXT_GID):
            continue
        series = _series(line, panel)
        xv, yv = _categories(ax)
        shown = line.get_transform().transform(line.get_xydata())
        step = max(1, math.ceil(len(shown) / MAX_LINE_TARGETS))
        for (px, py), x, y in list(zip(shown, line.get_xdata(), line.get_ydata()))[::step]:
            yield px, py, None, f"{series}{xl} = {xv(x)}, {yl} = {yv(y)}"


def _point_targets(ax, panel, xl, yl):
    from matplotlib.collections import PathCollection

    for coll in ax.collections:
        if (not isinstance(coll, PathCollection) or not coll.get_visible()
                or coll.get_offset_transform() is not ax.transData):
            continue
        series = _series(coll, panel)
        offsets = np.asarray(coll.get_offsets())
        if offsets.ndim != 2 or not len(offsets):
            continue
        xv, yv = _categories(ax)
        shown = coll.get_offset_transform().transform(offsets)
        for (px, py), (x, y) in zip(shown, offsets):
            yield px, py, None, f"{series}{xl} = {xv(x)}, {yl} = {yv(y)}"


def _cell_targets(ax, panel, xl, yl):
    """One target per cell of a heat map (a QuadMesh: seaborn's heatmap), named by its tick labels,
    with the plotted value, the colour bar's label and the cell's annotation."""
    from matplotlib.collections import QuadMesh

    for mesh in ax.collections:
        if not isinstance(mesh, QuadMesh) or not mesh.get_visible():
            continue
        corners = mesh.get_coordinates()
        rows, cols = corners.shape[0] - 1, corners.shape[1] - 1
        values = np.ma.asarray(mesh.get_array()).reshape(rows, cols)
        xnames = _tick_names(ax.get_xticks(), ax.get_xticklabels())
        ynames = _tick_names(ax.get_yticks(), ax.get_yticklabels())
        notes = {(round(float(t.get_position()[0]), 3), round(float(t.get_position()[1]), 3)): _plain(t.get_text())
                 for t in ax.texts if t.get_text()}
        bar = mesh.colorbar
        what = _plain(bar.ax.get_ylabel() or bar.ax.get_xlabel()) if bar is not None else "value"
        for r in range(rows):
            for c in range(cols):
                value = values[r, c]
                if np.ma.is_masked(value):
                    continue
                (x0, y0), (x1, y1) = corners[r, c], corners[r + 1, c + 1]
                cx, cy = round((x0 + x1) / 2, 3), round((y0 + y1) / 2, 3)
                where = f"{yl} = {ynames.get(cy, r + 1)}, {xl} = {xnames.get(cx, c + 1)}"
                note = notes.get((cx, cy))
                prefix = f"{panel}: " if panel else ""
                # A log2 colour scale (the decision maps) also shows the ratio itself.
                ratio = f", ratio {_shown(2.0 ** float(value))}" if what.startswith("log2") else ""
                text = f"{prefix}{where}: {what} = {_shown(value)}{ratio}" + (f" ({note})" if note else "")
                yield None, None, mesh.get_transform().transform([(x0, y0), (x1, y1)]), text


def _targets(fig):
    """(x_px, y_px in display coordinates, or None and two cell corners; text) for every hover target."""
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    # Small multiples label only the outer panels: an inner one takes its row's or column's label,
    # else the figure's shared label.
    shared_x = _plain(fig._supxlabel.get_text()) if getattr(fig, "_supxlabel", None) else ""
    shared_y = _plain(fig._supylabel.get_text()) if getattr(fig, "_supylabel", None) else ""
    for ax in panels:
        panel = _plain(ax.get_title())
        xl = _axis_label(ax, panels, "x") or shared_x or "x"
        yl = _axis_label(ax, panels, "y") or shared_y or "y"
        yield from _line_targets(ax, panel, xl, yl)
        yield from _point_targets(ax, panel, xl, yl)
        yield from _cell_targets(ax, panel, xl, yl)


def _axis_label(ax, panels, which: str) -> str:
    own = _plain(ax.get_xlabel() if which == "x" else ax.get_ylabel())
    if own:
        return own
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for other in panels:
        if other is not ax and shared.joined(ax, other):
            text = _plain(other.get_xlabel() if which == "x" else other.get_ylabel())
            if text:
                return text
    return ""


def overlay(fig, box, size: tuple[int, int]) -> str:
    """An ``<svg>`` to lay over the PNG saved with ``box`` (``size``: its width and height in
    pixels): one transparent circle or rectangle per target, its ``<title>`` the hover text.

    Its viewBox is the PNG's pixel grid, so it scales with the image when the page shrinks the
    figure to its column (an HTML image map would not). Empty when there is nothing to hover.
    """
    dpi = fig.dpi
    x_origin, y_top = box.x0 * dpi, box.y1 * dpi
    width, height = size
    shapes = []
    for px, py, corners, text in _targets(fig):
        if len(shapes) >= MAX_AREAS:
            break
        title = f"<title>{html.escape(text, quote=False)}</title>"
        if corners is None:
            if not (np.isfinite(px) and np.isfinite(py)):
                continue
            x, y = px - x_origin, y_top - py
            if not (0 <= x <= width and 0 <= y <= height):
                continue
            shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{POINT_RADIUS}">{title}</circle>')
        else:
            (ax0, ay0), (ax1, ay1) = corners
            xs = sorted((ax0 - x_origin, ax1 - x_origin))
            ys = sorted((y_top - ay0, y_top - ay1))
            if not all(np.isfinite(xs + ys)):
                continue
            x0, y0 = max(xs[0], 0.0), max(ys[0], 0.0)
            x1, y1 = min(xs[1], width), min(ys[1], height)
            if x1 <= x0 or y1 <= y0:
                continue
            shapes.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}">{title}</rect>')
    if not shapes:
        return ""
    return (f'<svg class="pgrant-hover" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
            f'aria-hidden="true">{"".join(shapes)}</svg>')
