"""Notebook 08 (grant policies) executes on the committed simulated data and renders every figure."""

from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebook_08_executes_on_the_committed_simulated_data(tmp_path):
    from analysis import report

    result = report.build(tmp_path, parameters={"data_dir": str(ROOT / "data")}, only=["08"], progress=False)
    assert [p.source.name for p in result.pages] == ["08-grant-policies.py"]
    assert not result.failed, result.failed[0].error
    assert result.pages[0].html.read_text().count("data:image/png;base64") >= 7  # every figure rendered
