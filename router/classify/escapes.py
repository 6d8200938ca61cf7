"""Escaped text, as JSON and URLs write it, decoded so that values hidden in it are seen.

A model reads ``"Contact:\\njane@example.com"`` in a JSON tool result as a line break and an
address, ``J\\u00f6rg`` as "Jörg", and ``jane%40example.com`` in a link as an address. Read
raw, the ``n`` of ``\\n`` glues itself to the address and ``%40`` hides the ``@``; so
everything that looks for protected values (the classifier, the privacy guard, the content
masker) also reads the decoded form:

* JSON escapes: ``\\uXXXX``, ``\\n``, ``\\t``, ``\\r``, ``\\b``, ``\\f``, ``\\"``, ``\\\\``
  and ``\\/``;
* percent-encoding (``%40``, ``%2B``; runs of escapes read as UTF-8).

>>> decode_escapes("Contact:\\\\njane.doe%40example.com")
'Contact:\\njane.doe@example.com'
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt]))|((?:%[0-9A-Fa-f]{2})+)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}


def might_be_escaped(text: str) -> bool:
    """A cheap test: whether ``text`` may hold an escape (a backslash or a ``%``)."""
    return "\\" in text or "%" in text


def _pieces(m: re.Match[str]) -> list[tuple[str, int]]:
    """The decoded characters of one escape (or run of percent escapes), each with its
    offset in the match."""
    if m.group(1) is not None:
        return [(chr(int(m.group(1), 16)), 0)]
    if m.group(2) is not None:
        return [(_SIMPLE[m.group(2)], 0)]
    raw = bytes.fromhex(m.group(3).replace("%", ""))
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(raw):
        lead = raw[i]
        size = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        try:
            ch = raw[i : i + size].decode("utf-8")
        except UnicodeDecodeError:  # not UTF-8: one byte, one character
            ch, size = chr(lead), 1
        out.append((ch, 3 * i))
        i += size
    return out


def decode_escapes(text: str) -> str:
    """``text`` with its JSON and percent escapes decoded (see :data:`PASSES`)."""
    if not might_be_escaped(text):
        return text
    return decode_escapes_with_spans(text)[0]


PASSES = 3
"""Escaped text is decoded up to this many times: a JSON body carried as a string in
another JSON document escapes twice (``\\\\n``), a percent sign once more (``%2540``)."""


def decode_escapes_with_spans(text: str) -> tuple[str, list[int], list[tuple[int, int]]]:
    """:func:`decode_escapes`; for each position in the result (and its end) the position
    in ``text`` it comes from, to map spans found there back to ``text``; and the spans of
    ``text`` that were escapes (``\\n``, a run of ``%XX``), sorted. Decodes up to
    :data:`PASSES` times, until nothing changes."""
    decoded, where, spans = _decode_once(text)
    for _ in range(PASSES - 1):
        if decoded == text or not might_be_escaped(decoded):
            break
        text = decoded
        decoded, inner, inner_spans = _decode_once(text)
        if decoded == text:
            break
        # Positions of this pass point into the previous result: map them on to the raw text.
        spans = sorted({*spans, *((where[a], where[b]) for a, b in inner_spans)})
        where = [where[k] for k in inner]
    return decoded, where, spans


def _decode_once(text: str) -> tuple[str, list[int], list[tuple[int, int]]]:
    """One pass of decoding: the result, positions and escape spans, as above."""
    out: list[str] = []
    where: list[int] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        out.append(text[pos : m.start()])
        where += range(pos, m.start())
        for ch, offset in _pieces(m):
            out.append(ch)
            where.append(m.start() + offset)
        spans.append(m.span())
        pos = m.end()
    out.append(text[pos:])
    where += range(pos, len(text) + 1)
    return "".join(out), where, spans
