"""`pgrant-lab report` against hostile experiment folders and interrupts, on real fio output.

- a condition value, a column name and the manifest.json title carrying HTML, Markdown and
  mathtext never appear raw in a page, and no page fails;
- SIGTERM in the middle of a report leaves --out byte for byte as it was, and no scratch behind;
- a second report into the same --out while one runs is refused.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analysis.cli import main

SCRIPT = "<script>alert('{}')</script>"
MATH = r"$\badcmd{$"


def _hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _hostile_copy(source, target):
    """The experiment twice over (a copy of every fio file), split by a hostile condition column."""
    shutil.copytree(source, target)
    rows = pd.read_csv(target / "manifest.csv", dtype=str)
    column = SCRIPT.format("col") + "$x$"
    copies = rows.copy()
    for name in rows["file"]:
        shutil.copy(target / name, target / name.replace(".json", "-b.json"))
    copies["file"] = copies["file"].str.replace(".json", "-b.json", regex=False)
    rows[column] = SCRIPT.format("cond") + " *em* [a](javascript:alert(1))"
    copies[column] = MATH
    pd.concat([rows, copies]).to_csv(target / "manifest.csv", index=False)
    (target / "manifest.json").write_text(json.dumps({
        "title": SCRIPT.format("title") + " " + MATH, "what": SCRIPT.format("what") + " <img src=x onerror=alert(1)>"}))
    return target


@pytest.mark.slow
def test_injected_html_markdown_and_mathtext_never_reach_a_page_raw(loopback_experiment, tmp_path, capsys):
    folder = _hostile_copy(loopback_experiment.folder, tmp_path / "exp")
    out = tmp_path / "report"

    code = main(["report", "--data", str(folder), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    pages = {p.name: p.read_text() for p in out.glob("*.html")}
    assert sorted(pages) == ["09-your-experiment.html", "10-decision.html", "index.html"]
    for name, page in pages.items():
        lowered = page.lower()
        for payload in ("<script>alert", "<img src=x", 'href="javascript:'):  # live tags; escaped text is fine
            assert payload not in lowered, f"{name} holds a live {payload!r}"
        assert "FAILED" not in page and "Traceback" not in page, f"{name} failed"
    # the text is still there, shown literally
    assert "&lt;script&gt;alert(" in pages["09-your-experiment.html"]
    for name in ("09-your-experiment.ipynb", "10-decision.ipynb"):
        outputs = [o for c in json.loads((out / name).read_text())["cells"] for o in c.get("outputs", [])]
        assert not [o for o in outputs if o["output_type"] == "error"], f"{name} has an error cell"


def _report_process(folder, out, env, *more):
    return subprocess.Popen([sys.executable, "-m", "analysis.cli", "report", "--data", str(folder), "--out", str(out),
                             *more],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[1])


@pytest.mark.slow
def test_sigterm_mid_report_leaves_out_as_it_was_and_no_scratch(loopback_experiment, tmp_path):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    out = tmp_path / "report"
    assert main(["report", "--data", str(folder), "--out", str(out), "--only", "09"]) == 0
    before = _hashes(out)
    scratch_tmp = tmp_path / "tmp"
    scratch_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch_tmp), "PYTHONUNBUFFERED": "1"}

    interrupted = 0
    for delay in (0.5, 6.0):  # as the first notebook starts, and later (whichever page is running then)
        proc = _report_process(folder, out, env)
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".report.partial-*")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the report has claimed --out and started writing pages
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
        if proc.returncode == 0:  # finished before the signal: a whole new report is also fine
            before = _hashes(out)
            continue
        assert proc.returncode == 2, stderr
        interrupted += 1
        ours = [line for line in stderr.splitlines() if not line.startswith("[IPKernelApp]")]  # the kernel's log
        assert "Traceback" not in stderr and len(ours) == 1 and ours[0].startswith("pgrant-lab report: interrupted"), stderr
        assert _hashes(out) == before, "--out changed after an interrupted report"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "report", "tmp"], "scratch left beside --out"
        deadline = time.monotonic() + 10  # a kernel may take a moment to remove its own files
        while any(scratch_tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p.name for p in scratch_tmp.iterdir() if p.name.startswith("pgrant-lab")], "scratch left in TMPDIR"
    assert interrupted, "the report finished before every signal: nothing was tested"


@pytest.mark.slow
def test_a_second_report_into_the_same_out_is_refused_while_the_first_runs(loopback_experiment, tmp_path):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    out = tmp_path / "report"
    first = _report_process(folder, out, {**os.environ}, "--only", "09")
    lock = tmp_path / ".report.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    second = subprocess.run([sys.executable, "-m", "analysis.cli", "report", "--data", str(folder), "--out", str(out),
                             "--only", "09"],
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"pgrant-lab report: --out {out}: expected no other pgrant-lab report writing this folder, found one "
        f"running (it holds {lock}); wait for it or choose another folder"]
    assert (out / "index.html").exists() and not lock.exists()


hostile = st.lists(st.sampled_from([SCRIPT.format("v"), MATH, "$x$", "<b>", "*", "_", "`", "[a](b)", "\n", "#", "|",
                                    "\\", "&amp;", "%", "{", "}"]) | st.text(max_size=4), min_size=1, max_size=5).map("".join)


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile, values=st.lists(hostile, min_size=2, max_size=2, unique=True))
def test_hostile_condition_names_and_values_never_break_markdown_or_figures(loopback_experiment, name, values):
    """The functions notebooks 09 and 10 call, on a table split by a hostile condition (fast: no kernel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from analysis.decide import decision
    from analysis.ingest import experiment
    from analysis.plots import experiment as plots

    assume(name not in experiment.RESERVED and name not in ("file", "guest") and name.strip() == name and name)
    base = experiment.load(loopback_experiment.folder, progress=False)
    halves = []
    for value in values:
        half = base.copy()
        half[name] = value
        half["file"] = half["file"] + value  # two guests sets: each value its own files
        halves.append(half)
    table = pd.concat(halves, ignore_index=True)
    table.attrs = {**base.attrs, "conditions": base.attrs["conditions"] + [name]}
    runs = experiment.aggregate(table)
    fits = decision.fit_cells(runs, draws=5)
    for markdown in (decision.describe(experiment.provenance(loopback_experiment.folder), table), fits.notes_markdown()):
        rendered = markdown2html_mistune(markdown)
        assert "<script" not in rendered and "<b>" not in rendered and 'href="b"' not in rendered
    figures = [plots.plot_scaling(runs).figure, plots.plot_fits(runs, fits).figure]
    ratios = decision.ratio_map(fits, decision.guest_grid(runs))
    if not ratios.empty:
        figures.append(plots.plot_ratio_map(ratios))
    for figure in figures:
        figure.canvas.draw()  # mathtext would raise here
    plt.close("all")
