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
import contextlib
import importlib
import os
import signal
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


def _options(parser: argparse.ArgumentParser, command: str) -> set[str]:
    """The long options (``--name``) of ``command``'s parser."""
    for action in parser._subparsers._group_actions:  # noqa: SLF001 - argparse keeps subparsers here
        sub = getattr(action, "choices", {}).get(command)
        if sub is not None:
            return {o for a in sub._actions for o in a.option_strings if o.startswith("--")}  # noqa: SLF001
    return set()


def as_flags(message: str, options: set[str]) -> str:
    """A library message in the command's terms: a leading ``name:`` becomes ``--name:`` when the
    command has that option (library errors name parameters, e.g. ``max_segments``; the CLI's
    user typed flags, e.g. ``--max-segments``)."""
    name, colon, rest = message.partition(":")
    flag = "--" + name.replace("_", "-")
    return f"{flag}:{rest}" if colon and flag in options else message


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
    with _sigterm_as_interrupt():
        try:
            status = int(args.func(args) or 0)
            sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
            return status
        except PgrantLabError as err:
            print(f"pgrant-lab {args.command}: {as_flags(str(err), _options(parser, args.command))}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # e.g. `pgrant-lab ingest f.json | head`
            _drop_stdout()
            return 0
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (below): outputs are written whole or not at all
            print(f"pgrant-lab {args.command}: interrupted; nothing half-written was left (outputs are "
                  "replaced whole or not at all)", file=sys.stderr)
            return 2
        except OSError as err:  # an output that cannot be written: a full disk, /proc, a read-only folder
            where = f"{err.filename}: " if err.filename else "standard output: "  # print() gives no name
            _drop_stdout()
            print(f"pgrant-lab {args.command}: {where}expected to write the output, found an error "
                  f"({err.strerror or err})", file=sys.stderr)
            return 2


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt, so every ``finally`` (scratch folders, locks) runs as on Ctrl-C."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drop_stdout() -> None:
    """Discard what could not be written to stdout, so Python does not fail again flushing it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pytest's captured stdout has no file descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
