"""JSON ``\\uXXXX`` escapes, the form ``json.dumps`` gives non-ASCII text by default.

A model reads ``J\\u00f6rg`` as "Jörg", so everything that looks for protected values (the
classifier, the privacy guard, the content masker) also reads the decoded form.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _char(m: re.Match[str]) -> str:
    return chr(int(m.group(1), 16))


def decode_escapes(text: str) -> str:
    """``text`` with its ``\\uXXXX`` escapes decoded."""
    return _ESCAPE.sub(_char, text)


def decode_escapes_with_positions(text: str) -> tuple[str, list[int]]:
    """:func:`decode_escapes`, and for each position in the result (and its end) the
    position in ``text`` it comes from, to map spans found there back to ``text``."""
    pieces: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        pieces += (text[pos : m.start()], _char(m))
        where += range(pos, m.start())
        where.append(m.start())
        pos = m.end()
    pieces.append(text[pos:])
    where += range(pos, len(text) + 1)
    return "".join(pieces), where
