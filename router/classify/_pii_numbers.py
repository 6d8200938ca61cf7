"""Runs of digits: identifiers, addresses and dates of birth, for :mod:`router.classify.pii`.

:func:`_numbers` looks at each run of digits in the shape and the few words before it (``tel``,
``born``, ``version``, ``$``): a date after a birth word becomes a date of birth, a short number
next to street words a postal address (see :mod:`router.classify._pii_people`), and a long one a
phone, card, SSN, IPv4 or Spanish DNI number (see :func:`router.classify._pii_checks._classify`).
"""

from __future__ import annotations

import re

from router.classify import _names as N
from router.classify._pii_checks import _DATE, _DNI, _UKPC, _classify, _iban_any_case
from router.classify._pii_people import _FWD_NEXT, _NW, _address, _person
from router.classify._pii_secrets import _key_prose
from router.classify._pii_shape import _LETTER, _alt, _Out, _vary

_MON = "(?:" + _alt(N.MONTHS) + r")\.?"
_DAY = r"[0-3]?\d(?:st|nd|rd|th|er|\.|º)?[ \t]+(?:of[ \t]+|de[ \t]+)?" + _MON
_DATE_AT = re.compile(  # a date starting at a given position: day first, month first, numeric
    "(?i)(?:" + _DAY + r",?[ \t]+(?:de[ \t]+)?\d{4}|" + _MON + r"[ \t]+[0-3]?\d(?:st|nd|rd|th)?,?"
    r"[ \t]+\d{4}|(?:19|20)\d\d([-/.])[01]?\d\1[0-3]?\d|[0-3]?\d([-/.])[0-3]?\d\2(?:\d{4}|\d\d)|"
    + _DAY + "|" + _MON + r"[ \t]+(?:(?:18|19|20)\d\d|[0-3]?\d(?:st|nd|rd|th)?)"
    r"|(?:18|19|20)\d\d)(?!\d)"
)  # fmt: skip
_CJK_DATE = re.compile(  # 1985年4月12日, 1985년 4월 12일 (a year, a month, maybe a day)
    r"(?:18|19|20)\d\d[ \t]?[年년][ \t]?(?:1[0-2]|0?[1-9])[ \t]?[月월]"
    r"(?:[ \t]?(?:3[01]|[12]\d|0?[1-9])[ \t]?[日일])?"
)
_YEAR_MARKS = frozenset("年년")
_KEY_PUNCT = "\"'`:=,;({["
_SQL_INSERT = re.compile(  # INSERT INTO t (a, b, birth_date) VALUES
    r"(?i)\binsert[ \t\n]+into[ \t\n]+[\w.\"`\[\]]{1,128}[ \t\n]*\(([^()]{1,2000})\)"
    r"[ \t\n]*values[ \t\n]*"
)
_ROW_GAP = re.compile(r"[ \t\n]*,[ \t\n]*")  # between the rows of a VALUES list
_SQL_VALUE = re.compile(r"[ \t\n]*(?:'((?:[^'\n]|''){0,200})'|[^,()'\n]{0,200}?)[ \t\n]*([,)])")
_S_NUM = re.compile(rb"0[0)]*(?:[ .\-/][(]?0[0)]*)*")
_UNIT = (  # a flat, floor or unit word before its number: Apt 3B, apto 42, Flat 2, Suite 100
    r"(?i:apartment|apt|apto|appt|app|unit|suite|ste|flat|floor|fl|piso|planta|bloco|bloque"
    r"|bldg|building|room|rm|dpto|depto|wohnung|whg|etage|stock|andar|sala|lot)\.?"
)
_PART = (  # a short part between a street and its town: unit, floor (3º B), district
    "(?:" + _UNIT + r"[ \t]*(?:[Nn]o\.?[ \t]*)?#?[\w\-/]{1,6}|#[ \t]?[\w\-]{1,6}"
    r"|\d{1,4}[A-Za-z]?(?:[ \t]?[º°ª])?(?:[ \t]?[A-Z](?!\w))?"
    "|" + _NW + r"(?:[ \t]+" + _NW + "){0,3})"
)  # fmt: skip
_TOWN = _NW + r"(?:[ \t]+" + _NW + "){0,2}"  # São Paulo, New Delhi, Milton Keynes
_ADDR_TAIL = re.compile(  # what follows a street on its line, up to the postcode and town:
    # ", 10115 Berlin", ", London NW1 6XE", ", Apt 3B, Columbus, OH 43215", ", 3º B, 28028 Madrid",
    # ", Montréal, QC H3B 1K7", ", apto 42, São Paulo - SP, 01304-001", ", New Delhi 110016",
    # or, with no postcode, a district and a town where the sentence ends: ", Victoria Island,
    # Lagos." (no more: ", Springfield, Boston, Chicago, Denver, and Austin." is a list)
    r"(?:,[ \t]*" + _PART + r"){0,3}(?:,?[ \t]+(?:"
    r"(?:[1-9]\d{3} ?[A-Z]{2}|\d{4,5}(?:-\d{3,4})?|\d\d-\d{3}|\d{3} \d\d)[ \t]+" + _TOWN
    + "|" + _TOWN + r",?[ \t]+(?:[A-Z]{2}[ \t]+(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)|"
    + _UKPC + ")"
    "|" + _TOWN + r"[ \t]*[-–/][ \t]*[A-Z]{2},?[ \t]+\d{5}-?\d{3}"
    "|" + _TOWN + r",?[ \t]+\d{6}"
    "|" + _UKPC + r")(?!\w))"
    r"|(?P<alone>(?:,[ \t]*" + _PART + r")?,[ \t]*" + _TOWN + r")"
    r"(?=[ \t]*(?:[.;!?)\n]|,[ \t]+[a-z]|\Z))"
)  # fmt: skip
_TAIL_PART = re.compile(r",[ \t]*(" + _NW + r"(?:[ \t]+" + _NW + r")*)")
_BR_TOWN_STATE = re.compile(_TOWN + r"[ \t]*[-–/][ \t]*([A-Z]{2}),?[ \t]*\Z")  # São Paulo - SP,
_JP_ADDRESS = re.compile(  # after 〒: the postcode, then the address in CJK, kana and digits
    r"\d{3}-\d{4}(?:[ \t]?[\u3005\u3040-\u30ff\u4e00-\u9fff\d\-ー－]{1,60}"
    r"(?:[ \t][\u3040-\u30ff\u4e00-\u9fff][\u3040-\u30ff\u4e00-\u9fff\w\-ー－]{0,30})?)?"
)
_NONSPACE = re.compile(r"\S+")
_DOTTED = re.compile(r"[\d.]+")  # 1.2.3.4: a version after a version word
_NETWORK_CUE = re.compile(  # the first letters first: re tries the alternation less often
    r"(?<![a-z])(?=["
    + "".join(sorted({w[0] for w in (*N.NETWORK_CUES, *N.NETWORK_WORDS)}))
    + r"])(?:"
    + "|".join(N.NETWORK_CUES)
    + "|(?:"
    + "|".join(N.NETWORK_WORDS)
    + r")(?![a-z]))"
)
_DOTTED_NUMBER = r"v?\d{1,5}(?:\.\d{1,5}){2,}"  # 2.4.10.1, v1.2.3
_QUAD_VERSION_AFTER = re.compile(  # a version word right after a dotted quad:
    # "2.4.12.0 release notes", "4.2.0.1 older than 4.10.0.0", "from 2.4.10.1 to 2.4.12.0"
    r"(?i)[ \t]*(?:release[ \t]+notes|changelog|(?:is[ \t]+)?(?:newer|older|later|earlier|greater"
    r"|higher|lower|less)[ \t]+than[ \t]+" + _DOTTED_NUMBER + r"|(?P<to>to[ \t]+"
    + _DOTTED_NUMBER + "))"
)  # fmt: skip
_DOTTED_WORD = re.compile(_DOTTED_NUMBER + r"\Z")
_QUAD_WORDS = _vary(frozenset(N.QUAD_VERSION_WORDS))
_COPULAS = frozenset(("is", "was", "number", "no.", "no", ":", "=", "#", "-"))
_TO_VERBS = ("upgrad", "downgrad", "updat", "revert", "pin")
_COMPARED = frozenset("newer older later earlier greater higher lower less above below".split())
_ANOTHER_VERSION = re.compile(r"(?<![\w.])" + _DOTTED_NUMBER + r"(?![\w.]|\.\d)")
_BIRTH, _PHONE, _SSN = _vary(N.BIRTH_WORDS), _vary(N.PHONE_WORDS), _vary(N.SSN_WORDS)
_VERSION, _MONEY = _vary(N.VERSION_WORDS), _vary(N.CURRENCY_WORDS)
_IP_WORDS = _vary(N.IP_WORDS)
_CJK = N.PHONE_CUES_CJK
_NUMBER, _REFERENCE = _vary(N.NUMBER_WORDS), _vary(N.REFERENCE_WORDS)
_MONTHS = _vary(N.MONTHS)
_WORD_END = _LETTER | {46}  # a number right after a word: "born 1990", "Tel. 0301", "DOB: 1990"
_ALNUM_BYTES = {bytes([c]) for c in (*_LETTER, 48)}
_AZ = frozenset((65, *range(97, 123)))  # an ASCII letter in the shape
_KEYISH = _AZ  # a digit glued to a letter: perhaps part of a key
_KEYISH_BYTES = {bytes([c]) for c in _KEYISH}
_WORDISH = _LETTER | {48}  # a letter or a digit in the shape
_DOT_WORD = frozenset(bytes([46, c]) for c in _LETTER)  # ".in-addr.arpa", ".example"


