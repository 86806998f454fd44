"""analysis.site's parts without rendering a report: equations, page summaries, figure data."""

import textwrap

import jupytext
import matplotlib
from bs4 import BeautifulSoup

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402

from analysis.site import capture, page, summary  # noqa: E402

NOTEBOOK = textwrap.dedent('''\
    # ---
    # jupyter:
    #   pgrant:
    #     question: "Does it hold?"
    #     answer: "Yes, at 2.75 MiB."
    #     evidence: [computed, digitized]
    #     data: [raw/seed-thread/memory-claims.csv]
    # ---

    # %% [markdown]
    # # 02 · Ring size: what it costs
    #
    # ## First section

    # %%
    x = 1
    ''')


def test_equations_become_mathml_and_unreadable_tex_is_shown_as_code():
    block = page.latex_to_mathml(r"X(N) = \frac{\lambda N}{1 + \sigma (N-1)}", block=True)
    assert block.startswith("<math") and 'display="block"' in block and "<mfrac>" in block
    bad = page.latex_to_mathml(r"\frac{1", block=False)
    assert bad.startswith('<code class="pgrant-tex">') or bad.startswith("<math")


def test_a_pages_summary_comes_from_its_header_and_run_time_fields_override_it(tmp_path):
    source = tmp_path / "02-ring.py"
    source.write_text(NOTEBOOK)
    static = summary.from_source(source)
    assert (static.stem, static.title) == ("02-ring", "02 · Ring size: what it costs")
    assert static.question == "Does it hold?" and static.answer == "Yes, at 2.75 MiB."
    assert static.evidence_badges == [("computed", "computed from sources"), ("digitized", "digitized")]
    assert static.data == ["raw/seed-thread/memory-claims.csv"]

    nb = jupytext.read(source)
    nb.cells[1].outputs = [
        nbformat.v4.new_output("display_data", data={capture.SUMMARY_MIMETYPE: {"answer": "No.", "tally": {"holds": 3}}}),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n"),
    ]
    updated = summary.collect_runtime(nb, summary.static(nb, "02-ring"))
    assert updated.answer == "No." and updated.tally == {"holds": 3} and updated.question == "Does it hold?"
    assert [o.output_type for o in nb.cells[1].outputs] == ["stream"]


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


def test_figure_data_reads_back_the_plotted_points():
    fig, (left, right) = plt.subplots(1, 2)
    x = np.array([1.0, 2.0, 4.0])
    left.plot(x, 3 * x, label="3x")
    left.set_title("lines")
    right.scatter([5.0, 6.0], [7.0, 8.0], label="points")
    right.bar([1, 2], [10.0, 20.0])
    data = capture.figure_data(fig)
    plt.close(fig)
    line = data[data["series"] == "3x"]
    assert list(line["panel"].unique()) == ["lines"]
    assert np.allclose(line["x"].astype(float), x) and np.allclose(line["y"].astype(float), 3 * x)
    scatter = data[data["series"] == "points"]
    assert np.allclose(scatter[["x", "y"]].to_numpy(float), [[5, 7], [6, 8]])
    assert sorted(data.loc[data["series"] == "bar", "y"].astype(float)) == [10.0, 20.0]
