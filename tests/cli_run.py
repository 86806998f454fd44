"""Run the ``pgrant-lab`` command line in-process and capture what a user would see."""

from __future__ import annotations

from analysis.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``pgrant-lab ARGV``; argparse's own exits count as a status."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
