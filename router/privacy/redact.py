"""Replace detected values with stable placeholders before a remote call, and restore them.

The same value gets the same placeholder everywhere in the request (``[EMAIL_1]`` is always
the first distinct e-mail address, counted from the start of the conversation; a number the
caller's own text already uses, as in a template's ``[EMAIL_1]``, is skipped), so a
conversation redacted turn after turn stays consistent for the remote model. Every string
the request sends is redacted, not only message text: names, tool definitions and
arguments, stop sequences, the response format.

A value is matched in the forms it is likely to take again: in any letter case (a secret
only exactly: secrets are case-sensitive); for numbers (card, IBAN, phone, SSN) with any or
no separators between the digits; for a person's name, each part of it on its own,
capitalised or in capitals ("Alice" after "Alice Johnson"; the "will" of "we will" is not
the "Will" of "Will Smith"); and, for a value seen only behind escapes, in its escaped and
its decoded forms. Answers, streamed or not, tool-call arguments included, get the
originals back (a value found as written comes back as written; one seen only escaped comes
back decoded; inside a JSON answer or JSON arguments, escaped as JSON); a placeholder split
across stream chunks is held back until it is whole. A part of a name comes back as the
whole name: the remote model sees one person, not two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from router.classify.classifier import DECODED
from router.classify.escapes import decode_escapes
from router.classify.pii import DASHES, INVISIBLE
from router.classify.types import Detection
from router.completion import ChatCompletion
from router.messages import ChatRequest, is_fixed

_PLACEHOLDER = re.compile(r"\[([A-Z_]+)_(\d+)\]")
# Where a number may start: not glued to a letter or digit, unless that character ends an
# escape (JSON's "\n4111...", "\u00a04111...", a URL's "%204111...").
_AFTER_ESCAPE = r"(?:(?<![0-9A-Za-z])|(?<=\\[nrtbf])|(?<=%[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4}))"
_MAX_PLACEHOLDER = 32
_NUMERIC = frozenset({"credit_card", "iban", "phone", "ssn"})
# Up to two separators (ASCII ones, and the characters the scan reads as a hyphen: Unicode
# dashes), with any invisible characters around them (marks that text copied from a
# right-to-left interface carries), which the scan reads as absent.
_INVISIBLE = "[" + re.escape(INVISIBLE) + "]*"
_SEPARATORS = _INVISIBLE + r"(?:[\s.\-/()" + re.escape(DASHES) + "]" + _INVISIBLE + "){0,2}"


def _key(value: str, data_class: str) -> str:
    """What makes two values the same one: a secret's exact text (secrets are
    case-sensitive), any other value's text ignoring case."""
    return value if data_class == "secret" else value.lower()


def _exact(value: str, data_class: str) -> str:
    """``value`` literally; a secret case-sensitively."""
    return f"(?-i:{re.escape(value)})" if data_class == "secret" else re.escape(value)


def value_pattern(value: str, data_class: str) -> str:
    """A regex for ``value`` in the forms it is likely to take again (see the module)."""
    if data_class in _NUMERIC:
        chars = [c for c in value if c.isalnum()]
        if len(chars) >= 6:
            # A leading "+" (an international phone number) is part of the value: left
            # outside, it would be sent, and restored before the original's own "+".
            plus = r"\+?\s?" if value.lstrip().startswith("+") else ""
            body = _SEPARATORS.join(map(re.escape, chars))
            # Not glued to a letter or digit, unless the letter ends an escape (a JSON
            # "\n4111...", where the "n" is the line break before the number).
            return _AFTER_ESCAPE + plus + body + r"(?![0-9])"
    return _exact(value, data_class)


def name_parts(value: str) -> list[str]:
    """The parts of a person's name worth protecting on their own (three letters or more)."""
    return [p for p in re.split(r"[\s,.\-_]+", value) if len(p) >= 3 and p[0].isalpha()]


def _name_part_pattern(part: str) -> str:
    """A part of a name on its own, as a name is written (capitalised or in capitals):
    "Will" of "Will Smith", not the "will" of "we will refund him". A capitalised part may
    touch an underscore on one side (a message's ``name`` field writes "Alice_Johnson", a
    file "Johnson_2024.pdf"), not both ("get_Max_value"); a part in capitals may not, or
    "Max" would be replaced inside the constant MAX_RETRIES of pasted code."""
    start = r"(?:\b|(?<=\\[nrtbf]))"
    capitals = rf"{start}(?-i:{re.escape(part.upper())})\b"
    capitalised = part[0].upper() + part[1:]
    if capitalised == part.upper():
        return capitals
    word = f"(?-i:{re.escape(capitalised)})"
    # An underscore on one side only: "Alice_" and "_Johnson", not "get_Max_value".
    return rf"{capitals}|{start}{word}(?![^\W_])|(?<![^\W_]){word}\b"


