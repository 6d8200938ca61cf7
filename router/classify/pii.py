"""Find personal and secret data in a message: rule-based, standard library only, fast.

:func:`find_pii` returns ``(data_class, start, end, confidence, detector)`` tuples for the
classes of :data:`router.classify.types.DataClass`, sorted by start; findings of one class
never overlap.

The router calls this on every request, so text with nothing to find must cost a few
microseconds per kilobyte. The approach:

1. One C-speed pass (``str.encode`` + ``bytes.translate``) builds the *shape* of the text, a
   bytes string of the same length in which every upper-case letter is ``A``, every ASCII digit
   ``0``, white space a space, ``_`` a ``-`` and ``=`` a ``:``; lower case and punctuation stay.
   Letters outside Latin-1 (``Ł``, ``ş``) are patched in as ``A`` or ``à``.
2. A few regular expressions scan the shape. Each starts with one literal byte (``A``, ``0``,
   ``-``, ``:``), so ``re`` jumps between those bytes and only tries a match there: runs of
   digits, capitalised words followed by another one or after a cue, key prefixes. Detectors
   whose trigger character is absent from the text are skipped altogether.
3. Each candidate is checked on the original text with precise patterns and validators: Luhn
   and issuer prefixes for cards, ISO 13616 lengths and mod-97 for IBANs, SSA rules for SSNs,
   octet ranges and :mod:`ipaddress` for IPs, known prefixes for API keys, a gazetteer of given
   and family names plus cues for persons (a ``frozenset.isdisjoint`` pre-check keeps ordinary
   capitalised phrases cheap), street vocabularies of many languages for addresses. Context
   (``tel``, ``born``, ``version``, ``$``) is read from the few words before a number.
4. Overlapping findings are resolved greedily: higher confidence first, then the longer span;
   a finding that loses only to findings of other classes is kept too, so no class is lost.

Every repetition is bounded or anchored, so adversarial input stays roughly linear. Matched
values are only ever returned as spans.

This module runs the detectors (and holds the capital-letter scanner, which feeds several of them)
and resolves overlaps; the detectors live in small modules, each with the scanners it runs:

- :mod:`router.classify._pii_shape`: the shape of a text, and helpers the detectors share
- :mod:`router.classify._pii_checks`: formats and check digits (cards, IBANs, national IDs, IPv4)
- :mod:`router.classify._pii_people`: persons and postal addresses
- :mod:`router.classify._pii_numbers`: runs of digits (identifiers, addresses, dates of birth)
- :mod:`router.classify._pii_secrets`: API keys, tokens, private keys, passwords
- :mod:`router.classify._pii_net`: e-mail addresses, credentials in URLs, IPv6
- :mod:`router.classify._names`: the word lists
"""

from __future__ import annotations

import base64
import re
from bisect import bisect_left, bisect_right

from router.classify import _names as N
from router.classify._pii_checks import _code
from router.classify._pii_net import _emails, _ipv6
from router.classify._pii_numbers import _numbers
from router.classify._pii_people import _named, _person, _script_addresses
from router.classify._pii_secrets import (
    _assignments,
    _command_lines,
    _dashes,
    _key_at,
    _prose,
)
from router.classify._pii_shape import _Out, _shape

Finding = tuple[str, int, int, float, str]

# --- the scanner for capital letters ------------------------------------------------------------

_L = rb"[a-z\xdf-\xf6\xf8-\xff']"
_LX = rb"[a-z\xdf-\xf6\xf8-\xff'\-A]{0,40}"  # bounded: no quadratic scans of long runs
_PART = "|".join(sorted(N.PARTICLES | {"d", "l"}, key=len)[::-1]).encode()  # van, bin, d'
_ENDS: dict[int, set[bytes]] = {}  # cue endings (up to 3 bytes, then " A" and one more), by width
for _c in N.STRONG_CUES | N.WEAK_CUES:
    if _c[-1] not in ",:":
        _e = _shape(_c[1:] if _c[:2] in ("i ", "i'") else _c)[-3:]
        _ENDS.setdefault(len(_e) + 3, set()).add(re.escape(_e))