def _before(text: str, i: int) -> list[str]:
    """The last four words before ``i``, lower-cased (compared with :func:`_vary` sets); an
    opening bracket is not part of a word: "(DOB 1961-11-30)"."""
    return text[max(0, i - 40) : i].lower().replace("(", " ").split()[-4:]


def _identifiers(text: str, shape: bytes, cs: int, ce: int, words: list[str], out: _Out) -> int:
    """Phone, card, SSN and IPv4 numbers in the digit run ``cs:ce``; returns where they end."""
    n = len(text)
    dni = (
        ce - cs == 8
        and ce < n
        and shape[ce] == 65
        and shape[ce + 1 : ce + 2] not in _ALNUM_BYTES
        and shape.count(48, cs, ce) == 8  # digits only: "555-1234X" is not a DNI
    )
    if dni and not (cs and shape[cs - 1] in _LETTER) and text[ce] == _DNI[int(text[cs:ce]) % 23]:
        out.append((cs, ce + 1, "ssn", 0.9, "es_dni"))  # Spanish DNI: 8 digits, check letter
        return ce + 1
    a = cs - 1 if cs and text[cs - 1] in "+(" else cs
    if (a and (shape[a - 1] in _LETTER or shape[a - 1] == 48 or text[a - 1] in "#€$£¥₹/")) or (
        ce < n and (shape[ce] in _LETTER or text[ce] in "%/" or shape[ce : ce + 2] in _DOT_WORD)
    ):  # part of a word, hash, UUID, amount, path or host name: 3x, 1E+10, /0096/ ...
        return _glued(text, shape, a, ce, out)  # ... unless a card or a URL's host
    if _DOTTED.fullmatch(text, a, ce) and _version(text, a, ce, words):
        return 0  # "version 1.2.3.4", not "its IP is 1.2.3.4"
    prev = text[max(0, a - 2) : a].strip()
    ctx = "m" if (prev and prev[-1] in "$€£¥₹") or (words and words[-1] in _MONEY) else ""
    cues = _PHONE.intersection(words)
    if not _REFERENCE.isdisjoint(words[-3:]):  # "order number 4021 7789 1123": a reference
        cues -= _NUMBER
        ctx += "r"
    phone = bool(cues) or _cjk_cue(text, a)
    ctx += "p" if phone else ""
    ctx += "s" if not _SSN.isdisjoint(words) else ""
    res = _classify(text[a:ce], shape.count(48, a, ce), ctx)
    if res and res is not _DATE and res[2] != "ipv4":  # the whole run is one thing: usually so
        out.append((a, ce, *res))
        return ce
    if res:
        toks = [(a, ce)]
    elif " " not in text[a:ce]:
        return 0
    else:  # several numbers separated by spaces: try windows of up to six of them
        toks = [t.span() for t in _NONSPACE.finditer(text, a, ce)]
    width, i, last = (6 if len(toks) <= 40 else 1), 0, 0
    while i < len(toks):
        for j in range(min(len(toks), i + width), i, -1):
            s0, e0 = toks[i][0], toks[j - 1][1]
            nd = shape.count(48, s0, e0)
            if j - i > 1 and not 7 <= nd <= 19:
                continue
            if not (res := res or _classify(text[s0:e0], nd, ctx)):
                continue
            if res is not _DATE:
                if res[2] == "ipv4":  # without a /24 suffix
                    e0 = s0 + text[s0:e0].find("/") % (e0 - s0 + 1)
                out.append((s0, e0, *res))
                last = e0
            res, i = None, j
            break
        else:
            i += 1
    return last


