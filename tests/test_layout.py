"""The pipeline's shape is enforced: imports flow one way between the stage folders, only the
readers and the collectors touch data/raw, and nothing cites a file outside the repository.

Read statically (ast), so a lazy import inside a function counts like one at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "analysis"

# Stage of each top-level module or folder of analysis/, lowest first. A module may import only
# from its own stage or a lower one; collect/ and cli/ are imported by nothing but cli/.
RANK = {
    "__init__": 0, "paths": 0, "constants": 0, "errors": 0, "machine": 0, "progress": 0, "compute": 0,
    "text": 0, "safeio": 0, "outdir": 0,
    "ingest": 1,
    "models": 2, "xen": 2,
    "simulated": 3,
    "decide": 4,
    "plots": 5, "tables": 5, "site": 5,  # presentation: figures, the one table formatter, the report's pages
    "report": 6,
    "cli": 7, "collect": 7,
}
TOP_ONLY = ("collect", "cli")

# Names in analysis.paths that point under data/raw.
RAW_NAMES = {"RAW", "RAW_DATA_DIR", "MEASURED_HERE", "SEED_THREAD", "THREAD_CLAIMS_FILE", "MEMORY_CLAIMS_FILE",
             "SCALING_FILE", "SWEEP_DIR", "EXAMPLE_EXPERIMENT", "MEMCPY_DIR", "LOOKUP_DIR", "UNMAP_DIR"}
RAW_READERS = ("ingest", "collect")
# Modules that name data/raw only to refuse writing into it (output guards), never to open it.
RAW_GUARDS = {("report", "RAW_DATA_DIR"), ("cli/report", "RAW_DATA_DIR"), ("cli/ingest", "RAW_DATA_DIR"),
              ("cli/verdicts", "RAW_DATA_DIR"), ("outdir", "RAW_DATA_DIR")}


def modules(package: Path = PACKAGE) -> list[Path]:
    return sorted(package.rglob("*.py"))


def stage(relative: str) -> str:
    """'ingest/fio.py' -> 'ingest'; 'paths.py' -> 'paths'; 'analysis.ingest.fio' -> 'ingest'."""
    parts = relative.removesuffix(".py").replace(".", "/").split("/")
    if parts[0] == "analysis":
        parts = parts[1:] or ["__init__"]
    return parts[0]


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every ``analysis.*`` module the tree imports, at any depth."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "analysis"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "analysis":
                found += [(node.lineno, f"analysis.{a.name}") for a in node.names]
            elif node.module.startswith("analysis."):
                found.append((node.lineno, node.module))
    return found


def import_violations(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in modules(package):
        relative = path.relative_to(package).as_posix()
        own = stage(relative)
        if own not in RANK:
            problems.append(f"analysis/{relative}: stage {own!r} has no rank in tests/test_layout.py RANK")
            continue
        for line, module in imported(ast.parse(path.read_text(), str(path))):
            other = stage(module)
            if other not in RANK:
                continue  # a name re-exported by analysis/__init__ (e.g. FioFormatError)
            if other in TOP_ONLY and own != other and own != "cli":
                problems.append(f"analysis/{relative}:{line}: imports {module}; nothing in analysis imports {other}/")
            elif RANK[other] > RANK[own]:
                problems.append(f"analysis/{relative}:{line}: {own} imports {module}, a later stage ({other})")
    return problems


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                ids.add(id(node.body[0].value))
    return ids


def raw_violations(package: Path = PACKAGE) -> list[str]:
    """Uses of a data/raw path outside ingest/ and collect/: a paths.* name under RAW, or a string
    literal with a path component "raw" (docstrings and comments excepted)."""
    problems = []
    for path in modules(package):
        relative = path.relative_to(package).as_posix()
        if stage(relative) in RAW_READERS or relative == "paths.py":
            continue
        module = relative.removesuffix(".py")
        tree = ast.parse(path.read_text(), str(path))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in RAW_NAMES:
                name = node.attr
            elif isinstance(node, ast.Name) and node.id in RAW_NAMES:
                name = node.id
            elif isinstance(node, ast.alias) and node.name in RAW_NAMES:
                name = node.name
            if name and (module, name) not in RAW_GUARDS:
                problems.append(f"analysis/{relative}:{getattr(node, 'lineno', '?')}: uses {name} (under data/raw)")
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                    and re.search(r"(^|/)raw(/|$)", node.value)):
                problems.append(f"analysis/{relative}:{node.lineno}: string {node.value[:40]!r} names data/raw")
    return problems


def test_imports_flow_from_lower_stages_to_higher_ones_only():
    assert import_violations() == []


def test_only_ingest_and_collect_name_paths_under_data_raw():
    assert raw_violations() == []


def test_the_checks_catch_what_they_forbid(tmp_path):
    """Each rule, broken once in a scratch copy of two modules, is reported."""
    package = tmp_path / "analysis"
    (package / "ingest").mkdir(parents=True)
    (package / "decide").mkdir()
    (package / "ingest" / "fio.py").write_text("from analysis.models import USL\nimport analysis.collect.kit\n")
    (package / "decide" / "decision.py").write_text(
        "from analysis import paths\n\ndef f(d):\n    return d / paths.UNMAP_DIR, d / 'raw/seed-thread'\n")
    assert import_violations(package) == [
        "analysis/ingest/fio.py:1: ingest imports analysis.models, a later stage (models)",
        "analysis/ingest/fio.py:2: imports analysis.collect.kit; nothing in analysis imports collect/",
    ]
    assert raw_violations(package) == [
        "analysis/decide/decision.py:4: uses UNMAP_DIR (under data/raw)",
        "analysis/decide/decision.py:4: string 'raw/seed-thread' names data/raw",
    ]


FLAG_SPEAKERS = ("cli", "collect")  # argument parsing: the CLI and the collection scripts' own flags


def _leading_text(node: ast.AST) -> str:
    """The literal start of a message argument: a string, or an f-string's first literal part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return ""


