"""The *shape* of a text, and helpers shared by the detectors of :mod:`router.classify.pii`.

:func:`_shape` maps a text, in one C-speed pass, to a bytes string of the same length in which
every upper-case letter is ``A``, every ASCII digit ``0``, white space a space, ``_`` a ``-`` and
``=`` a ``:``; lower case and punctuation stay. Each detector module scans that shape with its own
``_S_*`` regular expressions. :func:`_alt` and :func:`_vary` build patterns and word sets from the
word lists in :mod:`router.classify._names`; the types the detectors share are defined here too.

The scanners and patterns live in the module whose functions call their methods: on Python 3.11
a method call on a name bound by ``from ... import`` compiles to ``LOAD_ATTR`` and creates a bound
method on every call, where a module's own global gets the cheaper ``LOAD_METHOD``.
"""

from __future__ import annotations

import re

from router.classify import _names as N

_Out = list[tuple[int, int, str, float, str]]  # (start, end, class, confidence, detector)
_Hit = tuple[str, float, str]  # (class, confidence, detector)
_Span = tuple[int, int, str]  # (start, end, detector)

_TABLE = bytes(
    48 if 48 <= i <= 57 else 32 if chr(i).isspace() else 65 if chr(i).isupper() else
    45 if i == 95 else 58 if i == 61 else i for i in range(256)
)  # fmt: skip
_EXT = [c for c in (*range(0x100, 0x250), *range(0x1E00, 0x1F00)) if chr(c).isalpha()]
_WIDE = {c: "À" if chr(c).isupper() else "à" for c in _EXT}
_WIDE_SHAPE = {c: 65 if chr(c).isupper() else 0xE0 for c in _EXT}
_LETTER = frozenset([65, *range(97, 123), *range(0xDF, 0xF7), *range(0xF8, 0x100)])


def _shape(text: str) -> bytes:
    """One byte per character: ``A`` upper-case letter, ``0`` digit, lower case kept."""
    if text.isascii():
        return text.encode("ascii").translate(_TABLE)
    raw = text.encode("latin-1", "replace")  # one byte per character; others become "?"
    shape, i, patched = raw.translate(_TABLE), raw.find(63), 0
    if i < 0:
        return shape
    buf = bytearray(shape)
    while i >= 0:
        if (c := text[i]) != "?":
            buf[i] = _WIDE_SHAPE.get(ord(c), 63)
            patched += 1
            if patched > 48:  # many letters outside Latin-1: map them all at once instead
                return text.translate(_WIDE).encode("latin-1", "replace").translate(_TABLE)
        i = raw.find(63, i + 1)
    return bytes(buf)


def _alt(words: frozenset[str] | set[str], reverse: bool = False) -> str:
    """A regex alternation of the words, longest first (reversed for backward matching)."""
    return "|".join(re.escape(w[::-1] if reverse else w) for w in sorted(words, key=len)[::-1])


def _vary(*sets: frozenset[str]) -> frozenset[str]:
    """The words, also followed by ``:``, ``.`` or ``,`` as they appear before a number."""
    words = frozenset().union(*sets)
    return words | {w + p for w in words for p in ":.,"}


_TEMPLATE = re.compile(  # a variable a tool fills in, never a password itself
    r"<[^<>]{1,40}>|\$\{\w{1,40}\}|\$[A-Z][A-Z\d_]{0,39}|%\(\w{1,40}\)s|%s|\*{3,20}"
    r"|\{\{[ \t]+[\w.\-]{1,40}[ \t]+\}\}"  # {{ name }} ({{prod}} may be a password)
    r"|(?i:\{\{[\w.\-]{0,20}(?:pass|pwd|secret|token|key)[\w.\-]{0,20}\}\})"  # {{db_password}}
)


def _placeholder(user: str, password: str) -> bool:
    """Whether ``user:password`` (in a URL, on a curl command line, in a .pgpass line) is a
    documentation template, not a credential: the password is a variable (``<password>``,
    ``${DB_PASS}``, ``$TOKEN``, ``{{ pw }}``, ``%(pw)s``, ``%s``, a mask such as ``****``) or
    a word that only a template writes (``your_password``); or it is a word such as
    ``PASSWORD``, ``pass`` or ``changeme`` *and* the user is a placeholder too
    (``USER:PASSWORD``, ``$USER:pass``). Anything else is a secret: ``root:SUPERSECRET``,
    ``admin:password`` and ``bob:MyDog1985Pass`` are passwords someone may really use."""
    if _TEMPLATE.fullmatch(password):
        return True
    word = password.lower().replace("-", "_")
    if word in N.TEMPLATE_PASSWORDS:
        return True
    return word in N.PLACEHOLDER_PASSWORDS and (
        user.lower().replace("-", "_") in N.PLACEHOLDER_USERS or bool(_TEMPLATE.fullmatch(user))
    )
