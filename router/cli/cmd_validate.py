"""``hybrid-router validate``: check policy and configuration files; report ``file:line``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from router.checks import validate_paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check policy and router configuration files",
        description="Check policy and configuration files. Every problem is reported as "
        "file:line: message; the exit status is 2 when any file is invalid.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories of .yaml files")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    problems, checked = validate_paths([Path(p) for p in args.paths])
    if not checked and not problems:  # a CI job pointed at the wrong place must not pass
        problems = [f"{', '.join(args.paths)}: no .yaml or .yml file to check"]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not args.quiet:
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        print(f"checked {checked} file(s): {status}")
    return 2 if problems else 0
