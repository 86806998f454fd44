"""The tests follow the modules: each tests/test_*.py is named after the analysis module it tests,
``test_<path with / replaced by _>.py`` (analysis/xen/grants/frontend.py -> test_xen_grants_frontend.py,
analysis/tables.py -> test_tables.py, a package's __init__.py -> test_<package>.py), or it is one of
the cross-cutting suites below, each with the reason it tests more than one module."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "analysis"
TESTS = ROOT / "tests"

#: Test modules that are not about one analysis module, and why.
CROSS_CUTTING = {
    "test_corpus.py": "the real-world corpus: other people's fio files and published USL fits, through ingest and models",
    "test_hostile_cli.py": "hostile input and odd usage of every subcommand: one line naming the file or option, exit 2",
    "test_hostile_ingest.py": "hostile input to `pgrant-lab ingest`: every kind of real fio output, mutated",
    "test_hostile_report.py": "`pgrant-lab report` against hostile experiment folders, interrupts and a second run",
    "test_lab.py": "`make lab`: JupyterLab starts and opens a notebook's .py through jupytext",
    "test_layout.py": "the pipeline's shape over every module: imports flow one way, errors and names follow the rules",
    "test_notebook_01.py": "notebook 01 executes on the bundled fio sweep",
    "test_notebook_03_04.py": "notebooks 03 and 04 execute on the bundled data",
    "test_notebook_02.py": "notebook 02 executes on the bundled data",
    "test_notebook_08.py": "notebook 08 executes on the committed simulated data",
    "test_notebook_11.py": "notebook 11 replays the bundled trace",
    "test_notebook_12.py": "notebook 12 executes on the bundled data",
    "test_packaging.py": "the project's set-up: dependencies in step, notebooks paired and clean",
    "test_site.py": "the whole rendered report as a reader gets it (analysis.site's parts: test_site_<part>.py)",
    "test_test_layout.py": "this rule: test modules are named after the modules they test",
}


def module_test_names(package: Path = PACKAGE) -> set[str]:
    """The test module name of every module of the package; a package's __init__.py is named after its folder."""
    names = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.add("test_" + "_".join(parts) + ".py")
    return names


def misnamed(tests: Path = TESTS, package: Path = PACKAGE) -> list[str]:
    """Test modules named after no module of the package and not listed as cross-cutting."""
    allowed = module_test_names(package) | set(CROSS_CUTTING)
    return sorted(path.name for path in tests.glob("test_*.py") if path.name not in allowed)


def test_every_test_module_is_named_after_a_module_or_listed_as_cross_cutting():
    bad = misnamed()
    assert not bad, (f"tests/{', tests/'.join(bad)}: expected test_<path with / replaced by _>.py after the "
                     "analysis module it tests (split a file that tests several), or an entry in "
                     "tests/test_test_layout.py's CROSS_CUTTING with a one-line reason")


def test_every_cross_cutting_suite_exists_and_says_why_in_one_line():
    present = {path.name for path in TESTS.glob("test_*.py")}
    assert sorted(set(CROSS_CUTTING) - present) == [], "CROSS_CUTTING lists test modules that no longer exist"
    assert all(reason.strip() and "\n" not in reason for reason in CROSS_CUTTING.values())
