"""Classify a whole request: personal data in every turn, task, complexity, size.

Everything here is local and fast (tens of microseconds for a 2,000-character prompt); no
model or network is needed. The complexity scorer is pluggable
(:class:`~router.classify.complexity.ComplexityScorer`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from typing import Any

from router.classify.complexity import ComplexityScorer, HeuristicScorer
from router.classify.escapes import decode_escapes_with_spans, might_be_escaped
from router.classify.pii import Finding, find_pii
from router.classify.task import classify_task
from router.classify.types import Classification, Detection
from router.errors import InvalidRequest
from router.messages import ChatRequest

_MESSAGE_OVERHEAD = 4  # role markers and separators most chat templates add per message
IMAGE_TOKENS = {"low": 85, "auto": 765, "high": 765}
"""Prompt tokens counted for an image, by its ``detail``: what OpenAI bills a low-detail
image, and a 1024 x 1024 one in high detail (85 + 170 per 512-pixel tile). An image's
cost is its pixels, not the length of its URL: a photo sent inline as a ``data:`` URL is
hundreds of kilobytes of base64."""
_DATA_IMAGE = re.compile(r"data:image/[\w.+\-]{1,40};base64,")
# A message name, function name or tool-call id: read with its underscores as spaces.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_\-]{1,128}")


def estimate_tokens(text: str) -> int:
    """A fast token estimate: ~4 characters per token for ASCII, ~1 per CJK character.

    >>> estimate_tokens("Hello, world!")
    4
    """
    n = len(text)
    if text.isascii():
        return (n + 3) // 4
    extra = len(text.encode("utf-8")) - n  # 1 per accented letter, 2 per CJK character
    return (n + 3) // 4 + (extra + 1) // 2


def check_labels(labels: Any) -> dict[str, str]:
    """Validate caller labels (a mapping of short strings to short strings) and normalise
    them as policies match them: lower case, surrounding spaces removed."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InvalidRequest("labels must be a mapping of names to values", field="labels")
    out = {}
    for k, v in labels.items():
        if not isinstance(k, str) or not k or len(k) > 64:
            raise InvalidRequest("label names are non-empty strings of <= 64 chars", field="labels")
        if not isinstance(v, str) or len(v) > 256:
            raise InvalidRequest(f"label {k!r} must be a string of <= 256 chars", field="labels")
        if not (k + v).isascii():
            try:
                (k + v).encode("utf-8")
            except UnicodeEncodeError:  # "\ud800" from JSON: no policy or backend reads it
                raise InvalidRequest(
                    "a name or value holds an unpaired surrogate, which is not valid Unicode",
                    field="labels",
                ) from None
        key = k.strip().lower()  # policies match labels ignoring case
        if key in out:  # "Sensitivity" and "sensitivity": which one would a policy see?
            raise InvalidRequest(
                f"label {key!r} is given twice (names ignore case)", field="labels"
            )
        out[key] = v.strip().lower()
    return out


def scan(text: str) -> list[Finding]:
    """:func:`~router.classify.pii.find_pii` on ``text`` and, when it holds escapes (JSON's
    ``\\n`` or ``\\uXXXX``, a URL's ``%40``; see :mod:`router.classify.escapes`), on its
    decoded form too: a model reads ``"Contact:\\njane@example.com"`` in a tool result as an
    address on its own line, and ``J\\u00f6rg M\\u00fcller`` as "Jörg Müller". Values found
    decoded are reported on their span in ``text``; see :func:`_merge` for overlaps."""
    found = find_pii(text)
    if not might_be_escaped(text):
        return found
    decoded, where, escapes = decode_escapes_with_spans(text)
    if decoded == text:
        return found
    seen = [(cls, where[s], where[e], conf, det) for cls, s, e, conf, det in find_pii(decoded)]
    return _merge(found, seen, escapes) if seen else found


DECODED = "+decoded"
"""Suffix of the detector name of a finding seen only in the decoded text: its value is
what the escaped text stands for (redaction restores it decoded), where a value the raw
scan found is restored exactly as written."""


