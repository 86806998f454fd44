"""analysis.site.summary: a page's summary comes from its header, and run-time fields override it."""

import jupytext
import matplotlib

matplotlib.use("Agg")
import nbformat  # noqa: E402

from analysis.site import capture, summary  # noqa: E402
from tests.site_notebook import NOTEBOOK  # noqa: E402


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
