"""Inside a notebook kernel run by ``pgrant-lab report``: every table and figure a page shows goes
through analysis.tables and gets its data as a CSV beside the page.

``analysis.report`` runs :func:`install` in a hidden first cell. It registers IPython display
formatters, so a bare ``df``, ``display(df.style...)``, a fit's ``summary()`` and every matplotlib
figure are shown by the one table formatter (analysis.tables) or as an image with a CSV link,
without each notebook calling them. In JupyterLab nothing is installed and notebooks show as usual.

:func:`summary` lets a notebook state its one-line answer computed at run time (the verdict tally,
the answer for a user's experiment); the page renderer reads it from the executed notebook.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pandas as pd

# The mimetype of a page's run-time summary: nbconvert renders no output for it (analysis.site.page
# removes it before rendering).
SUMMARY_MIMETYPE = "application/vnd.pgrant-lab.summary+json"
_STATE: dict = {"folder": None, "prefix": "", "used": set()}


def install(folder: str, prefix: str) -> None:
    """Write CSVs into ``folder`` (created), linked as ``prefix/<name>.csv``; register the formatters."""
    from IPython import get_ipython

    Path(folder).mkdir(parents=True, exist_ok=True)
    _STATE.update(folder=Path(folder), prefix=prefix, used=set())
    shell = get_ipython()
    if shell is None:  # plain Python: nothing to register
        return
    # Load the inline backend now: it registers its figure formatters once (IPython's
    # select_figure_formats removes every Figure formatter first), so ours is added after it.
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from analysis.models.base import FitSummary

    formatters = shell.display_formatter.formatters
    html_formatter = formatters["text/html"]
    html_formatter.for_type(pd.DataFrame, _table_html)
    html_formatter.for_type(pd.Series, _table_html)
    html_formatter.for_type(Styler, lambda s: _table_html(s.data))
    html_formatter.for_type(FitSummary, _fit_html)
    # nbconvert shows text/html before image/png, so this replaces the inline backend's bare image.
    html_formatter.for_type(Figure, lambda fig: FigureWithData(fig, None, None)._repr_html_())


def install_cell(folder: Path):
    """The hidden first cell that :func:`install` s the formatters in a report's kernel (no output)."""
    import nbformat

    cell = nbformat.v4.new_code_cell(
        f"from analysis.site import capture as _pgrant_capture\n"
        f"_pgrant_capture.install({str(folder)!r}, {Path(folder).name!r})")
    cell.metadata["tags"] = ["pgrant-install"]
    return cell


def write_csv(data: pd.DataFrame, name: str) -> str:
    """Write ``data`` as ``<folder>/<name>.csv`` (a unique name) and return its link; "" outside a report."""
    folder = _STATE["folder"]
    if folder is None:
        return ""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"
    unique, n = slug, 1
    while unique in _STATE["used"]:
        n += 1
        unique = f"{slug}-{n}"
    _STATE["used"].add(unique)
    data.to_csv(folder / f"{unique}.csv", index=False)
    return f"{_STATE['prefix']}/{unique}.csv"


def summary(**fields) -> None:
    """State this page's run-time summary fields (``answer``, ``data``, ``tally``); shown in the page's
    summary box and on the landing page instead of the notebook's static ones."""
    from IPython.display import display

    if _STATE["folder"] is None:  # JupyterLab: no report page to fill, and no renderer for it
        return
    display({SUMMARY_MIMETYPE: fields}, raw=True)


def _table_html(table) -> str:
    from analysis import tables

    formatted = tables.format_table(table)
    formatted.link = write_csv(formatted.data, "table")
    return formatted.to_html()


def _fit_html(fit_summary) -> str:
    from analysis import tables

    formatted = tables.fit_table(fit_summary)
    formatted.link = write_csv(formatted.data, "fit")
    return formatted.to_html()


class FigureWithData:
    """A figure shown as an embedded PNG with its data as a CSV link (``data``, or the plotted
    points read back from the figure). Showing it closes the figure, so it is not shown twice."""

    def __init__(self, fig, data: pd.DataFrame | None, name: str | None):
        self.fig, self.data, self.name = fig, data, name

    def _repr_html_(self) -> str:
        import matplotlib.pyplot as plt

        from analysis.site import hover

        raw, box = hover.save_png(self.fig)
        png = base64.b64encode(raw).decode("ascii")
        data = self.data if self.data is not None else figure_data(self.fig)
        name = self.name or f"figure-{_title(self.fig)}"
        link = write_csv(data, name)
        # Hover values: an SVG over the image (no script), scaled with it.
        shapes = hover.overlay(self.fig, box, png_size(raw))
        plt.close(self.fig)
        alt = html.escape(_title(self.fig, slug=False) or "figure")
        anchor = f'<p class="pgrant-csv"><a href="{html.escape(link)}">figure data (CSV)</a></p>' if link else ""
        image = f'<img src="data:image/png;base64,{png}" alt="{alt}">'
        if shapes:
            image = f'<span class="pgrant-hover-frame">{image}{shapes}</span>'
        return f'<figure class="pgrant-figure">{image}{anchor}</figure>'


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk."""
    import struct

    return struct.unpack(">II", png[16:24])


def _title(fig, *, slug: bool = True) -> str:
    text = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    if not text:
        text = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    text = text.split("\n")[0]
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] if slug else text


def figure_data(fig) -> pd.DataFrame:
    """The points a figure draws, one row each: panel (axes title), series (legend label), x, y,
    and the axes' labels. Lines, scatter points and bars; what a reader could read off the plot."""
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    rows = []
    for i, ax in enumerate(fig.axes):
        panel = ax.get_title() or f"panel {i + 1}"
        meta = {"panel": panel, "x_label": ax.get_xlabel(), "y_label": ax.get_ylabel()}
        for j, line in enumerate(ax.get_lines()):
            label = line.get_label()
            series = label if not label.startswith("_") else f"line {j + 1}"
            x, y = np.asarray(line.get_xdata(), dtype=object), np.asarray(line.get_ydata(), dtype=object)
            rows += [{**meta, "series": series, "x": a, "y": b} for a, b in zip(x, y)]
        for j, coll in enumerate(c for c in ax.collections if isinstance(c, PathCollection)):
            label = coll.get_label()
            series = label if not label.startswith("_") else f"points {j + 1}"
            rows += [{**meta, "series": series, "x": a, "y": b} for a, b in coll.get_offsets()]
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and patch.get_height() and patch.get_width():
                label = patch.get_label()
                rows.append({**meta, "series": label if not label.startswith("_") else "bar",
                             "x": patch.get_x() + patch.get_width() / 2, "y": patch.get_height()})
        for image in ax.get_images():
            values = image.get_array()
            if values is not None and values.ndim == 2:
                rows += [{**meta, "series": "image", "x": c, "y": r, "value": values[r, c]}
                         for r in range(values.shape[0]) for c in range(values.shape[1])]
    columns = ["panel", "x_label", "y_label", "series", "x", "y"]
    frame = pd.DataFrame(rows)
    return frame if len(frame) else pd.DataFrame(columns=columns)
