"""pgrant-lab report --data: the whole report on a user's experiment folder of real fio output."""

import hashlib
import re
import shutil

import nbformat
import pandas as pd
import pytest

from analysis import report
from analysis.cli import main
from analysis.ingest import experiment


def _hashes(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_experiment_notebooks_are_the_ones_with_an_experiment_dir_parameter():
    names = [p.stem for p in report.experiment_notebooks()]
    assert names == ["09-your-experiment", "10-decision"]
    assert all("experiment_dir" in report.parameter_names(p) for p in report.experiment_notebooks())


@pytest.mark.slow
def test_report_on_a_real_experiment_writes_pages_with_the_fit_and_leaves_the_folder_alone(
        loopback_experiment, tmp_path, capsys):
    folder = loopback_experiment.folder
    before = _hashes(folder)
    out = tmp_path / "report"

    code = main(["report", "--data", str(folder), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    assert _hashes(folder) == before, "the experiment folder must not be written"
    index = (out / "index.html").read_text()
    assert "FAILED" not in index and "failed" not in index
    # The landing page names the user's folder (by name: never the build machine's absolute path),
    # says the pages run on the user's experiment, and badges both pages as such.
    assert f"<title>pgrant-lab report on {folder.name}</title>" in index
    assert f"Data: <code>{folder.name}/</code>" in index and "your experiment</strong>" in index
    assert index.count('class="pgrant-badge pgrant-ev-experiment"') == 2
    pages = {p.name: p.read_text() for p in out.glob("*.html") if p.name != "index.html"}
    assert sorted(pages) == ["09-your-experiment.html", "10-decision.html"]
    for name, page in pages.items():
        executed = nbformat.read(out / name.replace(".html", ".ipynb"), as_version=4)
        outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
        assert not [o for o in outputs if o.output_type == "error"], f"{name} has an error cell"
        stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{name} wrote to stderr: {stderr}"
        assert folder.name in page and str(folder) not in page, f"{name} does not say which data it shows"
        assert f"<dt>Data</dt><dd><code>{folder.name}/</code></dd>" in page
    for name in pages:  # each notebook read the table the report parsed once, from its scratch folder
        executed = nbformat.read(out / name.replace(".html", ".ipynb"), as_version=4)
        injected = next(c.source for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
        assert "experiment_table = " in injected and "experiment-table.pkl" in injected, name
    assert not list(out.glob("*.pkl")), "the cached table stays in the scratch folder"
    fitted = pages["09-your-experiment.html"]
    assert "USL" in fitted
    for column in ("lambda", "sigma", "kappa", "peak guests"):
        assert re.search(f"<th[^>]*>{column}", fitted), f"the fitted parameter table lacks {column}"
    # fio's per-run view (notebook 01's tables) on the user's runs, with its CSV beside it.
    for column in ("IOPS", "bandwidth", "clat p99", "share min"):
        assert re.search(f"<th[^>]*>{column}", fitted), f"the per-run table lacks {column}"
    runs = pd.read_csv(out / "09-your-experiment-data" / "runs.csv")
    assert len(runs) == len(experiment.aggregate(experiment.load(folder)))
    assert "persistent / non-persistent" in pages["10-decision.html"].lower() or "Persistent / non-persistent" in pages["10-decision.html"]
    # Issue 12 item 5: the three contention models compared on the user's data, and the model named.
    assert "leave-one-out error" in fitted and "Model used for the decision" in pages["10-decision.html"]
    assert "Read this first" not in fitted  # only the bundled example carries the stand-in warning


@pytest.mark.slow
def test_bad_manifest_gives_one_line_per_problem_exit_2_and_no_report(loopback_experiment, tmp_path, capsys):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    rows = pd.read_csv(folder / "manifest.csv", dtype=str)
    rows.loc[1, "mode"] = "persistant"
    rows.loc[3, "guests"] = "many"
    rows.to_csv(folder / "manifest.csv", index=False)
    before = _hashes(folder)
    out = tmp_path / "report"

    code = main(["report", "--data", str(folder), "--out", str(out)])

    err = capsys.readouterr().err.strip().splitlines()
    manifest = folder / "manifest.csv"
    assert code == 2
    assert err == [
        f"pgrant-lab report: {manifest} line 3, column mode: expected one of persistent, non-persistent, "
        "found 'persistant'",
        f"pgrant-lab report: {manifest} line 5, column guests: expected a positive integer, found 'many'",
    ]
    assert not (out / "index.html").exists()
    assert _hashes(folder) == before


def test_out_inside_the_experiment_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "exp"
    folder.mkdir()
    code = main(["report", "--data", str(folder), "--out", str(folder / "report")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"--out {folder / 'report'}: expected a folder outside the input {folder}" in err[0]
    assert list(folder.iterdir()) == []


def test_missing_modes_are_said_first(loopback_experiment):
    from analysis.decide import decision
    from analysis.ingest import experiment

    table = experiment.load(loopback_experiment.folder)
    only_persistent = table[table["mode"] == "persistent"]
    only_persistent.attrs = table.attrs
    text = decision.describe(experiment.provenance(loopback_experiment.folder), only_persistent)
    assert "**Missing**: no non-persistent runs in this experiment; comparisons between the modes are left out." in text


@pytest.mark.slow
def test_decision_on_one_mode_says_so_and_falls_back_to_the_bundled_example(loopback_experiment, tmp_path):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    rows = pd.read_csv(folder / "manifest.csv", dtype=str)
    rows[rows["mode"] == "persistent"].to_csv(folder / "manifest.csv", index=False)
    out = tmp_path / "report"

    assert main(["report", "--data", str(folder), "--out", str(out), "--only", "10"]) == 0

    executed = nbformat.read(out / "10-decision.ipynb", as_version=4)
    first = next(o for cell in executed.cells for o in cell.get("outputs", []))
    text = first["data"]["text/markdown"]
    assert "no non-persistent runs in this experiment" in text
    assert "**This experiment does not support the decision**" in text and "bundled example experiment" in text
