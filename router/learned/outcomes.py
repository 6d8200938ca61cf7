"""Per-prompt outcomes of a weak and a strong tier, read from JSON-lines files.

Each non-blank line is an object with ``prompt`` (a string, or a list of user turns oldest
first), ``weak_correct`` and ``strong_correct`` (booleans, or 0/1), and optionally ``subject``
(ignored at run time: a router only ever sees the prompt). Other fields are kept out of the
way. Any mistake is reported as ``file:line: what is wrong``.

>>> import io
>>> rows = parse_outcomes(io.StringIO('{"prompt": "2+2?", "weak_correct": true, '
...                                   '"strong_correct": true}\\n'), "mem.jsonl")
>>> rows[0].turns, rows[0].weak_correct
(('2+2?',), True)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from router.errors import OutcomesError

__all__ = ["Outcome", "OutcomesError", "parse_outcomes", "read_many", "read_outcomes"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the weak and the strong tier did on one prompt (or conversation)."""

    turns: tuple[str, ...]
    weak_correct: bool
    strong_correct: bool
    subject: str = ""


def _as_bool(value: object, field: str, file: str, line: int) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise OutcomesError(f"{field!r} must be true or false, got {value!r}", file=file, line=line)


def _as_turns(value: object, file: str, line: int) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(turn, str) for turn in value):
        return tuple(value)
    raise OutcomesError(
        "'prompt' must be a string or a non-empty list of strings", file=file, line=line
    )


def parse_outcomes(lines: Iterable[str], name: str = "<outcomes>") -> list[Outcome]:
    """Parse JSON-lines outcomes from an iterable of lines; ``name`` labels errors."""
    rows: list[Outcome] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OutcomesError(f"not valid JSON ({exc.msg})", file=name, line=number) from None
        except (ValueError, RecursionError):  # a huge integer, nesting past the parser's limit
            raise OutcomesError("not JSON this reader accepts", file=name, line=number) from None
        if not isinstance(obj, dict):
            raise OutcomesError("each line must be a JSON object", file=name, line=number)
        for field in ("prompt", "weak_correct", "strong_correct"):
            if field not in obj:
                raise OutcomesError(f"missing field {field!r}", file=name, line=number)
        subject = obj.get("subject")  # null, as pandas writes a missing value: no subject
        rows.append(
            Outcome(
                turns=_as_turns(obj["prompt"], name, number),
                weak_correct=_as_bool(obj["weak_correct"], "weak_correct", name, number),
                strong_correct=_as_bool(obj["strong_correct"], "strong_correct", name, number),
                subject="" if subject is None else str(subject),
            )
        )
    if not rows:
        raise OutcomesError("no outcomes in file", file=name)
    return rows


def read_outcomes(path: str | Path) -> list[Outcome]:
    """Read one outcomes file; raises :class:`OutcomesError` naming ``file:line``."""
    name = str(path)
    try:
        handle: IO[str] = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutcomesError(f"cannot read file ({exc.strerror or exc})", file=name) from None
    with handle:
        try:
            return parse_outcomes(handle, name)
        except UnicodeDecodeError:
            raise OutcomesError("not UTF-8 text", file=name) from None


def read_many(paths: Sequence[str | Path]) -> list[tuple[str, list[Outcome]]]:
    """Read several outcomes files, keeping each file's rows apart."""
    return [(str(p), read_outcomes(p)) for p in paths]
