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
    printed = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert "- not Xen" in printed
    images = sum("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))
    assert images == 4
