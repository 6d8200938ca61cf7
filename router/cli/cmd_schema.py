"""``hybrid-router schema``: write (or check) the policy JSON Schema and reference."""

from __future__ import annotations

import argparse

from router.cli.common import write_or_check
from router.policy.schema import reference_markdown, schema_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="write the policy JSON Schema (and the policy reference)",
        description="Print the policy JSON Schema, or write it and the Markdown reference.",
    )
    p.add_argument("--out", help="write the schema here (e.g. policies/schema.json)")
    p.add_argument("--docs", help="write the Markdown reference here")
    p.add_argument(
        "--check", action="store_true", help="exit 2 if --out/--docs files are out of date"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    targets = [("--out", args.out, schema_text()), ("--docs", args.docs, reference_markdown())]
    return write_or_check("schema", targets, check=args.check, flags="--out and/or --docs")
