"""Notebook 11 (trace replay) executes on the bundled trace and shows the same totals as the library."""

from pathlib import Path

import pytest

from analysis.tables import human

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebook_11_replays_the_bundled_trace(tmp_path):
    from analysis import report
    from analysis.xen.grants import make_policy, simulate
    from analysis.xen.grants.blkfront import trace_from_requests
    from analysis.ingest.trace import read_trace

    result = report.build(tmp_path, parameters={"data_dir": str(ROOT / "data")}, only=["11"], progress=False)
    (page,) = result.pages
    assert page.source.name == "11-trace-replay.py"
    assert page.ok, page.error
    html = page.html.read_text()
    assert "not on Xen" in html and " - not Xen" in html  # the narrative and the machine label
    # The notebook's table holds what the library computes from the same file and settings.
    table = read_trace(ROOT / "data/raw/measured-here/trace-fio-randrw/trace_lat.1.log", "fio-lat-log")
    trace = trace_from_requests(table, max_segments=32, slots=32)
    for name in ("lru", "linux_lru", "persistent_array"):
        totals = simulate(trace, make_policy(name, cap=352, m=2)).totals()  # the Python reference
        # as analysis.tables shows a count (exact below 10 000, then 3 significant digits with k/M)
        for key in ("maps", "unmap_batches"):
            assert f'<td class="num">{human(totals[key])}</td>' in html, (name, key, totals[key])
