"""Notebooks 03 (scaling, USL) and 04 (shootdown model) execute on the bundled data."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebooks_03_and_04_execute_and_state_the_usl_bound(tmp_path):
    from analysis import report

    result = report.build(tmp_path, parameters={"data_dir": str(ROOT / "data"), "n_boot": 200},
                          only=["03", "04"], progress=False)
    assert [p.source.name for p in result.pages] == ["03-scaling-usl.py", "04-shootdown-model.py"]
    for page in result.pages:
        assert page.ok, page.error
    scaling = result.pages[0].html.read_text()
    # By hand: a USL with its peak at 5 and sigma = 0 has kappa = 1/25, so
    # X(10)/X(5) = 2 (1 + 20/25) / (1 + 90/25) = 3.6 / 4.6; times 650,000 IOPS, as the table's
    # cell rounds it (analysis.tables: three significant digits, thousands as k):
    assert f'<td class="num">{650_000 * 3.6 / 4.6 / 1000:.0f}k</td>' in scaling
    # The expected refusal is a sentence, not an exception line.
    assert "is refused: USL fit: fewer points than parameters" in scaling and "ModelFitError:" not in scaling
    assert "measured on " in scaling and ", not Xen" in scaling  # the sweep's label
    shootdown = result.pages[1].html.read_text()
    assert "contention is not identified by these data" in shootdown
    # The figures' label is the caption of the committed sidecar, naming model and parameters.
    import html

    from analysis.simulated import shootdown as simulate

    _, side = simulate.read(ROOT / "data")
    assert html.escape(simulate.caption(side)) in shootdown or simulate.caption(side) in shootdown
