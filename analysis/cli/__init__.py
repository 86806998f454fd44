"""The ``pgrant-lab`` command line.

Each subcommand lives in its own module in this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (a callable taking the parsed namespace and returning an
exit status). Modules are discovered, so adding ``analysis/cli/<name>.py`` adds the command.
Only the module of the command being run is imported: ``pgrant-lab --help`` lists the others with
the ``help=`` text of their ``add_parser`` call, read from their source without importing them
(so neither lists nor one command pay for pandas, scipy or matplotlib they do not use). Errors derived from :class:`analysis.errors.PgrantLabError` are printed as one line
on stderr with exit status 2; so are argparse's own usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from analysis.errors import PgrantLabError


def _subcommand_modules() -> list[str]:
    """Every module of this package but __main__ is a subcommand; listed alphabetically."""
    # os.listdir, not pkgutil (whose import alone costs ~10 ms of every command's start-up).
    return sorted(name[:-3] for name in os.listdir(Path(__file__).parent)
                  if name.endswith(".py") and not name.startswith("_"))


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's API
        self.exit(2, f"{self.prog}: error: {message}\n")


def _help_of(name: str) -> str | None:
    """The ``help=`` string of ``add_parser("<name>", help=...)`` in analysis/cli/<name>.py, unimported."""
    import ast  # only the listing needs it

    tree = ast.parse((Path(__file__).parent / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_parser" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == name):
            for keyword in node.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                    return keyword.value.value
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` names the one subcommand to import fully (None: all of them)."""
    parser = _Parser(
        prog="pgrant-lab",
        description="Explain, measure and predict Xen PV block I/O with and without persistent grants.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    names = _subcommand_modules()
    for name in names:
        if command is None or name == command:
            importlib.import_module(f"analysis.cli.{name}").register(sub)
        elif command:  # running one command: the others need a name, not their help text
            sub.add_parser(name)
        else:
            sub.add_parser(name, help=_help_of(name))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The top-level parser has no option taking a value, so the first word not starting with "-"
    # is the command; any other word (or none) builds only the light listing.
    command = next((word for word in argv if not word.startswith("-")), "")
    parser = build_parser(command if command in _subcommand_modules() else "")
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PgrantLabError as err:
        print(f"pgrant-lab {args.command}: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `pgrant-lab ingest f.json | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
