"""Escaped text, as JSON and URLs write it, decoded so that values hidden in it are seen.

A model reads ``"Contact:\\njane@example.com"`` in a JSON tool result as a line break and an
address, ``J\\u00f6rg`` as "Jörg", and ``jane%40example.com`` in a link as an address. Read
raw, the ``n`` of ``\\n`` glues itself to the address and ``%40`` hides the ``@``; so
everything that looks for protected values (the classifier, the privacy guard, the content
masker) also reads the decoded form:

* JSON escapes: ``\\uXXXX``, ``\\n``, ``\\t``, ``\\r``, ``\\b``, ``\\f``, ``\\"``, ``\\\\``
  and ``\\/``; and the ``\\xHH`` and ``\\u{H...}`` of Python, JavaScript and Rust strings;
* percent-encoding (``%40``, ``%2B``; runs of escapes read as UTF-8);
* HTML character references, as web pages fetched by a tool write them (``&#64;``,
  ``&#x40;``, ``&commat;``, ``&amp;``).

>>> decode_escapes("Contact:\\\\njane.doe%40example.com")
'Contact:\\njane.doe@example.com'
"""

from __future__ import annotations

import html
import re

_ESCAPE = re.compile(
    r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt])|x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\})"
    r"|((?:%[0-9A-Fa-f]{2})+)"
    r"|&(?:#([0-9]{1,7});?|#[xX]([0-9a-fA-F]{1,6});?|([A-Za-z][A-Za-z0-9]{1,31});)"
)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}


def might_be_escaped(text: str) -> bool:
    """A cheap test: whether ``text`` may hold an escape (a backslash, ``%`` or ``&``)."""
    return "\\" in text or "%" in text or "&" in text


def _code_point(digits: str, base: int) -> list[tuple[str, int]] | None:
    n = int(digits, base)
    return [(chr(n), 0)] if n <= 0x10FFFF else None


def _pieces(m: re.Match[str]) -> list[tuple[str, int]] | None:
    """The decoded characters of one escape (or run of percent escapes), each with its
    offset in the match; None when it stands for nothing (an unknown entity name, a code
    point out of range), and is then left as written."""
    kind = m.lastindex
    if kind == 1 or kind == 3 or kind == 4:  # \uXXXX, \xHH, \u{H...}
        return _code_point(m.group(kind), 16)
    if kind == 2:
        return [(_SIMPLE[m.group(2)], 0)]
    if kind == 6:  # &#64;
        return _code_point(m.group(6), 10)
    if kind == 7:  # &#x40;
        return _code_point(m.group(7), 16)
    if kind == 8:  # &commat;
        named = html.unescape(m.group(0))
        return None if named == m.group(0) else [(ch, 0) for ch in named]
    raw = bytes.fromhex(m.group(5).replace("%", ""))
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
        pieces = _pieces(m)
        if pieces is None:  # left as written, with the text around it
            continue
        out.append(text[pos : m.start()])
        where += range(pos, m.start())
        for ch, offset in pieces:
            out.append(ch)
            where.append(m.start() + offset)
        spans.append(m.span())
        pos = m.end()
    out.append(text[pos:])
    where += range(pos, len(text) + 1)
    return "".join(out), where, spans