_CUE_LB = b"|".join(b"(?<=(?:" + b"|".join(sorted(v)) + b") A.)" for v in _ENDS.values())
del _c, _e
_S_CAP = re.compile(  # a decision tree on the byte after the capital keeps failures cheap
    rb"A(?:(?P<name>" + _L + rb"(?:(?<=[a-z\xdf-\xff,:][ ]A.)(?:(?<=[,:] A.)|" + _CUE_LB
    + rb")|" + _LX + rb"[ ](?=A|(?:" + _PART + rb")[ '\-](?:A|(?:" + _PART + rb")[ ]A))"
    rb"|[a-z]{0,2}\.[ ](?=A))"
    rb"|\.[ ](?=A))|A(?:(?P<key>AA(?:[A0]{16}|[-a-zA0]{60})|za[-a-zA0]{35}|\.[-a-zA0]{22}\."
    rb"|[0a-f]{32})|(?P<code>[ ]?0))|(?P<code1>0))"
)  # fmt: skip
_RW = rb"A(?:[a-z]{0,3}\.|" + _L + _LX + rb")"  # a capitalised word or an abbreviation (Mr.)
_S_RUN = re.compile(_RW + rb"(?:[ ](?:(?:" + _PART + rb")[ '\-]){0,2}" + _RW + rb")*")
_BEARER = re.compile(r"Bearer[ \t]+([\w\-.~+/]{12,}=*)")
_BASIC = re.compile(r"Basic[ \t]+([A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
_S_AUTH = re.compile(rb"A(?:earer|asic) ")


def _capitals(text: str, shape: bytes, out: _Out) -> None:
    """What starts at a capital letter (names, API keys, IBANs, NINOs, UK postcodes), then JWTs
    and bearer tokens."""
    done = 0
    for m in _S_CAP.finditer(shape):
        kind, p = m.lastgroup, m.start()
        if kind == "name" and p >= done:
            done = _S_RUN.match(shape, p).end()  # type: ignore[union-attr]
            _person(text, shape, p, done, out)
        elif kind == "key":  # AKIA, AIza, SG., SK + hex, EAAA; else perhaps a code (IBAN)
            if not _key_at(text, range(p, p + 1), out) and shape[p + 2] in b"0 ":
                _code(text, p, out)
        elif kind in ("code", "code1"):
            _code(text, p, out)
    p = shape.find(b"eyA")
    while p >= 0:  # JSON Web Tokens: the base64 of '{"' is "eyJ"
        p = shape.find(b"eyA", max(_key_at(text, range(p, p + 1), out), p + 3))
    for m in _S_AUTH.finditer(shape):  # HTTP authorisation: Bearer <token>, Basic <base64>
        p = m.start()
        if shape[p + 1] == 101:  # "Bearer": a token has a digit, or mixes cases at length
            if (b := _BEARER.match(text, p)) and _random_looking(b.group(1)):
                out.append((b.start(1), b.end(1), "secret", 0.9, "bearer"))
        elif (b := _BASIC.match(text, p)) and _user_and_password(b.group(1)):
            out.append((b.start(1), b.end(1), "secret", 0.9, "basic_auth"))


def _random_looking(token: str) -> bool:
    return any(map(str.isdigit, token)) or (
        len(token) >= 20 and not token.islower() and not token.isupper()
    )


def _user_and_password(b64: str) -> bool:
    """Whether ``b64`` is base64 of ``user:password``, as HTTP Basic authorisation sends."""
    try:
        pair = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return False
    return pair.find(":") > 0 and pair.isprintable()


# Characters folded before scanning, one for one so that spans still index the original:
# Unicode spaces (no-break, thin, ideographic ...) to " ", dashes and minus signs to "-",
# full-width forms (a Japanese or Chinese keyboard's digits, "＠") to their ASCII twins.
_FOLD = {c: " " for c in range(0x80, 0x3001) if chr(c).isspace()}
_FOLD.update({c: "-" for c in (*range(0x2010, 0x2016), 0x2212, 0xFE63)})
_FOLD.update({c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
_FOLD[0xFE6B] = "@"  # the small commercial at, another look-alike of "@"
# Unicode tag characters mirror ASCII invisibly; text smuggled in them is still read by
# a model's tokenizer, so they read as the ASCII they mirror.
_FOLD.update({c: chr(c - 0xE0000) for c in range(0xE0020, 0xE007F)})
# Decimal digits of other scripts (Arabic-Indic, Persian, Devanagari, Bengali, Thai ...)
# are the numbers their readers write: ٤١١١ is 4111. So are the styled digits of text
# pasted from social media (mathematical bold, monospace ...: 𝟒𝟏𝟏𝟏 is 4111).
_FOLD.update({c: str(int(chr(c))) for c in range(0x660, 0x20000) if chr(c).isdecimal()})
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")
# Invisible characters that copy and paste leaves in text: the soft hyphen, zero-width
# space and joiners, word joiner, BOM, and the bidirectional marks and isolates that text
# copied from a right-to-left interface carries around or inside values. A reader does
# not see them, so neither does the scan: it reads the text without them and reports each
# value on its span in the original (invisible characters inside it included).
_INVISIBLE_CODES = (0x00AD, 0x061C, *range(0x200B, 0x2010), 0x2060, 0xFEFF)
_INVISIBLE_CODES += (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x180E, 0xE0001, 0xE007F)
_INVISIBLE_CODES += (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))  # variation selectors
DASHES = "".join(sorted(chr(c) for c in _FOLD if _FOLD[c] == "-"))
"""The characters read as a hyphen (Unicode dashes and minus signs): redaction accepts them
between the digits of a number, as the scan does."""
INVISIBLE = "".join(map(chr, _INVISIBLE_CODES))
"""The characters the scan reads as absent: redaction accepts any number of them anywhere
in a number, as the scan does."""
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


def _without_invisible(text: str) -> list[Finding]:
    """:func:`find_pii` on ``text`` read without its invisible characters, each finding
    mapped back to its span in ``text`` (invisible characters inside it included)."""
    # The i-th invisible character sits before position ``r - i`` of the visible text, so
    # a visible position ``p`` is ``p + bisect_right(shifts, p)`` in ``text``.
    shifts = [m.start() - i for i, m in enumerate(_INVISIBLE.finditer(text))]
    found = find_pii(_INVISIBLE.sub("", text))
    return [
        (c, s + bisect_right(shifts, s), e + bisect_right(shifts, e - 1), conf, det)
        for c, s, e, conf, det in found
    ]


def find_pii(text: str) -> list[Finding]:
    """(data_class, start, end, confidence, detector_name) for each finding, sorted by start;
    spans of one class do not overlap (a secret wins, then the more confident, then the longer
    one); a finding overlapped only by findings of other classes is kept as well."""
    if not text:
        return []
    if not text.isascii():
        if _INVISIBLE.search(text):
            return _without_invisible(text)
        if _FOLDABLE.search(text):
            text = text.translate(_FOLD)
    found: _Out = []
    shape = _shape(text)
    if 48 in shape:
        _numbers(text, shape, found)
    _capitals(text, shape, found)
    _named(text, shape, found)
    if not text.isascii():
        _script_addresses(text, found)
    if 45 in shape:
        _dashes(text, shape, found)
    if "@" in text:
        _emails(text, found)
    _prose(text, shape, found)
    if 58 in shape:  # ":" or "="
        _assignments(text, shape, found)
        if 45 in shape and "curl" in text:  # curl -u user:password
            _command_lines(text, found)
        if "::" in text or text.count(":") >= 7:
            _ipv6(text, shape, found)
    # Where findings overlap one is kept: a secret first (a token in a URL's user part is
    # also an e-mail address, a quoted password may look like a name), then the surest.
    found.sort(key=lambda f: (f[2] != "secret", -f[3], f[0] - f[1], f[0]))
    kept, lost = _greedy(found)
    if lost:
        # ... but never at the cost of a class: "12 Main Street, John Smith" read as one
        # address must still report the person, or a policy that keeps persons local and
        # lets addresses go would send the name. A finding that lost only to findings of
        # other classes is kept as well (findings of one class still never overlap).
        ends = [f[1] for f in kept]
        starts = [f[0] for f in kept]
        orphans: dict[str, _Out] = {}
        for f in lost:
            lo, hi = bisect_right(ends, f[0]), bisect_left(starts, f[1])
            if all(k[2] != f[2] for k in kept[lo:hi]):
                orphans.setdefault(f[2], []).append(f)
        if orphans:
            for same in orphans.values():
                kept += _greedy(same)[0]
            kept.sort(key=lambda f: (f[0], f[1]))
    return [(c, s, e, conf, det) for s, e, c, conf, det in kept]


def _greedy(found: _Out) -> tuple[_Out, _Out]:
    """The findings of ``found`` (best first) that overlap no better one, sorted by start,
    and the others."""
    starts: list[int] = []
    kept: _Out = []
    lost: _Out = []
    for f in found:
        i = bisect_right(starts, f[0])
        if (i and kept[i - 1][1] > f[0]) or (i < len(kept) and kept[i][0] < f[1]):
            lost.append(f)
            continue
        starts.insert(i, f[0])
        kept.insert(i, f)
    return kept, lost
