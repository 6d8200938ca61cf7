"""Entry point of ``hybrid-router`` and ``python -m router``.

User mistakes (bad input, bad files, no route) print one line to stderr and exit 2, never a
traceback. Each sub-command module exposes ``register(subparsers)``, which adds its parser and
sets ``func`` to a callable taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from router import __version__
from router.errors import RouterError

# Sub-command modules, in the order `--help` lists them.
COMMANDS = (
    "router.cli.cmd_demo",
    "router.cli.cmd_chat",
    "router.cli.cmd_classify",
    "router.cli.cmd_explain",
    "router.cli.cmd_validate",
    "router.cli.cmd_backends",
    "router.cli.cmd_bench",
    "router.cli.cmd_schema",
    "router.cli.cmd_learned",
    "router.cli.cmd_reference",
)

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake on the command line that argparse cannot see (e.g. an unreadable file)."""


class _Parser(argparse.ArgumentParser):
    """``argparse`` with a one-line error: a mistake is named, not followed by the usage
    block (``--help`` shows that). Sub-command parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hybrid-router",
        description="Route chat requests to local or remote models by team policy.",
    )
    parser.add_argument("--version", action="version", version=f"hybrid-router {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (RouterError, UsageError) as exc:
        print(f"hybrid-router {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"hybrid-router {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