def flag_violations(package: Path = PACKAGE) -> list[str]:
    """Errors raised by the library (outside cli/ and collect/) whose message starts with a CLI
    flag (``--cap: ...``): the library names its parameter (``cap: ...``) and the CLI translates
    (analysis.cli.as_flags)."""
    problems = []
    for path in modules(package):
        relative = path.relative_to(package).as_posix()
        if stage(relative) in FLAG_SPEAKERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                text = _leading_text(node.exc.args[0])
                if text.startswith("--"):
                    problems.append(f"analysis/{relative}:{node.lineno}: message starts with a flag: {text[:30]!r}")
    return problems


def test_library_errors_name_parameters_not_cli_flags():
    assert flag_violations() == []


def test_the_flag_check_catches_a_flag_in_a_library_message(tmp_path):
    package = tmp_path / "analysis"
    (package / "xen").mkdir(parents=True)
    (package / "cli").mkdir()
    (package / "xen" / "ring.py").write_text(
        "def f(n):\n    if n:\n        raise ValueError(f'--order: expected 0 to 4, found {n}')\n"
        "    raise ValueError('order: expected 0 to 4')\n")
    (package / "cli" / "ring.py").write_text("raise SystemExit('--order: expected 0 to 4')\n")
    assert flag_violations(package) == [
        "analysis/xen/ring.py:3: message starts with a flag: '--order: expected 0 to 4, foun'"]


OUTSIDE = re.compile(r"\.\./shared|shared/|reference/")


@pytest.mark.parametrize("folder", ["analysis", "notebooks"])
def test_nothing_cites_a_file_outside_the_repository(folder):
    """Sources are cited by repository and file (e.g. Linux drivers/block/xen-blkback/common.h),
    never by a path to notes outside this checkout."""
    hits = []
    for path in sorted((ROOT / folder).rglob("*")):
        if path.suffix not in (".py", ".ipynb", ".md") or "__pycache__" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert hits == []
