"""Load YAML while remembering the line of every key, so errors can say ``file:line``.

PyYAML builds plain dicts and forgets where things were; here we walk the node graph
ourselves, keep a map from each value's path (``("privacy", "email")``) to its 1-based line,
and reject duplicate keys, which PyYAML would silently overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from router.errors import PolicyError

PathKey = tuple[str | int, ...]


class LineMap:
    """Lines of the values in a YAML document, by path."""

    def __init__(self) -> None:
        self._lines: dict[PathKey, int] = {}

    def set(self, path: PathKey, line: int) -> None:
        self._lines[path] = line

    def __len__(self) -> int:
        """How many values have a line: one per value built, as each has its own path."""
        return len(self._lines)

    def exact(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path`` itself, or ``None`` when the document does not have it."""
        return self._lines.get(tuple(path))

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return self._lines.get((), None)


MAX_NODES = 100_000
"""More values than this in one file is refused: a few lines of YAML aliases can expand to
billions (an "alias bomb"), and no policy or configuration needs a fraction of this."""
MAX_BYTES = 1_000_000
"""A policy or configuration file larger than this is refused before it is parsed (the
largest shipped one is a few kilobytes; parsing 50 MB of YAML takes about a minute)."""
MAX_DEPTH = 64
"""Deeper nesting than this is refused, long before Python's recursion limit."""


def _build(node: yaml.Node, path: PathKey, lines: LineMap, ctor: yaml.SafeLoader, file: str) -> Any:
    line = node.start_mark.line + 1
    if len(lines) >= MAX_NODES:
        raise PolicyError(
            f"more than {MAX_NODES:,} values (aliases expanding?)", file=file, line=line
        )
    if len(path) > MAX_DEPTH:
        raise PolicyError(f"nested more than {MAX_DEPTH} levels deep", file=file, line=line)
    lines.set(path, line)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        # Merge keys first (``<<: *common``), so the mapping's own keys override them.
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                out.update(_merged(value_node, path, lines, ctor, file))
        merged = set(out)
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError(
                    "keys must be plain names", file=file, line=key_node.start_mark.line + 1
                )
            key = ctor.construct_object(key_node)
            if key is None or isinstance(key, bool | float):
                raise PolicyError(
                    f"key {key_node.value!r} is not a name",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    hint="quote it if it is meant as text",
                )
            key = str(key)
            if key in out and key not in merged:
                raise PolicyError(
                    f"duplicate key {key!r}",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    hint="each key may appear once; remove one of them",
                )
            child = (*path, key)
            merged.discard(key)
            out[key] = _build(value_node, child, lines, ctor, file)
            lines.set(child, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(n, (*path, i), lines, ctor, file) for i, n in enumerate(node.value)]
    try:
        return ctor.construct_object(node)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        # e.g. "!!int abc", "!!bool maybe": PyYAML's constructors fail untyped
        kind = node.tag.rsplit(":", 1)[-1]
        raise PolicyError(
            f"a value tagged !!{kind} is not a valid {kind}",
            file=file,
            line=node.start_mark.line + 1,
        ) from None


_MERGE = "tag:yaml.org,2002:merge"


def _merged(
    node: yaml.Node, path: PathKey, lines: LineMap, ctor: yaml.SafeLoader, file: str
) -> dict[str, Any]:
    """The keys a ``<<`` merge key brings in: one mapping, or a list of them (earlier
    ones win, as in YAML's merge-key rules)."""
    sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out: dict[str, Any] = {}
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            raise PolicyError(
                "<< merges a mapping or a list of mappings",
                file=file,
                line=source.start_mark.line + 1,
            )
        for key, value in _build(source, path, lines, ctor, file).items():
            out.setdefault(key, value)
    return out


def load_yaml(text: str, file: str = "<string>") -> tuple[Any, LineMap]:
    """Parse one YAML document; return its data and a :class:`LineMap`.

    Raises :class:`PolicyError` with the line for syntax errors and duplicate keys.
    """
    if not isinstance(text, str):
        raise PolicyError(f"expected YAML text, got {type(text).__name__}", file=file)
    lines = LineMap()
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # e.g. a NUL byte, caught by the reader before parsing
        raise PolicyError(f"not valid YAML: {str(exc).splitlines()[0]}", file=file) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = _build(node, (), lines, loader, file)
    except yaml.MarkedYAMLError as exc:
        line = _syntax_line(exc, text)
        raise PolicyError(_syntax_message(exc, _last_line(text)), file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", file=file) from None
    except RecursionError:  # PyYAML's composer recurses too
        raise PolicyError(f"nested more than {MAX_DEPTH} levels deep", file=file) from None
    finally:
        loader.dispose()
    return data, lines


# Errors whose cause is where something was opened, not where the parser gave up: an
# unterminated quote is found at the end of the file, an unclosed [ or { at the next key.
_OPENED_AT = (
    "while scanning a quoted scalar",
    "while parsing a flow sequence",
    "while parsing a flow mapping",
)


def _syntax_line(exc: yaml.MarkedYAMLError, text: str) -> int | None:
    opened = exc.context_mark is not None and (exc.context or "").startswith(_OPENED_AT)
    mark = exc.context_mark if opened or exc.problem_mark is None else exc.problem_mark
    return min(mark.line + 1, _last_line(text)) if mark is not None else None


def _last_line(text: str) -> int:
    """The number of the text's last line: the parser may point one past it."""
    return max(text.count("\n") + (not text.endswith("\n")), 1)


def _syntax_message(exc: yaml.MarkedYAMLError, last: int) -> str:
    """The parser's problem, with its context and the other line when there is one:
    "found unexpected end of stream (while scanning a quoted scalar that starts on line 3;
    the parser gave up on line 5)"."""
    text = f"not valid YAML: {exc.problem or exc.context}"
    problem, context = exc.problem_mark, exc.context_mark
    if exc.problem and exc.context and context is not None:
        elsewhere = problem is None or problem.line != context.line
        if exc.context.startswith(_OPENED_AT):
            text += f" ({exc.context} started here"
            if elsewhere:
                gave_up = min(problem.line + 1, last)  # type: ignore[union-attr]
                text += f"; the parser gave up on line {gave_up}"
            text += ")"
        elif elsewhere:
            text += f" ({exc.context} from line {context.line + 1})"
    return text


def load_yaml_file(path: str | Path) -> tuple[Any, LineMap]:
    """Read and parse a YAML file; unreadable files raise :class:`PolicyError`."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_BYTES:
            raise PolicyError(
                f"file is larger than {MAX_BYTES // 1_000_000} MB; a policy or configuration "
                "needs a few kilobytes",
                file=str(p),
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read file: {exc}", file=str(p)) from None
    return load_yaml(text, file=str(p))
