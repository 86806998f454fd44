"""The project's promises about its own set-up: dependencies in step, notebooks paired and clean."""

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        pip_side |= {_name(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda_side == pip_side, (
        f"only in environment.yml: {sorted(conda_side - pip_side)}; "
        f"only in pyproject.toml: {sorted(pip_side - conda_side)}"
    )


def test_every_notebook_script_has_an_output_free_paired_ipynb():
    import jupytext

    scripts = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.py"))
    for script in scripts:
        ipynb = script.with_suffix(".ipynb")
        assert ipynb.exists(), f"{ipynb.name} is missing: run `make sync`"
        raw = json.loads(ipynb.read_text())
        with_outputs = [i for i, c in enumerate(raw["cells"]) if c.get("outputs") or c.get("execution_count")]
        assert not with_outputs, f"{ipynb.name} has outputs in cells {with_outputs}: strip them"
        paired = [c.source for c in jupytext.read(ipynb).cells]
        source = [c.source for c in jupytext.read(script).cells]
        assert paired == source, f"{ipynb.name} is out of step with {script.name}: run `make sync`"


def test_every_notebook_has_a_parameters_cell():
    import jupytext

    for script in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.py")):
        tags = [c.metadata.get("tags", []) for c in jupytext.read(script).cells]
        assert any("parameters" in t for t in tags), f"{script.name} has no cell tagged parameters"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme.split("\n## ", 1)[0], "README must show `make test` at the top"
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call `make test`"
