"""API keys, JSON Web Tokens, private keys and passwords, for :mod:`router.classify.pii`.

API keys and JWTs are matched against the known formats in :mod:`router.classify._names` and
need a digit (or an AWS prefix); keys with a dash or underscore prefix (``sk-``, ``ghp_``,
``xoxb-``) and private key blocks are found from the ``-`` scanner; ``password = ...`` and
``token: ...`` assignments from the ``:`` scanner, reading the key backwards from the ``=``.
:func:`_key_at` also checks the ``eyJ`` tokens and API key shapes that the capital-letter scanner
in :mod:`router.classify.pii` finds; bearer tokens are matched there too.
"""

from __future__ import annotations

import re

from router.classify import _names as N
from router.classify._pii_shape import _alt, _Out, _placeholder, _shape

_S_DASH = re.compile(  # the prefix before the dash: 2 (sk-) to 6 (github_) letters
    rb"-(?:(?<=[sr]k-|hf-)|(?<=gh[pousr]-|npm-|key-|dop-)|(?<=xox[abposr]-|pypi-)"
    rb"|(?<=glpat-|shp[acps][acst]-)|(?<=github-)|(?P<pem>(?=----AAAAA )))"
)
_KW: dict[int, set[int]] = {65: {65}}  # ends of password/token keys: last byte -> bytes before
for _w in N.PASSWORD_KEYS | N.TOKEN_KEYS:
    _KW.setdefault(_shape(_w)[-1], set()).add(_shape(_w)[-2])
_KW_END = b"|".join(
    b"[" + re.escape(bytes(sorted(before))) + b"]" + re.escape(bytes([last]))
    for last, before in _KW.items()
)
del _w
_S_ASSIGN = re.compile(  # a password key before ":" or "=", or a .pgpass port ":5432:"
    rb":(?:(?<=(?:" + _KW_END + rb"):)|(?<=(?:" + _KW_END + rb")[ \"']:)|(?P<pg>(?=(?:0{1,5}|\*):))"
    rb"|(?P<tg>(?<=0:)(?<=00000000:)(?=[-a-zA0]{34,35}(?![-a-zA0])))"  # a Telegram bot token
    rb"|(?P<sas>(?<=g:)(?<=[?&]sig:))"  # the signature of an Azure shared access signature
    rb"|(?P<hook>(?<=s:)(?<=https:)(?=//(?:hooks\.|discord|ptb\.|canary\.))))"  # webhook URLs
)
_KEY = re.compile(r"(?<![\w\-])(?:" + "|".join(N.API_KEY_FORMATS) + r")(?![\w\-])", re.ASCII)
_PEM = re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")
_B64 = re.compile(r"[A-Za-z0-9+/=\s]{0,20000}")
_KEY_REV = re.compile(  # a password or token key just before "=" or ":", read backwards
    r"[ \t]{0,3}[\"']?[ \t]{0,2}(?:(?P<pw>" + _alt(N.PASSWORD_KEYS, True) + ")|(?P<tk>"
    + _alt(N.TOKEN_KEYS, True) + "))"
)  # fmt: skip
_VALUE = re.compile(  # quoted (escaped quotes inside: JSON's \") or bare
    r"[ \t]*(?:\"((?:[^\"\\\n]|\\.){1,200})\"|'((?:[^'\\\n]|\\.){1,200})'"
    r"|([^\s\"',;&)}\]>]{1,200}))"
)
_ALNUM = re.compile(r"[^\W_]").search
_CODE_LIKE = re.compile(r"[\w.]*[(\[]|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\Z").match  # f(, a[, a.b


def _key_at(text: str, starts: range, out: _Out) -> int:
    """An API key or JWT starting at one of ``starts``; returns where it ends (or 0)."""
    for p in starts:
        if p >= 0 and (k := _KEY.match(text, p)):
            v = k.group()
            if v[:4] in ("AKIA", "ASIA") or any(map(str.isdigit, v)):
                out.append((p, k.end(), "secret", 0.95, "jwt" if v[0] == "e" else "api_key"))
                return k.end()
    return 0