def _version(text: str, a: int, ce: int, words: list[str]) -> bool:
    """Whether the dotted number ``a:ce`` is a version. A version word just before it and no
    IP word among the four before it is enough, except for a dotted quad, which could be an
    IPv4 address: only a version word right next to it makes it a version ("version
    10.4.2.118", "release 2.4.10.1", "upgraded to 1.8.3.2", "2.4.12.0 release notes"), or
    a comparison with another version ("4.2.0.1 older than 4.10.0.0", "newer than
    10.4.12.3" with another dotted number on its line), or "from" one to another after a
    version word ("Upgrading from 2.4.10.1 to 2.4.12.0"); and never with a network word on
    its line nearby ("connect to 10.4.2.118", "upgrade, then ping 10.0.0.5"). "After the
    upgrade, log in to 10.0.0.1" and "bump 172.16.4.20" are addresses."""
    cue = not _VERSION.isdisjoint(words[-2:]) and _IP_WORDS.isdisjoint(words)
    if text.count(".", a, ce) != 3:
        return cue
    if not _IP_WORDS.isdisjoint(words):
        return False
    w1, w2, w3, w4 = ["", "", "", "", *words][-1:-5:-1]  # the words before it, nearest first
    w1 = w1.rstrip(":=#")
    if w1 in _QUAD_WORDS or (w1 in _COPULAS and w2.rstrip(":=#") in _QUAD_WORDS):
        kind = "word"  # "version 10.4.2.118", "release: 2.4.10.1", "the version is 1.2.3.4"
    elif w1 == "to" and (
        w2.startswith(_TO_VERBS) or w3.startswith("pin") or (w2 == "back" and "roll" in w3)
    ):
        kind = "word"  # "upgraded to 1.8.3.2", "pinned foo to 1.2.3.4", "rolled back to"
    elif w1 == "than" and w2 in _COMPARED:
        kind = "than"  # "newer than 10.4.12.3"
    elif w1 == "to" and w3 == "from" and _DOTTED_WORD.match(w2) and w4.startswith(N.VERSION_CUES):
        kind = "word"  # "Upgrading from 2.4.10.1 to 2.4.12.0"
    else:
        f = _QUAD_VERSION_AFTER.match(text, ce)
        if f is None:
            return False  # the common case (an IPv4 address) is settled here
        cued = w2.startswith(N.VERSION_CUES) or w3.startswith(N.VERSION_CUES)
        if f.group("to") and not (w1 == "from" and cued):
            return False  # from this one to another, after a version word, or an address
        kind = "word"
    start = max(text.rfind("\n", max(0, a - 80), a) + 1, a - 80)
    end = min(text.find("\n", ce, ce + 48) % (len(text) + 1), ce + 48)
    line = text[start:end].lower()  # the number and its neighbours on its line
    if _NETWORK_CUE.search(line):
        return False  # "upgrade the firmware, then ping 10.0.0.5"
    if kind == "than":  # compared with another version before it on its line
        return bool(_ANOTHER_VERSION.search(line, 0, a - start))
    return True


