"""Helpers shared by sub-commands: reading requests, labels and batches; printing JSON;
argument types; writing or checking generated files; the embedded default's tier flags."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.cli.main import UsageError

if TYPE_CHECKING:
    from router.core import Router


def add_request_args(p: argparse.ArgumentParser, *, batch: bool = True) -> None:
    text_help = "the user message (omit with --batch)" if batch else "the user message"
    p.add_argument("text", nargs="?", help=text_help)
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
            "one JSON result per line on stdout, each with the number of the input line it "
            "answers (blank lines are skipped), a summary on stderr",
        )


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--label expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def batch_mode(args: argparse.Namespace) -> bool:
    """Whether ``--batch`` was given; a message text given with it is a usage error (it
    would be silently ignored)."""
    if args.batch and args.text is not None:
        raise UsageError("--batch reads requests from stdin: give no message text with it")
    return bool(args.batch)


def single_text(args: argparse.Namespace) -> str:
    if args.text is None:
        if hasattr(args, "batch"):  # only commands that have --batch may offer it
            raise UsageError("give the message text, or --batch to read JSON lines from stdin")
        raise UsageError("give the message text")
    if not args.text.strip():  # e.g. "$MESSAGE" with the variable unset: not a request
        raise UsageError("the message text is empty")
    if not args.text.isascii() and not _is_utf8(args.text):
        raise UsageError("the message text is not UTF-8")
    return args.text


def _is_utf8(text: str) -> bool:
    """False for text read from bytes that were not UTF-8 (Python keeps them as lone
    surrogates), so the message can say so instead of blaming Unicode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def positive_int(value: str) -> int:
    """An ``argparse`` type: an integer of at least 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def batch_items(stream: Any = None) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, request dict or None, error or None) for each non-empty input line.

    A request dict has ``messages`` (always), and optional ``labels``, ``team`` and
    generation parameters taken from the line.
    """
    stream = stream if stream is not None else sys.stdin
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if not line.isascii() and not _is_utf8(line):
            yield n, None, f"line {n}: not UTF-8 text"
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"line {n}: not JSON ({exc.msg})"
            continue
        except (ValueError, RecursionError):  # a huge integer, nesting past the parser's limit
            yield n, None, f"line {n}: not JSON this reader accepts"
            continue
        if not isinstance(obj, dict):
            yield n, None, f"line {n}: expected a JSON object"
            continue
        if "self" in obj:  # would collide with the method's own argument
            yield n, None, f'line {n}: unknown field "self"'
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


def writable_file(path: str, flag: str) -> Path:
    """``path`` checked as an output file before any work is done: it names a file (not a
    directory) in a directory that exists and can be written."""
    p = Path(path)
    if not path or p.name in ("", ".", "..") or p.is_dir():
        raise UsageError(f"{flag} {path!r}: give the path of a file")
    if not p.parent.is_dir():
        raise UsageError(f"{flag} {path}: directory {p.parent} does not exist")
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"{flag} {path}: not writable")
    return p


def write_or_check(
    command: str, targets: Sequence[tuple[str, str | None, str]], *, check: bool, flags: str
) -> int:
    """Write each ``(flag, path, text)`` whose path was given (all paths are checked first,
    so a bad one leaves nothing half-written), or with ``check`` compare instead
    and return 2 naming the files that are out of date. With no path given, print the first
    text to stdout; ``--check`` then has nothing to compare and is a usage error (``flags``
    names the options that give paths, for the message)."""
    given = [(path, text) for _, path, text in targets if path is not None]
    if not check:  # every target checked before any is written: all or nothing
        for flag, path, _ in targets:
            if path is not None:
                writable_file(path, flag)
        paths = [Path(path).resolve() for path, _ in given]
        if len(set(paths)) < len(paths):
            raise UsageError(f"{flags} must be different files")
    if not given:
        if check:
            raise UsageError(f"--check compares files: give {flags}")
        sys.stdout.write(targets[0][2])
        return 0
    stale = []
    for path, text in given:
        p = Path(path)
        if check:
            try:
                current = p.read_text(encoding="utf-8") if p.is_file() else None
            except (OSError, UnicodeDecodeError):
                current = None  # unreadable or not UTF-8: not what would be written
            if current != text:
                stale.append(path)
            continue
        try:
            p.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if stale:
        print(
            f"out of date: {', '.join(stale)} (run hybrid-router {command} without --check)",
            file=sys.stderr,
        )
        return 2
    return 0


# --- the embedded default's larger tiers (demo, chat, backends) --------------------------


def add_tier_args(p: argparse.ArgumentParser) -> None:
    """The flags that add larger tiers to the embedded default."""
    p.add_argument("--large-gguf", metavar="PATH", help="a GGUF model for the large tier")
    p.add_argument("--large-url", metavar="URL", help="an OpenAI-compatible server (…/v1)")
    p.add_argument("--large-model", metavar="NAME", help="the model name on --large-url")


def tier_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--large-*`` flags as arguments of :func:`router.defaults.default_setup`.

    ``--large-model`` names the model on a server, so it needs a server URL (the flag or
    the environment); alone it would be ignored without a word.
    """
    from router.defaults import ENV_LARGE_URL

    if getattr(args, "config", None) is not None and (
        args.large_gguf or args.large_url or args.large_model
    ):
        raise UsageError(
            "--large-* flags apply to the embedded default; with --config, "
            "declare the backends in the file"
        )
    if args.large_model and not (args.large_url or os.environ.get(ENV_LARGE_URL)):
        raise UsageError(f"--large-model names the model on --large-url (or ${ENV_LARGE_URL})")
    if args.large_url is not None and not args.large_url.startswith(("http://", "https://")):
        raise UsageError(f"--large-url must start with http:// or https://, got {args.large_url!r}")
    return {
        "large_gguf": args.large_gguf,
        "large_url": args.large_url,
        "large_model": args.large_model,
    }


def default_router_from_args(
    args: argparse.Namespace, *, load: bool = True
) -> tuple[Router, dict[str, str]]:
    """The embedded default with the tiers the flags add (loaded, with progress on stderr,
    unless ``load=False``), and a sentence about each tier."""
    from router.defaults import default_router, default_setup

    kw = tier_kwargs(args)
    notes = default_setup(**kw).notes
    router = default_router(**kw)
    if load:
        load_models(router)
    return router, notes


def load_models(router: Router) -> None:
    """Load in-process models now, saying so on stderr (loading can take seconds)."""
    for backend in router.backends.values():
        load = getattr(backend, "load", None)
        if load is None or getattr(backend, "loaded", True):
            continue
        print(f"loading {backend.spec.model} ...", end=" ", file=sys.stderr, flush=True)
        try:
            seconds = load()
        except Exception:
            print("failed", file=sys.stderr)
            raise
        print(f"done in {seconds:.1f} s", file=sys.stderr)