def _dashes(text: str, shape: bytes, out: _Out) -> None:
    """Keys with a dash or underscore prefix (sk-, ghp_, xoxb-) and private key blocks."""
    done = 0
    for m in _S_DASH.finditer(shape):
        if (p := m.start()) < done:
            continue
        if m.lastgroup != "pem":  # the prefix before the dash has 2 (sk-) to 6 (github_) letters
            done = _key_at(text, range(p - 2, p - 7, -1), out)
        elif pem := _PEM.match(text, p):
            end = text.find("-----END", pem.end(), pem.end() + 20000)
            close = text.find("-----", end + 8, end + 80) if end >= 0 else -1
            done = close + 5 if close >= 0 else pem.end() + len(_B64.match(text, pem.end())[0])
            out.append((p, p + len(text[p:done].rstrip()), "secret", 0.99, "private_key"))


_PROSE = re.compile(  # at the "p" of pass...: anchored, so cheap at each "ass" in the shape
    r"(?i)pass(?:word|wort|phrase|wd|ord)[ \t]+(?:" + "|".join(N.PASSWORD_IS) + r")[ \t]+"
)
_PROSE_FR = re.compile(r"(?i)mot de passe[ \t]+(?:est|était)[ \t]+")


def _prose(text: str, shape: bytes, out: _Out) -> None:
    """Passwords given in a sentence: "my password is Sommer2024!", "mein Passwort ist ...",
    "le mot de passe est ...". Only a value with a digit or a symbol, or a quoted one,
    counts: "the password is wrong" is not a password."""
    i = shape.find(b"ass")
    while i >= 0:
        m = None
        if i >= 1 and (i < 2 or not text[i - 2].isalnum()):  # "pass..." as a whole word
            m = _PROSE.match(text, i - 1)
        if m is None and i >= 8 and text[i - 8 : i - 7] in "mM":
            m = _PROSE_FR.match(text, i - 8)
        if m is not None and (v := _VALUE.match(text, m.end() - 1)):
            g = 1 if v.group(1) is not None else 2 if v.group(2) is not None else 3
            val = v.group(g)
            if g == 3 and val.endswith("."):  # the end of the sentence, not of the password
                val = val[:-1]
            bare = g == 3 and (val.isalpha() or len(val) < 4 or _CODE_LIKE(val))
            if not bare and val.lower() not in N.NOT_PASSWORDS and len(set(val)) >= 2:
                out.append((v.start(g), v.start(g) + len(val), "secret", 0.8, "password"))
        i = shape.find(b"ass", i + 3)


_KEY_PHRASE_REV = re.compile(  # "api key is ab12...", read backwards from a digit in the value
    r"([\w\-]{0,40})[\"'`]?(?:[ \t]*[:=][ \t]*|[ \t]+)(?:(?:si|saw)[ \t]+)?(?:yek|nekot)[ _\-]"
    r"(?:ipa|terces|htua|ssecca)(?![^\W\d_])",
    re.I,
)
_VALUE_REST = re.compile(r"[\w\-]{0,200}(?![\w\-])", re.ASCII)
_WORD_PART = re.compile(r"[A-Za-z]{5,}(?![A-Za-z0-9])")


def _key_prose(text: str, cs: int) -> tuple[int, int] | None:
    """A key given in a sentence whose value holds a digit at ``cs``: "twilio auth token
    4c5e1f0a...", "my api key is ab12cd34...", after "api key", "secret key", "auth token" or
    "access token". Only a random-looking value counts: 16 to 240 letters, digits, ``_`` or
    ``-``, with a digit and a letter, and no whole word of 5 letters or more
    (``sha256_hmac_signature`` names a thing). Called from the digit scanner, so that text
    without such a value costs nothing. Returns the value's span."""
    m = _KEY_PHRASE_REV.match(text[max(0, cs - 80) : cs][::-1])
    if m is None or not (rest := _VALUE_REST.match(text, cs)):
        return None
    start, end = cs - len(m.group(1)), rest.end()
    val = text[start:end]
    if len(val) >= 16 and any(map(str.isalpha, val)) and not _WORD_PART.search(val):
        return start, end
    return None