def _cjk_cue(text: str, a: int) -> bool:
    """A Chinese, Japanese or Korean phone word just before ``a`` (a colon or spaces may
    come between): "电话13812345678", "手机号：138-1234-5678"."""
    k = a
    while k and text[k - 1] in " :\t":
        k -= 1
    return (
        bool(k) and ord(text[k - 1]) >= 0x3000 and any(w in text[max(0, k - 12) : k] for w in _CJK)
    )


def _glued(text: str, shape: bytes, a: int, ce: int, out: _Out) -> int:
    """A digit run glued to what precedes it that is still a value: a card after ``#``
    (``card#4111...``), an IPv4 address as a URL's host (``http://81.2.69.142/admin``)."""
    after = shape[ce : ce + 1]
    if after in _ALNUM_BYTES or (after == b"." and shape[ce : ce + 2] in _DOT_WORD):
        return 0
    if text[a - 1 : a] == "#" and not (a > 1 and shape[a - 2] == 48):
        res = _classify(text[a:ce], shape.count(48, a, ce), "")
        if res and res[0] == "credit_card":
            out.append((a, ce, *res))
            return ce
    elif text[max(0, a - 3) : a] == "://":
        res = _classify(text[a:ce], shape.count(48, a, ce), "")
        if res and res[0] == "ip_address":
            out.append((a, ce, *res))
            return ce
    return 0


