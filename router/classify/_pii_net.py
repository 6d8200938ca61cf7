"""E-mail addresses, credentials in URLs and IPv6 addresses, for :mod:`router.classify.pii`.

An e-mail address is found from each ``@``: the local part is read backwards, then the whole
address matched forwards. ``user:password@host`` credentials are found from each ``://`` the
same way. IPv6 addresses are found around ``:x:`` in the shape and checked with
:mod:`ipaddress`.
"""

from __future__ import annotations

import ipaddress
import re

from router.classify._pii_shape import _Out, _placeholder

_S_V6 = re.compile(rb":[0a-fA]{0,4}:")
# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Hangul, kana, CJK
# ideographs and punctuation, half-width forms): an address glued to such text, as in
# "メールはmisaki@docomo.ne.jpです", ends where they start, or redaction masks the sentence.
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fff\u3000-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
# Domain labels of letters (any script: info@müller-bäckerei.de), digits and inner hyphens.
_EMAIL_ASCII = re.compile(
    r"[\w.%+\-][\w.%+\-']{0,63}@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)"
    r"{1,8}[^\W\d_]{2,24}(?![\w\-])"
)
_LOCAL_REV_ASCII = re.compile(r"[\w.%+\-']{1,65}")  # an e-mail's local part, read backwards
_CRED_URL_ASCII = re.compile(
    r"[A-Za-z][\w+.\-]{1,20}://[^\s/:@'\"<>]{0,128}:[^\s/@'\"<>]{1,128}@[\w.\-]{1,253}(?::\d{1,5})?"
)
# The same for text that is not ASCII, without the unspaced scripts (slower: alternations).
_W = "(?:[^\\W" + _UNSPACED + "]"  # the start of a group: a word character, then others
_AN = "[^\\W_" + _UNSPACED + "]"  # a letter or digit
_EMAIL = re.compile(
    _W + "|[.%+\\-])" + _W + "|[.%+\\-']){0,63}@(?:" + _AN + "(?:(?:" + _AN + "|-){0,61}" + _AN
    + ")?\\.){1,8}[^\\W\\d_" + _UNSPACED + "]{2,24}(?!" + _W + "|-))"
)  # fmt: skip
_LOCAL_REV = re.compile(_W + "|[.%+\\-']){1,65}")
_CRED_URL = re.compile(
    _CRED_URL_ASCII.pattern.replace("@[\\w.\\-]{1,253}", "@" + _W + "|[.\\-]){1,253}")
)
_SCHEME_REV = re.compile(r"[\w+.\-]{0,20}[A-Za-z]")
_V6TOK = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]{2,45}(?![\w:])")


def _emails(text: str, out: _Out) -> None:
    if text.isascii():
        email, local_rev, cred_url = _EMAIL_ASCII, _LOCAL_REV_ASCII, _CRED_URL_ASCII
    else:
        email, local_rev, cred_url = _EMAIL, _LOCAL_REV, _CRED_URL
    # Credentials in URLs first: the "@" of https://user:password@host is not an e-mail
    # address's ("password@host" is not one), whether or not the pair is a placeholder.
    cred_at: set[int] = set()
    p = text.find("://")
    while p >= 0:
        back = _SCHEME_REV.match(text[max(0, p - 21) : p][::-1])
        if back and (m := cred_url.match(text, p - back.end())):
            user, _, rest = text[p + 3 : m.end()].partition(":")
            at = rest.rfind("@")
            cred_at.add(m.end() - len(rest) + at)
            if not _placeholder(user, rest[:at]):  # not https://USER:PASSWORD@HOST
                out.append((m.start(), m.end(), "secret", 0.95, "url_credentials"))
        p = text.find("://", p + 3)
    at = text.find("@")
    while at >= 0:  # read the local part backwards from each "@", then match forwards
        # (an "@" at the very start, as in "@channel ...", has no local part: skip it, but
        # not the addresses after it)
        back, nxt = local_rev.match(text[max(0, at - 65) : at][::-1]), at + 1
        local = back[0].rstrip("'") if back else ""  # not the quote in 'bob@example.org'
        m = email.match(text, at - len(local)) if local and len(back[0]) <= 64 else None
        if m and m.end() > at and at not in cred_at:
            out.append((m.start(), m.end(), "email", 0.95, "email"))
            nxt = m.end()
        at = text.find("@", nxt)


def _ipv6(text: str, shape: bytes, out: _Out) -> None:
    n, done = len(text), 0
    for m in _S_V6.finditer(shape):
        if (p := m.start()) < done:
            continue
        for t in _V6TOK.finditer(text, max(0, p - 40), min(n, p + 48)):
            if t.end() <= p:
                continue
            tok, done = t.group().rstrip("."), t.end() if t.start() <= p else p + 1
            if t.start() <= p and sum(1 for g in tok.split(":") if g) >= 2:
                try:
                    if "::" in tok or tok.count(":") == 7:
                        ipaddress.IPv6Address(tok)
                        out.append((t.start(), t.start() + len(tok), "ip_address", 0.9, "ipv6"))
                except ValueError:
                    pass
            break
        else:
            done = p + 48  # no token around here at all (a long run of colons): skip it
