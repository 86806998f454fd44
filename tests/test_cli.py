"""Command-line behaviour shared by every subcommand."""

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import as_flags
from tests.cli_run import run_cli


def test_unknown_subcommand_exits_2_with_one_line(capsys):
    code, _, err = run_cli(["no-such-command"], capsys)
    assert code == 2
    err = err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'no-such-command'" in err[0]


def test_console_script_is_installed_and_lists_subcommands():
    script = Path(sys.executable).with_name("pgrant-lab")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    listed = out.split("{", 1)[1].split("}", 1)[0].split(",")  # argparse: "{fit,ingest,...}"
    assert listed == ["fit", "ingest", "kit", "report", "ring", "simulate", "verdicts"]


@pytest.mark.parametrize(("message", "options", "shown"), [
    ("max_segments: expected 1 to 4096", {"--max-segments"}, "--max-segments: expected 1 to 4096"),
    ("cap: expected a positive number", {"--cap", "--policy"}, "--cap: expected a positive number"),
    ("cap: expected a positive number", {"--policy"}, "cap: expected a positive number"),  # no such flag here
    ("trace offsets: expected n + 1", {"--trace"}, "trace offsets: expected n + 1"),  # not a parameter's name
    ("/data/x.json: field 'jobs': expected a list", {"--data"}, "/data/x.json: field 'jobs': expected a list"),
])
def test_library_messages_are_shown_with_the_commands_flags(message, options, shown):
    assert as_flags(message, options) == shown
