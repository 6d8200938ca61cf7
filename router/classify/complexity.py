"""How hard a request is, as a score in [0, 1], behind a small interface.

A scorer sees the user turns of a conversation (oldest first; the last is the one being
answered) and returns the probability-like score that the request needs a stronger tier.
The router ships a learned scorer as the default (see :mod:`router.learned`); the heuristic
scorer here needs no model file and serves as a transparent baseline.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class ComplexityScorer(Protocol):
    """Scores how much a request needs a stronger model, in [0, 1]."""

    name: str

    def score(self, turns: Sequence[str]) -> float:
        """Score the conversation whose user turns are ``turns`` (oldest first)."""
        ...


_HARD = frozenset(
    "prove proof derive optimise optimize complexity theorem tradeoff tradeoffs architecture "
    "concurrency concurrent algorithm algorithms integral differential asymptotic analyse "
    "analyze design refactor debug rigorous rigorously invariant lemma".split()
)
_HARD_PHRASES = ("step by step", "step-by-step", "trade-off", "compare and contrast", "edge case")
_EASY = frozenset("hi hello hey thanks thank bye morning evening afternoon".split())
_SPLIT = str.maketrans({c: " " for c in string.punctuation})


class HeuristicScorer:
    """A transparent rule-of-thumb scorer: length, hard words, numbers, code, questions.

    >>> HeuristicScorer().score(["hello!"]) < 0.2
    True
    """

    name = "heuristic"

    def score(self, turns: Sequence[str]) -> float:
        if not turns:
            return 0.0
        text = turns[-1][:4000]
        low = text.lower()
        words = low.translate(_SPLIT).split()
        if len(text) < 60 and words and words[0] in _EASY:
            return 0.05
        s = 0.15 + min(len(text) / 4000.0, 0.3)
        hard = len(_HARD.intersection(words)) + sum(1 for p in _HARD_PHRASES if p in low)
        s += 0.08 * min(hard, 3)
        numbers = sum(1 for w in words if w[:1].isdigit())
        if numbers >= 2:
            s += min(0.05 * numbers, 0.2)
        if "```" in text or "def " in text or "{" in text:
            s += 0.1
        s += 0.03 * min(text.count("?"), 3)
        return min(max(s, 0.0), 1.0)


def default_scorer() -> ComplexityScorer:
    """The scorer the router uses unless told otherwise: the learned model shipped in the
    package (:mod:`router.learned`)."""
    from router.learned import load_default

    return load_default()
