"""Notebook 02 (ring size and memory) executes on the bundled data and states the one-page ring."""

from pathlib import Path

import pytest

from analysis import constants as C


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebook_02_executes_and_states_the_one_page_ring(tmp_path):
    from analysis import report

    result = report.build(tmp_path, parameters={"data_dir": str(ROOT / "data")}, only=["02"], progress=False)
    assert [p.source.name for p in result.pages] == ["02-ring-size-and-memory.py"]
    page = result.pages[0]
    assert page.ok, page.error
    html = page.html.read_text()
    assert f"-&gt; {C.LINUX_REQS_PER_RING_PAGE} slots" in html or f"-> {C.LINUX_REQS_PER_RING_PAGE} slots" in html
