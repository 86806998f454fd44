"""analysis.site.page without rendering a report: equations, and a page's title, navigation, summary
and contents."""

import jupytext
import matplotlib
from bs4 import BeautifulSoup

matplotlib.use("Agg")
import nbformat  # noqa: E402

from analysis.site import page  # noqa: E402
from tests.site_notebook import NOTEBOOK  # noqa: E402


def test_equations_become_mathml_and_unreadable_tex_is_shown_as_code():
    block = page.latex_to_mathml(r"X(N) = \frac{\lambda N}{1 + \sigma (N-1)}", block=True)
    assert block.startswith("<math") and 'display="block"' in block and "<mfrac>" in block
    bad = page.latex_to_mathml(r"\frac{1", block=False)
    assert bad.startswith('<code class="pgrant-tex">') or bad.startswith("<math")


def test_a_rendered_page_has_title_navigation_summary_and_contents(tmp_path):
    source = tmp_path / "02-ring.py"
    source.write_text(NOTEBOOK)
    ipynb = tmp_path / "02-ring.ipynb"
    nbformat.write(jupytext.read(source), ipynb)
    nav = page.navigation([("01-a", "01 A"), ("02-ring", "02 · Ring size"), ("03-c", "03 C")], 1)
    out = tmp_path / "02-ring.html"
    page.render(ipynb, source, out, nav=nav)
    text = out.read_text()
    assert "<title>02 · Ring size: what it costs · pgrant-lab</title>" in text
    soup = BeautifulSoup(text, "html.parser")
    nav_links = {a["href"]: a.get("rel") for a in soup.select("nav.pgrant-nav a")}
    assert nav_links == {"index.html": None, "01-a.html": ["prev"], "03-c.html": ["next"]}
    assert [dd.get_text() for dd in soup.select(".pgrant-summary dd")][:2] == ["Does it hold?", "Yes, at 2.75 MiB."]
    toc = [a["href"] for a in soup.select("nav.pgrant-toc a")]
    assert toc == ["#First-section"] and soup.find(id="First-section") is not None
    assert "<script src" not in text and "mathjax" not in text.lower()
