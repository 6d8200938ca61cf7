"""Turn a conversation into the few things the learned scorer looks at, in pure Python.

This runs on every routed request, so it is built for speed: one ``encode`` and one
``bytes.translate`` fold case and blank out punctuation, one ``split`` cuts words, and a set
keeps each word once. Only a bounded window of the text is read (its head and tail), so a
long prompt costs no more than a medium one.

What is extracted:

* ``segment``: ``"mc"`` when the text is a multiple-choice question (lines ``A. ...``,
  ``B. ...``), else ``"free"``. Each segment has its own weights, because what makes a
  multiple-choice question hard differs from what makes a free-form one hard.
* ``words``: the set of lower-cased alphanumeric words (as ``bytes``) in the window.
* ``dense``: a few numbers: log length, log word count, share of digits,
  question marks, and the number of earlier turns.

Word weights are summed and divided by the square root of the number of distinct words in the
window (in the vocabulary or not), which keeps long prompts from dominating by sheer length
and costs nothing at run time (``len`` of the set).

>>> f = extract(["What is 2 + 2?"])
>>> f.segment, sorted(f.words)
('free', [b'2', b'is', b'what'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["DENSE_NAMES", "Features", "analysed_text", "extract"]

# bytes.translate table: A-Z -> a-z, keep a-z, 0-9 and non-ASCII bytes, everything else -> space.
_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128) else 32
    for c in range(256)
)

HEAD_CHARS = 400
"""How many characters from the start of the text are read."""
TAIL_CHARS = 200
"""How many characters from the end of the text are read (options and the question)."""
SHORT_TURN = 160
"""A last turn shorter than this is read together with the previous user turn (a follow-up)."""

DENSE_NAMES = (
    "log_chars",
    "log_words",
    "digit_share",
    "question_marks",
    "earlier_turns",
    "log_sentences",
    "log_clauses",
    "step_words",
    "fraction",
    "decimal",
)
"""Names of the dense features, in the order :func:`extract` returns them."""

_STEP_WORDS = frozenset(
    b"each per times percent half twice remaining total every rest more less than left "
    b"average ratio thrice double triple quarter third".split()
)
"""Words of multi-step arithmetic ("each", "per", "twice", "remaining"...): how many occur."""
_FRACTION_WORDS = frozenset(b"half third thirds quarter quarters fourth fifth".split())
# bytes.translate table: every digit -> "0", so one count gives the digits and "0.0" a decimal.
_ZERO_DIGITS = bytes(48 if 48 <= c <= 57 else c for c in range(256))


class Features(NamedTuple):
    """What the scorer sees of one conversation."""

    segment: str
    words: frozenset[bytes] | set[bytes]
    dense: tuple[float, ...]


def analysed_text(turns: Sequence[str]) -> str:
    """The text the scorer reads: the last user turn, after the previous one if it is short.

    A short follow-up ("and why?") says little alone, so the turn it follows is read too.
    """
    if not turns:
        return ""
    last = turns[-1]
    if len(last) < SHORT_TURN and len(turns) > 1:
        return f"{turns[-2][-TAIL_CHARS:]}\n{last}"
    return last


def _window(text: str) -> str:
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return f"{text[:HEAD_CHARS]} {text[-TAIL_CHARS:]}"


MC_SEARCH = 10_000
"""How far from each end options are looked for: a 10 MB prompt costs no more than 20 kB
(the longest training prompt is under 5,000 characters, so nothing it learned changes)."""


def is_multiple_choice(text: str) -> bool:
    """True when ``text`` lists answer options on lines starting ``A.`` and ``B.``."""
    if len(text) > 2 * MC_SEARCH:
        text = f"{text[:MC_SEARCH]}\n{text[-MC_SEARCH:]}"
    return "\nA." in text and "\nB." in text


def extract(turns: Sequence[str]) -> Features:
    """Extract the scorer's features from the user turns (oldest first)."""
    text = analysed_text(turns)
    window = _window(text)
    raw = window.encode("utf-8", "ignore")
    tokens = raw.translate(_TABLE).split()
    zeroed = raw.translate(_ZERO_DIGITS)
    digits = zeroed.count(48)
    words = set(tokens)
    questions = window.count("?")
    sentences = 1 + raw.count(b".") + questions
    dense = (
        math.log1p(len(text)),
        math.log1p(len(tokens)),
        digits / (len(raw) + 1.0),
        float(min(questions, 5)),
        math.log1p(max(len(turns) - 1, 0)),
        math.log1p(sentences),
        math.log1p(sentences + raw.count(b",") + raw.count(b" and ")),
        float(len(words & _STEP_WORDS)),
        float(b"/" in raw or not _FRACTION_WORDS.isdisjoint(words)),
        float(b"0.0" in zeroed),
    )
    return Features("mc" if is_multiple_choice(text) else "free", words, dense)
