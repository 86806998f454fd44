"""Notebook 01 executes on the bundled fio sweep without an error cell and labels it not-Xen."""

import json

import pytest

from analysis import report


@pytest.mark.slow
def test_notebook_01_executes_on_the_bundled_sweep(tmp_path):
    result = report.build(tmp_path, parameters={"data_dir": str(report.DATA_DIR)}, only=["01"], progress=False)
    assert [p.source.name for p in result.pages] == ["01-fio-results.py"]
    assert not result.failed, result.failed[0].error
    executed = json.loads(next(tmp_path.glob("01-*.ipynb")).read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    shown = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "- not Xen" in shown
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    assert images == 4
    # Each figure is shown with its data as a CSV beside the page (analysis.site.capture).
    assert shown.count('<figure class="pgrant-figure">') == 4
    assert len(list((tmp_path / "01-fio-results-data").glob("figure-*.csv"))) == 4