def _assignments(text: str, shape: bytes, out: _Out) -> None:
    """``password = ...`` style secrets (and ``token: ...`` with a random-looking value), and
    what else a ``:`` or ``=`` starts: Telegram bot tokens, Azure SAS signatures, webhooks."""
    done = 0
    for m in _S_ASSIGN.finditer(shape):
        p = m.start()
        if (kind := m.lastgroup) is not None:
            if kind == "pg":  # host:port:database:user:password
                if p >= done:
                    done = _pgpass(text, p, out)
            elif kind == "tg":
                _telegram(text, p, out)
            elif kind == "sas":
                _sas(text, p, out)
            elif (w := _WEBHOOK.match(text, p - 5)) and _mixed(w.group("s") or w.group("d")):
                out.append((w.start(), w.end(), "secret", 0.95, "webhook"))
            continue
        before = text[max(0, p - 40) : p][::-1].lower()
        key = _KEY_REV.match(before)
        if not key or not (v := _VALUE.match(text, p + 1)):
            continue
        word = key.group("pw")
        if (
            word
            and word[::-1] in N.SHORT_PASSWORD_KEYS
            and before[key.end() : key.end() + 1].isalpha()
        ):
            continue  # "bypass: ...", "compass: ..." are not "pass: ..."
        g = 1 if v.group(1) is not None else 2 if v.group(2) is not None else 3
        val = v.group(g)
        if val[0] in "$<{%*[(" or val.lower() in N.NOT_PASSWORDS or len(set(val)) < 2:
            continue
        bare = val.replace("_", "").isalpha() and (len(val) < 6 or text[p : p + 2] != "=" + val[0])
        if not _ALNUM(val) or (g == 3 and (_CODE_LIKE(val) or bare)):
            continue  # unquoted code (os.getcwd(), self.pwd, pwd) is not a literal value
        if key.group("pw") and len(val) >= 3:
            out.append((v.start(g), v.end(g), "secret", 0.85, "password"))
        elif len(val) >= 8 and any(map(str.isdigit, val)) and any(map(str.isalpha, val)):
            out.append((v.start(g), v.end(g), "secret", 0.8, "token"))


_TELEGRAM = re.compile(r"[0-9]{8,10}:[\w\-]{34,35}(?![\w\-])", re.ASCII)
_SAS_SIG = re.compile(r"[A-Za-z0-9%+/]{16,200}=*(?![\w%+/=])")
_URL_PART = re.compile(r"[^\s\"'<>`]{0,2000}")  # read backwards from the signature
_SAS_VERSION = re.compile(r"(?:\A|[?&;\"'=])sv=\d")
_WEBHOOK = re.compile(
    r"https://(?:hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/(?P<s>[A-Za-z0-9]{20,40})"
    r"|(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v\d{1,2}/)?webhooks/\d{15,21}/"
    r"(?P<d>[\w\-]{50,100}))(?![\w\-])",
    re.ASCII,
)


def _mixed(value: str) -> bool:
    """Whether a value looks random: a digit, or both cases (not a placeholder ``XXXX``)."""
    return any(map(str.isdigit, value)) or not (value.islower() or value.isupper())


def _telegram(text: str, p: int, out: _Out) -> None:
    """A Telegram bot token, ``123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw``, whose colon
    is at ``p``: 8 to 10 digits, then 35 random characters (34 in Telegram's own example)."""
    s = p - 8
    while s > p - 10 and text[s - 1 : s].isdigit():
        s -= 1
    if (s and (text[s - 1].isalnum() or text[s - 1] in "_-")) or not (
        t := _TELEGRAM.match(text, s)
    ):
        return
    if _mixed(t.group()[p - s + 1 :]):
        out.append((s, t.end(), "secret", 0.9, "api_key"))


def _sas(text: str, p: int, out: _Out) -> None:
    """The ``sig=`` of an Azure shared access signature (``?sv=2022-11-02&...&sig=...``): the
    signature is the secret, when ``sv=`` is in the same URL or token."""
    if not (v := _SAS_SIG.match(text, p + 1)) or not _mixed(v.group()):
        return
    before = text[max(0, p - 2000) : p][::-1]
    start = p - len(_URL_PART.match(before).group())  # type: ignore[union-attr]
    if _SAS_VERSION.search(text[start:p]):
        out.append((v.start(), v.end(), "secret", 0.9, "sas_signature"))


