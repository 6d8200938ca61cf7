"""Formats and check digits of identifiers, for :mod:`router.classify.pii`.

The precise patterns and validators that decide what a candidate really is: Luhn and issuer
prefixes for cards, ISO 13616 lengths and mod-97 for IBANs, SSA rules for SSNs, the check key of
French NIRs, the check letter of Spanish DNIs, the UK National Insurance number and postcode
formats, octet ranges for IPv4 and phone number formats. :func:`_classify` says what a run of
digits is; :func:`_code` finds an IBAN, a NINO or a UK postcode at a capital letter.
"""

from __future__ import annotations

import re

from router.classify import _names as N
from router.classify._pii_shape import _Hit, _Out

_IBAN = {  # per length: two letters, two check digits, the rest in groups (space or dash)
    n: re.compile(r"[A-Z]{2}\d\d(?:[ \-]?[A-Z0-9]){%d}(?![A-Za-z0-9])" % (n - 4))  # noqa: UP031
    for n in set(N.IBAN_LENGTHS.values())
}
_IBAN_ANY_CASE = {n: re.compile(p.pattern, re.IGNORECASE) for n, p in _IBAN.items()}
_IBAN_DIGITS = {c: str(c - 55) for c in range(65, 91)}  # A=10 ... Z=35, for mod-97
_NINO = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d\d ?\d\d ?\d\d ?[A-D](?!\w)"
)
_UKPC = r"[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNPR-Y\d]? \d[ABD-HJLNP-UW-Z]{2}"
_UKPC_RE = re.compile(_UKPC + r"(?!\w)")
_UK_NW = r"[A-Z][\w'’&\-]*"  # a capitalised word of a UK place or building name
# A UK business address with no street number: maybe a unit or suite, a named park, estate,
# house or centre, one to three towns, then the postcode: Unit 4, Riverside Business Park, Bristol.
_UK_PREMISES = re.compile(
    r"(?<![\w\-])(?:(?:Unit|Units|Suite|Building|Block|Office|Studio|Floor)[ \t]+[\w\-/]{1,5}"
    r",?[ \t]+)?"
    r"(?:" + _UK_NW + r"[ \t]+){1,4}(?:Park|Estate|House|Centre|Center|Court|Works|Yard|Mill|Wharf"
    r"|Quay|Plaza|Tower|Chambers|Buildings|Exchange|Campus|Business Village)"
    r"(?:,[ \t]*" + _UK_NW + r"(?:[ \t]+" + _UK_NW + r"){0,2}){1,3},?[ \t]+\Z"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IP4 = re.compile("((?:" + _OCTET + r"\.){3}" + _OCTET + r")(?:/\d{1,2})?")
_NOT_IP4 = ("127.", "0.0.0.0", "255.255.255.255")  # loopback, "any", broadcast: nobody's
_DATE_NUM = re.compile(
    r"(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|[12]\d|3[01])\2(?:\d{4}|\d\d)"
)
_NIR = re.compile(r"[12] ?\d\d ?\d\d ?\d\d ?\d{3} ?\d{3} ?\d\d")
_DNI = "TRWAGMYFPDXBNJZSQVHLCKE"
_SSN_DASH, _SSN_LOOSE = re.compile(r"\d{3}-\d\d-\d{4}"), re.compile(r"\d{3} \d\d \d{4}|\d{9}")
_CARD = re.compile(
    r"\d{13,19}|\d{4}(?:([ .\-])\d{4}){2,3}(?:\1\d{1,4})?|\d{4}([ \-])\d{6}\2\d{4,5}"
)
_PHONE_INTL = re.compile(  # +44 20 7946 0958, +1 (555) 123-4567, 0049 30 1234567
    r"(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\((?:0|\d{1,4})\))?(?:[ .\-/]?\d{1,6}){1,6}"
)
_PHONE_FMT = re.compile("|".join(N.PHONE_FORMATS))
_PHONE_NANP = re.compile(N.PHONE_FORMATS[0])  # a layout no reference number takes
_PHONE_ANY = re.compile(r"\(?\d{2,5}\)?(?:[ .\-/]?\d{2,5}){1,5}|\d{7,15}")
_NONDIGIT = re.compile(r"\D+")
_NONALNUM = re.compile(r"[^A-Z0-9]+")
_DATE: _Hit = ("date", 0.0, "")  # a plain date: not personal data, and not a phone number either


def _luhn(d: str) -> bool:
    odd = sum((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)[int(c)] for c in d[-2::-2])
    return (sum(map(int, d[-1::-2])) + odd) % 10 == 0


def _card_ok(d: str) -> bool:
    return _luhn(d) and any(
        lo <= int(d[: len(str(lo))]) <= hi and len(d) in sizes for lo, hi, sizes in N.CARD_ISSUERS
    )


def _ssn_ok(d: str) -> bool:
    return d[:3] not in ("000", "666") and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


def _nir_ok(d: str) -> bool:
    return 97 - int(d[:13]) % 97 == int(d[13:])


def _iban_ok(s: str) -> bool:
    return int((s[4:] + s[:4]).translate(_IBAN_DIGITS)) % 97 == 1


def _classify(s: str, nd: int, ctx: str) -> _Hit | None:
    """What a run of ``nd`` digits and separators is: an identifier, a date or nothing.
    ``ctx`` holds flags from the words before it: p(hone), s(sn), m(oney), r(eference)."""
    if nd <= 14 and s.count(".") == 3 and (m := _IP4.fullmatch(s)):
        return None if m.group(1).startswith(_NOT_IP4) else ("ip_address", 0.9, "ipv4")
    if len(s) <= 10 and _DATE_NUM.fullmatch(s):
        return _DATE
    if nd == 9 and _ssn_ok(_NONDIGIT.sub("", s)):
        if _SSN_DASH.fullmatch(s):
            return ("ssn", 0.95 if "s" in ctx else 0.9, "ssn")
        if "s" in ctx and _SSN_LOOSE.fullmatch(s):
            return ("ssn", 0.85, "ssn")
    if nd == 15 and _NIR.fullmatch(s) and _nir_ok(_NONDIGIT.sub("", s)):
        return ("ssn", 0.9, "fr_nir")  # French social security number with its check key
    if "m" in ctx or nd < 7:
        return None
    if 13 <= nd <= 19 and _CARD.fullmatch(s) and _card_ok(_NONDIGIT.sub("", s)):
        return ("credit_card", 0.95, "luhn")
    if nd > 15:
        return None
    if "r" in ctx and "p" not in ctx and s[0] != "+":  # "order number 0012 3456": a
        # reference, not a phone; a "+" number or 555-123-4567 is a layout no reference takes
        return ("phone", 0.8, "phone") if _PHONE_NANP.fullmatch(s) else None
    if s[0] == "+" or s[:2] == "00":  # international: + or 00, country code, groups
        ok = nd >= 8 and s[-2].isdigit() and _PHONE_INTL.fullmatch(s)  # not +35236450.6
        return ("phone", 0.9, "phone") if ok else None
    if _PHONE_FMT.fullmatch(s):
        return ("phone", 0.9 if "p" in ctx else 0.8, "phone")
    return ("phone", 0.85, "phone") if "p" in ctx and _PHONE_ANY.fullmatch(s) else None


def _code(text: str, p: int, out: _Out) -> None:
    """An IBAN, a UK National Insurance number or a UK postcode starting at ``p``."""
    if p and text[p - 1].isalnum():
        return
    size = N.IBAN_LENGTHS.get(text[p : p + 2], 0)
    if size and (m := _IBAN[size].match(text, p)) and _iban_ok(_NONALNUM.sub("", m.group())):
        out.append((p, m.end(), "iban", 0.95, "iban"))
        return
    if m := _NINO.match(text, p):
        out.append((p, m.end(), "ssn", 0.85, "nino"))
    elif m := _UKPC_RE.match(text, p):
        if p > 8 and (b := _UK_PREMISES.search(text, max(0, p - 120), p)):
            out.append((b.start(), m.end(), "address", 0.85, "address"))
        else:
            out.append((p, m.end(), "address", 0.6, "postcode"))


def _iban_any_case(text: str, p: int, out: _Out) -> int:
    """An IBAN typed in lower (or mixed) case starting at ``p`` ("de44 5001 ..."), which the
    capital-letter scanner cannot see; returns where it ends (or 0). Mod-97 still decides."""
    size = N.IBAN_LENGTHS.get(text[p : p + 2].upper(), 0)
    m = _IBAN_ANY_CASE[size].match(text, p) if size else None
    if m and _iban_ok(_NONALNUM.sub("", m.group().upper())):
        out.append((p, m.end(), "iban", 0.9, "iban"))
        return m.end()
    return 0
