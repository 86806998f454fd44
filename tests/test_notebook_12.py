"""Notebook 12 (the flush path) executes on the bundled data and states which model reproduces
the thread's collapse."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebook_12_executes_and_names_the_lock_collapse_chain(tmp_path):
    from analysis import report

    result = report.build(tmp_path, parameters={"data_dir": str(ROOT / "data"), "sim_requests": 3000},
                          only=["12"], progress=False)
    assert [p.source.name for p in result.pages] == ["12-flush-path.py"]
    page = result.pages[0]
    assert page.ok, page.error
    text = page.html.read_text()
    assert "hold budget at the peak: 1.54 us" in text
    assert "Lock collapse (Boyd-Wickizer 2012)" in text
    assert "cannot fall" in text