def _birth_key(words: list[str]) -> bool:
    """Whether one of the last words is a birth date's key in code or data: ``birth_date:``,
    ``"dateOfBirth": "``, ``dob=``, ``customer_dob = '``."""
    for w in words[-3:]:
        k = w.strip(_KEY_PUNCT).replace("_", "").replace("-", "")
        if k.endswith(N.BIRTH_KEYS):
            return True
    return False


def _cjk_dob(text: str, cs: int, out: _Out) -> int:
    """A date written 1985年4月12日 after a birth word (生年月日, 出生日期, 생년월일) or before
    one (生まれ, 생); returns where it ends (or 0)."""
    if not (m := _CJK_DATE.match(text, cs)):
        return 0
    k = cs
    while k and text[k - 1] in " :\t":
        k -= 1
    before = text[max(0, k - 6) : k]
    if any(w in before for w in N.BIRTH_CUES_CJK) or text.startswith(N.BORN_AFTER_CJK, m.end()):
        out.append((cs, m.end(), "date_of_birth", 0.9, "dob"))
        return m.end()
    return 0


def _asterisk_dob(text: str, cs: int, out: _Out) -> int:
    """A date after the genealogical "born" star, as German and Wikipedia write it:
    "Hannah Schulz (* 19.08.1995 in Kassel)", "* 28. August 1749"."""
    star = cs - 1 if text[cs - 1] == "*" else cs - 2
    if not (star == 0 or text[star - 1] in "(\n" or text[max(0, star - 2) : star] in (", ", "; ")):
        return 0
    m = _DATE_AT.match(text, cs)
    if not m or m.end() - cs <= 4:  # more than a year: "(* 2024)" may be anything
        return 0
    out.append((cs, m.end(), "date_of_birth", 0.85, "dob"))
    return m.end()