def _merge(
    raw: list[Finding], seen: list[Finding], escapes: list[tuple[int, int]]
) -> list[Finding]:
    """Raw and decoded findings as one list, sorted by start.

    Findings of the same class that overlap become one over both spans: decoded,
    ``password=Tr0ub4dor%26x`` ends at the ``&``, and the whole raw value must still be
    covered. Except that a raw finding starting or ending inside an escape was misread
    (``\\njane@example.com`` read raw is the address ``njane@...``, whose redaction
    would break the JSON): the decoded one replaces it. Findings of different classes are
    all kept, overlapping or not, so that no class a policy protects is ever dropped for
    one it allows. Both lists are sorted and free of overlaps: the work is linear.
    """
    starts = [e[0] for e in escapes]

    def cut(pos: int) -> bool:  # strictly inside an escape
        k = bisect_right(starts, pos) - 1
        return k >= 0 and escapes[k][0] < pos < escapes[k][1]

    out: list[Finding] = []
    i = 0
    for cls, start, end, conf, det in seen:
        det += DECODED  # seen only decoded, unless a raw finding of its class joins it
        while i < len(raw) and raw[i][2] <= start:  # raw findings before this one
            out.append(raw[i])
            i += 1
        while i < len(raw) and raw[i][1] < end:  # raw findings overlapping this one
            r = raw[i]
            if r[0] != cls:
                out.append(r)  # another class: kept as well
            elif not (cut(r[1]) or cut(r[2])):
                start, end, det = min(start, r[1]), max(end, r[2]), r[4]  # as written
            i += 1
        out.append((cls, start, end, conf, det))
    out.extend(raw[i:])
    out.sort(key=lambda f: f[1])
    return out


def _across_parts(parts: list[str], index: int) -> list[Detection]:
    """Values split between content parts (``"jane.doe@"``, ``"example.com"``; a card in
    four parts of four digits; a long token in pieces).

    A model reads a message's parts as one text, so a value cut in pieces is still sent. The
    parts are scanned glued together; a finding that crosses a seam is reported on the
    message's text (parts joined by newlines), its span covering the newlines. No single
    part contains such a value, so it can never be redacted: a remote backend is refused by
    the privacy guard.
    """
    if len(parts) < 2:
        return []
    seams: list[int] = []  # where each part after the first starts in the glued text
    for part in parts[:-1]:
        seams.append((seams[-1] if seams else 0) + len(part))
    out: list[Detection] = []
    for cls, start, end, conf, det in scan("".join(parts)):
        before_start, before_end = bisect_right(seams, start), bisect_left(seams, end)
        if before_end > before_start:  # a seam falls strictly inside the value
            out.append(Detection(cls, index, start + before_start, end + before_end, conf, det))
    return out


class Classifier:
    """Turns a :class:`~router.messages.ChatRequest` into a :class:`Classification`."""

    def __init__(self, scorer: ComplexityScorer | None = None) -> None:
        self.scorer: ComplexityScorer = scorer if scorer is not None else HeuristicScorer()

    def classify(
        self, request: ChatRequest, labels: Mapping[str, str] | None = None
    ) -> Classification:
        """Classify ``request`` (every text it sends) with the caller's ``labels``."""
        detections: list[Detection] = []
        tokens = 3
        user_turns: list[str] = []
        last_user = ""
        for i, message in enumerate(request.messages):
            text = message.text()
            tokens += estimate_tokens(text) + _MESSAGE_OVERHEAD
            if message.role == "user":
                user_turns.append(text)
                last_user = text
            if text:
                for cls, start, end, conf, det in scan(text):
                    detections.append(Detection(cls, i, start, end, conf, det))
                if not isinstance(getattr(message, "content", None), str):
                    detections += _across_parts(message.part_texts(), i)
        # Names, stop sequences, tool definitions ... are sent too: scanned like messages,
        # indexed after them (see ChatRequest.all_texts).
        index = len(request.messages)
        wants_images = request.has_images
        images = {img.url: img.detail or "auto" for img in request.images()} if wants_images else {}
        for text in request.extra_texts():
            detail = images.get(text)
            if detail is not None:
                tokens += IMAGE_TOKENS[detail]
                if m := _DATA_IMAGE.match(text):  # pixels, not text: the header alone
                    text = text[: m.end()]
            else:
                tokens += estimate_tokens(text)
            if "_" in text and _IDENTIFIER.fullmatch(text):  # a name field: "Alice_Johnson"
                text = text.replace("_", " ")  # one for one: spans still index the original
            for cls, start, end, conf, det in scan(text):
                detections.append(Detection(cls, index, start, end, conf, det))
            index += 1
        if not user_turns:  # e.g. a conversation that ends with a tool result
            user_turns = [request.messages[-1].text()]
            last_user = user_turns[0]
        complexity = float(self.scorer.score(user_turns))
        return Classification(
            task=classify_task(last_user),
            complexity=min(max(complexity, 0.0), 1.0),
            tokens=tokens,
            detections=tuple(detections),
            labels=dict(labels) if labels else {},
            turns=len(user_turns),
            scorer=self.scorer.name,
            wants_tools=bool(request.tools) and request.tool_choice != "none",
            wants_json=request.wants_json,
            wants_stream=request.stream,
            wants_images=wants_images,
            max_output_tokens=request.max_tokens,
        )
