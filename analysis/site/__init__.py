"""The report as a small web site: a landing page, one page per notebook with navigation and a
summary box, every table through analysis.tables, nothing loaded from the network.

- :mod:`analysis.site.summary` reads what each page answers (the ``pgrant`` block in the
  notebook's jupytext header, plus what the notebook states at run time);
- :mod:`analysis.site.page` renders an executed notebook with nbconvert and our template
  (``templates/pgrant``), equations pre-rendered to MathML;
- :mod:`analysis.site.landing` writes ``index.html``;
- :mod:`analysis.site.capture` runs inside the notebook kernels (tables, figures, CSVs).
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES_DIR = Path(__file__).parent / "templates"
STYLE_CSS = Path(__file__).parent / "style.css"
TEMPLATE_NAME = "pgrant"

# The kinds of evidence a page rests on: key (as written in a notebook's header) -> badge text.
EVIDENCE = {
    "computed": "computed from sources",
    "measured": "measured here, not Xen",
    "simulated": "simulated",
    "digitized": "digitized",
    "experiment": "your experiment",
}


def data_dir_name(page_stem: str) -> str:
    """The folder beside ``<page_stem>.html`` that holds the page's CSVs (relative link prefix)."""
    return f"{page_stem}-data"