def _sql_dob(text: str, out: _Out) -> None:
    """Dates in the birth-date column of ``INSERT INTO t (name, birth_date) VALUES (...)``."""
    for ins in _SQL_INSERT.finditer(text):
        cols = [c.strip(' \t\n"`[]').lower() for c in ins.group(1).split(",")]
        birth = {i for i, c in enumerate(cols) if _birth_key([c])}
        p, rows = ins.end(), 0
        while birth and text.startswith("(", p) and rows < 1000:  # each row: (v1, v2, ...)
            p, i, rows = p + 1, 0, rows + 1
            while v := _SQL_VALUE.match(text, p):
                if i in birth and v.group(1) and _DATE_AT.fullmatch(v.group(1)):
                    out.append((v.start(1), v.end(1), "date_of_birth", 0.9, "dob"))
                p, i = v.end(), i + 1
                if v.group(2) == ")":
                    break
            gap = _ROW_GAP.match(text, p)
            p = gap.end() if gap else p


def _jp_address(text: str, cs: int, out: _Out) -> int:
    """A Japanese address after the postcode mark: 〒154-0024 東京都世田谷区三軒茶屋2-14-7
    サンハイツ302 (up to a comma, a full stop, a bracket or the end of the line)."""
    if not (m := _JP_ADDRESS.match(text, cs)):
        return 0
    start = cs - 1 if text[cs - 1] == "〒" else cs - 2
    out.append((start, m.end(), "address", 0.85, "postcode"))
    return m.end()


def _tail_end(text: str, shape: bytes, t: re.Match[str]) -> int:
    """Where the address whose tail ``t`` matched ends: before the first part of the tail
    that is a person's name ("12 Main Street, John Smith."), or, with no postcode after it,
    two capitalised words that are not a place's ("Mary Jones"; "Victoria Island" and "New
    Delhi" are taken). The person is found on its own; inside the address its class would
    be lost to a policy that lets addresses go."""
    p, end = t.start(), t.end()
    while (m := _TAIL_PART.search(text, p, end)) is not None:
        s, e = m.span(1)
        names: _Out = []
        _person(text, shape, s, e, names)
        words = {w.lower() for w in m.group(1).split()}
        if names or (
            t.group("alone")
            and len(words) > 1
            and N.PLACE_PREFIXES.isdisjoint(words)
            and N.PLACE_WORDS.isdisjoint(words)
        ):
            return m.start()
        p = e
    return end


def _cep(text: str, cs: int, words: list[str]) -> int:
    """Where a Brazilian postcode (CEP, 01304-001) at ``cs`` starts with its town, or -1:
    after "CEP" or after a town and state ("São Paulo - SP, 01304-001"), not a phone."""
    if words and words[-1].rstrip(":") == "cep":
        return cs
    m = _BR_TOWN_STATE.search(text, max(0, cs - 48), cs)
    return m.start() if m and m.group(1) in N.BR_STATES else -1


def _dob(text: str, cs: int, words: list[str], out: _Out) -> int:
    ds = cs
    if words and words[-1] in _MONTHS:  # March 3, 1990: the date starts at the month
        low = text[max(0, cs - 40) : cs].lower()
        ds = cs - len(low) + low.rfind(words[-1].rstrip(":.,")) if len(low) == min(cs, 40) else cs
    if not (m := _DATE_AT.match(text, ds)) or m.end() <= cs:
        return 0
    out.append((ds, m.end(), "date_of_birth", 0.6 if m.end() - ds == 4 else 0.9, "dob"))
    return m.end()


