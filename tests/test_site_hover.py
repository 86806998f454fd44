"""analysis.site.hover: every hover target sits on the pixels its point or cell was drawn at."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.site import hover  # noqa: E402

SHAPE = re.compile(r'<(circle|rect) ([^>]+)><title>([^<]*)</title>')
NUMBER = re.compile(r'(\w+)="([-\d.]+)"')


def _pixels(png: bytes) -> np.ndarray:
    return plt.imread(io.BytesIO(png))[:, :, :3]


def _areas(fig):
    """The PNG's pixels, the overlay and its shapes as (kind, {attribute: number}, title)."""
    import html

    from analysis.site.capture import png_size

    png, box = hover.save_png(fig)
    svg = hover.overlay(fig, box, png_size(png))
    shapes = [(kind, {k: float(v) for k, v in NUMBER.findall(attrs)}, html.unescape(title))
              for kind, attrs, title in SHAPE.findall(svg)]
    return _pixels(png), png_size(png), svg, shapes


@pytest.mark.parametrize("xscale", ["linear", "log"])
def test_a_point_area_is_centred_on_the_drawn_marker(xscale):
    # A pure-red marker on a figure with a wrapped title, a log axis and a legend outside the data:
    # the tight box moves the origin, so the area is only right if the offset is.
    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    ax.scatter([30.0], [0.4], s=120, color=(1, 0, 0), label="one point", zorder=3)
    line, = ax.plot([1, 10, 100], [0.1, 0.5, 0.9], color="0.5", label="a line")
    ax.set(xscale=xscale, xlim=(1, 100), ylim=(0, 1), xlabel="cap (pages)", ylabel="hit rate")
    ax.grid(False)
    fig.legend(handles=[line], loc="outside right")  # the red marker is drawn once, in the axes
    fig.suptitle("A title\nover two lines")
    pixels, (width, height), svg, areas = _areas(fig)
    assert (height, width) == pixels.shape[:2] and svg.startswith(f'<svg class="pgrant-hover" viewBox="0 0 {width} {height}"')
    red = (pixels[:, :, 0] > 0.9) & (pixels[:, :, 1] < 0.1) & (pixels[:, :, 2] < 0.1)
    ys, xs = np.nonzero(red)
    point = [a for a in areas if a[2].startswith("one point")]
    assert len(point) == 1 and point[0][2] == "one point: cap (pages) = 30, hit rate = 0.4"
    circle = point[0][1]
    assert abs(circle["cx"] - xs.mean()) <= 1.5 and abs(circle["cy"] - ys.mean()) <= 1.5
    assert circle["r"] == hover.POINT_RADIUS
    assert sum(a[2].startswith("a line: ") for a in areas) == 3
    plt.close(fig)


def test_heat_map_cells_are_named_by_their_ticks_and_cover_their_colour():
    table = pd.DataFrame([[0.5, -1.0, 2.0], [1.5, 0.0, -2.0]], index=pd.Index(["4k", "$64k"], name="bs"),
                         columns=pd.Index([2, 8, 24], name="dom0_vcpus"))
    marks = pd.DataFrame([["P", "N", "P"], ["P", "?", "N*"]], index=table.index, columns=table.columns)
    fig, ax = plt.subplots(figsize=(6, 3))
    sns.heatmap(table, ax=ax, cmap="RdBu", center=0, annot=marks, fmt="", cbar_kws={"label": "log2(unmap / copy)"})
    ax.set(xlabel="dom0 VCPUs", ylabel="block size")
    pixels, _, _, areas = _areas(fig)
    cells = [a for a in areas if a[0] == "rect"]
    assert len(cells) == 6
    titles = [a[2] for a in cells]
    assert "block size = 4k, dom0 VCPUs = 8: log2(unmap / copy) = -1, ratio 0.5 (N)" in titles
    assert "block size = $64k, dom0 VCPUs = 24: log2(unmap / copy) = -2, ratio 0.25 (N*)" in titles
    mesh = ax.collections[0]
    colours = mesh.get_facecolors()[:, :3]
    for (shape, rect, title), colour in zip(cells, colours):
        # Sample beside the cell's centre (its letter is drawn there).
        sample = pixels[int(rect["y"] + 0.75 * rect["height"]), int(rect["x"] + 0.5 * rect["width"])]
        assert np.abs(sample - colour).max() < 0.03, title
    plt.close(fig)


def test_titles_are_escaped_and_reference_lines_have_no_targets():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4], label='<script>alert("x")</script> & co')
    ax.axhline(3.5)
    ax.axvline(1.5)
    _, _, svg, areas = _areas(fig)
    assert "<script>" not in svg and '&lt;script&gt;alert("x")&lt;/script&gt; &amp; co' in svg
    assert len(areas) == 2 and areas[0][2].startswith('<script>alert("x")</script> & co: ')
    plt.close(fig)


def test_a_dense_figure_is_bounded():
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0, 1, 5000), np.linspace(0, 1, 5000))
    for k in range(40):
        ax.scatter(np.random.default_rng(k).random(100), np.random.default_rng(k).random(100))
    _, _, _, areas = _areas(fig)
    assert len(areas) == hover.MAX_AREAS
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0, 1, 5000), np.linspace(0, 1, 5000))
    _, _, _, areas = _areas(fig)
    assert len(areas) == hover.MAX_LINE_TARGETS
    plt.close(fig)


def test_a_figure_with_nothing_to_hover_gets_no_map():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "no data")
    png, box = hover.save_png(fig)
    assert hover.overlay(fig, box, (10, 10)) == ""
    plt.close(fig)


def test_categorical_points_are_named_by_their_category_and_gaps_are_skipped():
    frame = pd.DataFrame({"policy": ["lru", "lru", "tree", "tree"], "us": [7.5, 8.0, np.nan, 9.25]})
    fig, ax = plt.subplots()
    sns.stripplot(data=frame, x="policy", y="us", ax=ax, jitter=False)
    ax.plot([0, 1], [np.nan, 9.0], label="gap")
    _, _, _, areas = _areas(fig)
    titles = sorted(a[2] for a in areas)
    assert "policy = lru, us = 7.5" in titles and "policy = tree, us = 9.25" in titles
    assert "gap: policy = tree, us = 9" in titles and not any("nan" in t.lower() for t in titles)
    plt.close(fig)
