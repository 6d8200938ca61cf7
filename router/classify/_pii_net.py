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
# ideographs and punctuation, half-width forms). Their letters may be an address's own
# (田中@example.jp, jane@例え.jp: internationalised local parts and domains), but the text
# around an address is glued to it too, as in "メールはmisaki@docomo.ne.jpです": a leading
# run of them directly followed by an ASCII letter or digit is not part of the local part,
# and an ASCII top-level domain ends where they start.
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
# The same for text that is not ASCII: an ASCII top-level domain may end where an unspaced
# script starts (jane@例え.jpです); one in any script ends where the letters do (例子.中国).
_EMAIL = re.compile(
    _EMAIL_ASCII.pattern.replace(
        r"[^\W\d_]{2,24}(?![\w\-])",
        r"(?:[A-Za-z]{2,24}(?=[" + _UNSPACED + r"])|[^\W\d_]{2,24}(?![\w\-]))",
    )
)
_LOCAL_REV_SPACED = re.compile("(?:[^\\W" + _UNSPACED + "]|[.%+\\-']){1,65}")
_AT = re.compile(r"(?<=[\w.%+\-'])@")  # an "@" after what may end a local part
_UNSPACED_RUN = re.compile("[" + _UNSPACED + "]+")
_GLUED_TLD = re.compile(r"\.[A-Za-z]{2,24}(?=[" + _UNSPACED + "])")
_SCHEME_REV = re.compile(r"[\w+.\-]{0,20}[A-Za-z]")
_V6TOK = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]{2,45}(?![\w:])")


def _emails(text: str, out: _Out) -> None:
    ascii_ = text.isascii()
    email = _EMAIL_ASCII if ascii_ else _EMAIL
    # Credentials in URLs first: the "@" of https://user:password@host is not an e-mail
    # address's ("password@host" is not one), whether or not the pair is a placeholder.
    cred_at: set[int] = set()
    p = text.find("://")
    while p >= 0:
        back = _SCHEME_REV.match(text[max(0, p - 21) : p][::-1])
        if back and (m := _CRED_URL_ASCII.match(text, p - back.end())):
            user, _, rest = text[p + 3 : m.end()].partition(":")
            at = rest.rfind("@")
            cred_at.add(m.end() - len(rest) + at)
            end = m.end()
            if not ascii_ and (g := _GLUED_TLD.search(text, m.end() - len(rest) + at, end)):
                end = g.end()  # 连接postgres://app:pw@db.example.com失败
            if not _placeholder(user, rest[:at]):  # not https://USER:PASSWORD@HOST
                out.append((m.start(), end, "secret", 0.95, "url_credentials"))
        p = text.find("://", p + 3)
    a = _AT.search(text)
    while a is not None:  # read the local part backwards from each "@", then match forwards
        # (an "@" with no local part, as in "@channel ...", is skipped at C speed, but not
        # the addresses after it)
        at = nxt = a.start()
        nxt += 1
        if at not in cred_at and (n := _local_part(text, at, ascii_)):
            m = email.match(text, at - n)
            if m and m.end() > at:
                out.append((m.start(), m.end(), "email", 0.95, "email"))
                nxt = m.end()
        a = _AT.search(text, nxt)


def _local_part(text: str, at: int, ascii_: bool) -> int:
    """The length of the local part of an e-mail address whose "@" is at ``at`` (or 0).

    In text that is not ASCII, an unspaced script's letters belong to it (田中@, 山田.taro@)
    unless they lead it and an ASCII letter or digit follows them (メールはmisaki@): then
    they are the sentence the address is glued to."""
    window = text[max(0, at - 65) : at][::-1]
    back = _LOCAL_REV_ASCII.match(window)
    if not back:
        return 0
    n = len(back[0].rstrip("'"))  # not the quote in 'bob@example.org'
    if ascii_:
        return n if len(back[0]) <= 64 else 0
    spaced = _LOCAL_REV_SPACED.match(window)
    k = len(spaced[0].rstrip("'")) if spaced else 0  # the part after the last unspaced letter
    if k < n and k and text[at - k].isascii() and text[at - k].isalnum():
        lead = text[at - n : at - k]  # a run of unspaced letters before it, alone: the sentence
        if len(back[0]) > 64 or _UNSPACED_RUN.fullmatch(lead):
            return k if k <= 64 else 0
    if len(back[0]) > 64:  # 田中@ after a long unspaced run: its last letters, at most
        return 64
    return n


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