def _special(text: str, cs: int, ce: int, b1: int, b2: int, sql: bool, out: _Out) -> int:
    """What a digit run after an unusual character may be (``b1`` and ``b2`` are the two
    bytes of the shape before it): a lower-case IBAN (de44 ...), a Japanese address
    (〒...), a CJK birth date (1985年...), a birth date after the born star, a date quoted
    in SQL. Returns where a finding ends, -1 once the SQL is read, or 0."""
    if b1 == 39:
        if "VALUES" in text or "values" in text:
            _sql_dob(text, out)  # a quoted date in SQL: the INSERT's columns say what it is
        return -1
    if b1 in _AZ:  # two letters, not both capitals, starting a word: an IBAN in lower case?
        return 0 if b1 == b2 == 65 else _iban_any_case(text, cs - 2, out)
    if b1 == 42 or b2 == 42:
        return _asterisk_dob(text, cs, out) if cs else 0
    if "〒" in text[max(0, cs - 2) : cs] and (r := _jp_address(text, cs, out)):
        return r
    if ce - cs == 4 and text[ce : ce + 1] in _YEAR_MARKS:
        return _cjk_dob(text, cs, out)
    return 0


def _numbers(text: str, shape: bytes, out: _Out) -> None:
    done, sql, kdone = 0, True, 0
    for m in _S_NUM.finditer(shape):
        cs, ce = m.span()
        if cs < done:
            continue
        if shape[ce - 1] == 41 and shape.count(40, max(cs - 1, 0), ce) < shape.count(41, cs, ce):
            ce -= 1  # a closing bracket that belongs to the sentence: (call +1 555 123 4567)
        b1, b2, b3 = shape[max(cs - 1, 0)], shape[max(cs - 2, 0)], shape[max(cs - 3, 0)]
        if (
            (b1 in _KEYISH or shape[ce : ce + 1] in _KEYISH_BYTES)
            and cs >= kdone
            and cs > 8
            and (kv := _key_prose(text, cs))  # a digit in a key: "api key is ab12cd34..."
        ):
            out.append((*kv, "secret", 0.8, "token"))
            kdone = kv[1]
        if (
            (  # quick tests, then the details
                (b1 in _AZ and b2 in _AZ and (cs == 2 or b3 not in _WORDISH))  # de44 ...
                or (b1 == 39 and sql and ce - cs >= 8)  # '1992-03-08'
                or (b1 == 32 and (b2 == 42 or b2 == 63))  # * 19.08.1995, 〒 530-0001
                or b1 == 42
                or (b1 == 63 and text[cs - 1] == "〒")  # 〒, outside Latin-1, is "?" in the shape
                or (ce - cs == 4 and shape[ce : ce + 1] == b"?")  # 1985年
            )
            and (r := _special(text, cs, ce, b1, b2, sql, out))
        ):
            if r < 0:  # the SQL statements are read, once
                sql = False
            else:
                done = r
                continue
        worded = cs > 2 and (  # right after a word: "born 1990", "Tel. 0301", "DOB: 1990"
            (b1 == 32 and (b2 in _WORD_END or (b2 in b":," and b3 in _WORD_END)))
            or (b1 == 58 and b2 in _WORD_END)
        )
        if not (worded or ce - cs >= 7 or shape.startswith(_FWD_NEXT, ce)):
            continue  # a bare number after an operator or bracket: nothing to look at
        words = _before(text, cs) if worded or ce - cs >= 7 else []
        birth = words and (
            not _BIRTH.isdisjoint(words[-3:]) or (ce - cs >= 6 and _birth_key(words))
        )
        if birth and (r := _dob(text, cs, words, out)):
            done = r
        elif ce - cs <= 11 and (span := _address(text, shape, cs, ce, words or [""])):
            start, done, det = span
            if det == "address" and (t := _ADDR_TAIL.match(text, done)):
                done = _tail_end(text, shape, t)  # the postcode and city that follow
            conf = 0.85 if det == "address" else 0.8 if det == "po_box" else 0.75
            out.append((start, done, "address", conf, det))
        elif ce - cs == 9 and text[cs + 5] == "-" and (start := _cep(text, cs, words)) >= 0:
            out.append((start, ce, "address", 0.8, "postcode"))  # not a phone number
            done = ce
        elif ce - cs >= 7:
            done = _identifiers(text, shape, cs, ce, words, out) or done