# --- credentials on a command line and in a .pgpass file ----------------------------------------

_CURL_USER = re.compile(  # curl -u user:password, --user user:password, -uuser:password
    r"(?<!\S)(?:-u[ \t]*|--user(?:[ \t]+|=))(?:([\"'])([^\"'\n]{3,200})\1|([^\s\"'|;&]{3,200}))"
)
_COMMAND_END = re.compile(
    r"(?:[^\n\\]|\\[^\n]|\\\n){0,2000}"
)  # to the end of the line, \ continued


def _command_lines(text: str, out: _Out) -> None:
    """``curl -u user:password`` (or ``--user``): the pair is a secret, unless the password
    is a placeholder (``-u USER:TOKEN``, ``-u $USER:$PASS``) or missing (curl then asks)."""
    p = text.find("curl")
    while p >= 0:
        end = _COMMAND_END.match(text, p).end()
        for m in _CURL_USER.finditer(text, p + 4, end):
            g = 2 if m.group(2) is not None else 3
            pair = m.group(g) if g == 2 else m.group(g).rstrip(_TRAILING)
            user, _, password = pair.partition(":")
            written = m.group(g).partition(":")[2]  # before the trailing "}" went: ${TOKEN}
            if (
                user
                and password
                and not (_placeholder(user, password) or _placeholder(user, written))
            ):
                out.append((m.start(g), m.start(g) + len(pair), "secret", 0.9, "command_line"))
        p = text.find("curl", max(end, p + 4))


_TRAILING = "\"'`,;.)]}>"  # what ends a quoted or written sentence, not the value
_PGPASS = re.compile(  # host:port:database:user:password, as in ~/.pgpass
    r"([^\s:#/\[][^\s:/]{0,252}):(\d{1,5}|\*):([^\s:]{1,63}):([^\s:]{1,63}):([^\s:]\S{0,199})"
)
_SPACE = re.compile(r"[ \n\t]")
_HEX_COLONS = re.compile(r"[0-9A-Fa-f:.]+")  # an IPv6 or MAC address, a time code
_SOURCE_FILE = (
    ".py",
    ".js",
    ".ts",
    ".go",
    ".rs",
    ".java",
    ".c",
    ".h",
    ".cpp",
    ".rb",
    ".txt",
    ".log",
)


def _pgpass(text: str, p: int, out: _Out) -> int:
    """A line (or word) of a PostgreSQL password file whose port starts after the colon at
    ``p``: ``db.internal:5432:*:app:S3cret``; the password is a secret. Compiler and grep
    output (``app.py:12:...``), IPv6 and MAC addresses and time codes have the same shape
    and are told apart. Returns where the entry ends (or 0)."""
    lo = max(0, p - 256)  # a host name is at most 253 characters: the search stays linear
    start = max(text.rfind(" ", lo, p), text.rfind("\n", lo, p), text.rfind("\t", lo, p)) + 1
    if start == 0 and lo:  # no host start within reach: nor for any colon up to the next
        ws = _SPACE.search(text, p)  # white space, so they are skipped at once
        return ws.start() if ws else len(text)
    while text[start] in "\"'`(":  # "db:5432:...": the quote is not part of the host
        start += 1
    m = _PGPASS.match(text, start)
    if not m or m.start(2) != p + 1 or (m.end() < len(text) and not text[m.end()].isspace()):
        return 0
    host, port, password = m.group(1), m.group(2), m.group(5).rstrip(_TRAILING)
    if (
        not password
        or (port != "*" and not 0 < int(port) < 65536)
        or _HEX_COLONS.fullmatch(text, start, m.start(5) + len(password))
        or host.lower().endswith(_SOURCE_FILE)
        or _placeholder(m.group(4), m.group(5))  # as written: ${PGPASSWORD}
        or _placeholder(m.group(4), password)
        or (password.isalpha() and password.islower())
    ):
        return m.end()
    out.append((m.start(5), m.start(5) + len(password), "secret", 0.85, "pgpass"))
    return m.end()