class Redaction:
    """The value <-> placeholder mapping for one request."""

    def __init__(self, request: ChatRequest, detections: Iterable[Detection], classes: set[str]):
        texts = request.all_texts()
        self.backward: dict[str, str] = {}  # placeholder -> original
        self.counts: dict[str, int] = {}
        self._patterns: list[tuple[str, str]] = []  # (regex, placeholder)
        sizes: dict[str, int] = {}  # regex -> length of the value it stands for
        seen: dict[str, str] = {}  # lower-cased value -> placeholder
        numbering: dict[str, int] = {}
        # Text that already looks like a placeholder is the caller's: never reuse its
        # number, or restoring the answer would turn the caller's own text into a value.
        taken = {
            m.group(0)
            for t in texts
            for form in {t, decode_escapes(t)}  # "%5BEMAIL_1%5D" is the caller's too
            for m in _PLACEHOLDER.finditer(form)
        }
        # Values restored into a JSON answer must be escaped as JSON strings are.
        self.json_content = request.wants_json
        for d in sorted(detections, key=lambda d: (d.message, d.start)):
            if d.data_class not in classes or d.message >= len(texts):
                continue
            raw = texts[d.message][d.start : d.end]
            # A value seen only behind escapes ("anna%40example.com", "J\u00f6rg") is the
            # decoded one: restored as such, matched in that form and in the raw one. A
            # value found as written (a password with "%41" in it) stays as written.
            value = decode_escapes(raw) if d.detector.endswith(DECODED) else raw
            if not value:
                continue
            key = _key(value, d.data_class)
            placeholder = seen.get(key)
            if placeholder is None:
                placeholder = self._new(value, d.data_class, numbering, taken)
                seen[key] = placeholder
                pattern = value_pattern(value, d.data_class)
                sizes[pattern] = len(value)
                self._patterns.append((pattern, placeholder))
                if d.data_class == "person":
                    for part in name_parts(value):
                        if part.lower() not in seen:
                            seen[part.lower()] = placeholder
                            pattern = _name_part_pattern(part)
                            sizes[pattern] = len(part)
                            self._patterns.append((pattern, placeholder))
            if raw != value and _key(raw, d.data_class) not in seen:  # the escaped form
                seen[_key(raw, d.data_class)] = placeholder
                pattern = _exact(raw, d.data_class)
                sizes[pattern] = len(raw)
                self._patterns.append((pattern, placeholder))
        # Longest value first, so a value that contains another is replaced whole.
        self._patterns.sort(key=lambda p: sizes[p[0]], reverse=True)
        self._regex = (
            re.compile("|".join(f"({p})" for p, _ in self._patterns), re.IGNORECASE)
            if self._patterns
            else None
        )

    def _new(self, value: str, data_class: str, numbering: dict[str, int], taken: set[str]) -> str:
        """A fresh placeholder for ``value``: the next number of its class not in ``taken``."""
        n = numbering.get(data_class, 0) + 1
        while f"[{data_class.upper()}_{n}]" in taken:
            n += 1
        numbering[data_class] = n
        placeholder = f"[{data_class.upper()}_{n}]"
        self.backward[placeholder] = value
        self.counts[data_class] = self.counts.get(data_class, 0) + 1
        return placeholder

    def __bool__(self) -> bool:
        return bool(self.backward)

    @property
    def regex(self) -> re.Pattern[str] | None:
        """One pattern matching every protected value in every form it covers."""
        return self._regex

    def apply(self, text: str) -> str:
        if self._regex is None:
            return text
        patterns = self._patterns
        return self._regex.sub(lambda m: patterns[m.lastindex - 1][1], text)  # type: ignore[operator]

    def _apply_all(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.apply(obj)
        if isinstance(obj, list):
            return [self._apply_all(x) for x in obj]
        if isinstance(obj, dict):
            return {
                k: v if isinstance(v, str) and is_fixed(k, v) else self._apply_all(v)
                for k, v in obj.items()
            }
        return obj

    def restore(self, text: str, *, json_string: bool = False) -> str:
        """Put the originals back; ``json_string`` escapes them for use inside JSON text."""
        if "[" not in text:
            return text

        def original(m: re.Match[str]) -> str:
            value = self.backward.get(m.group(0))
            if value is None:
                return m.group(0)
            return json.dumps(value, ensure_ascii=False)[1:-1] if json_string else value

        return _PLACEHOLDER.sub(original, text)

    def request(self, request: ChatRequest) -> ChatRequest:
        """A copy of ``request`` with every value replaced in every string it sends (the
        format's fixed words, such as ``"detail": "low"``, excepted).

        Raises ``pydantic.ValidationError`` when the replacement makes the request invalid
        (a function name pushed past its length limit, say)."""
        data = request.model_dump(exclude_none=True, by_alias=True)
        return ChatRequest.model_validate(self._apply_all(data))

    def completion(self, response: ChatCompletion) -> ChatCompletion:
        """Restore the originals in a completion, in place, and return it."""
        for choice in response.choices:
            msg = choice.message
            if msg.content:
                msg.content = self.restore(msg.content, json_string=self.json_content)
            for call in msg.tool_calls or []:
                call.function.arguments = self.restore(call.function.arguments, json_string=True)
        return response

    def stream_restorer(self, *, json_string: bool = False) -> StreamRestorer:
        return StreamRestorer(self, json_string=json_string)


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a possibly split placeholder."""

    def __init__(self, redaction: Redaction, *, json_string: bool = False) -> None:
        self._r = redaction
        self._json = json_string
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        self._held = ""
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < _MAX_PLACEHOLDER:
            text, self._held = text[:cut], text[cut:]
        return self._r.restore(text, json_string=self._json)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._r.restore(text, json_string=self._json)
