"""The ``pgrant-lab`` command line.

Each subcommand lives in its own module in this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (a callable taking the parsed namespace and returning an
exit status). Modules are discovered, so adding ``analysis/cli/<name>.py`` adds the command. Errors derived from :class:`analysis.errors.PgrantLabError` are printed as one line
on stderr with exit status 2; so are argparse's own usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from analysis.errors import PgrantLabError


def _subcommand_modules() -> list[str]:
    """Every module of this package but __main__ is a subcommand; listed alphabetically."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pgrant-lab",
        description="Explain, measure and predict Xen PV block I/O with and without persistent grants.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _subcommand_modules():
        importlib.import_module(f"analysis.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
