"""Run a notebook's code cells in this process (fast: no kernel), drawing every figure it shows.

For property tests over many experiment folders: the same code as the report runs, with
``experiment_dir`` set, matplotlib's Agg backend, and ``plt.show`` replaced by a full draw of every
open figure (mathtext and layout errors happen at draw time). Markdown and objects passed to
``display`` are collected as their text/markdown or text/html form.
"""

from pathlib import Path

import jupytext
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run(name: str, **parameters) -> list[str]:
    """Execute notebooks/<name>.py with the parameters; return what it displayed (Markdown/HTML text)."""
    import IPython.display

    shown = []

    def display(*objects, **_):
        for obj in objects:
            if hasattr(obj, "_repr_markdown_"):
                shown.append(obj._repr_markdown_() or "")
            elif hasattr(obj, "_repr_html_"):
                shown.append(obj._repr_html_() or "")
            else:
                shown.append(str(obj))

    def show(*_, **__):
        for number in plt.get_fignums():
            plt.figure(number).canvas.draw()
        plt.close("all")

    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    original = (IPython.display.display, plt.show)
    IPython.display.display, plt.show = display, show
    try:
        scope = {"__name__": "__notebook__"}
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"{name}.py", "exec"), scope)
            if "parameters" in cell.metadata.get("tags", []):
                scope.update(parameters)
        show()
    finally:
        IPython.display.display, plt.show = original
        plt.close("all")
    return shown
