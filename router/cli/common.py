"""Helpers shared by sub-commands: reading requests, labels and batches; printing JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from router.cli.main import UsageError


def add_request_args(p: argparse.ArgumentParser, *, batch: bool = True) -> None:
    p.add_argument("text", nargs="?", help="the user message (omit with --batch)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a caller label, e.g. sensitivity=confidential (repeatable)",
    )
    if batch:
        p.add_argument(
            "--batch",
            action="store_true",
            help='read JSON lines from stdin ({"text": ...} or {"messages": [...]}); '
            "one JSON result per line on stdout, a summary on stderr",
        )


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--label expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def single_text(args: argparse.Namespace) -> str:
    if args.text is None:
        raise UsageError("give the message text, or --batch to read JSON lines from stdin")
    return args.text


def batch_items(stream: Any = None) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, request dict or None, error or None) for each non-empty input line.

    A request dict has ``messages`` (always), and optional ``labels``, ``team`` and
    generation parameters taken from the line.
    """
    stream = stream if stream is not None else sys.stdin
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"line {n}: not JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield n, None, f"line {n}: expected a JSON object"
            continue
        if "messages" in obj:
            messages = obj.pop("messages")
            obj.pop("text", None)
            if not isinstance(messages, list):
                yield n, None, f"line {n}: messages must be a list of message objects"
                continue
        elif "text" in obj:
            text = obj.pop("text")
            if not isinstance(text, str):
                yield n, None, f"line {n}: text must be a string"
                continue
            messages = [{"role": "user", "content": text}]
        else:
            yield n, None, f'line {n}: expected "text" or "messages"'
            continue
        yield n, {"messages": messages, **obj}, None


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
