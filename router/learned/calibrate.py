"""Find the score threshold that sends a chosen share of traffic to the strong tier.

``hybrid-router calibrate`` scores every prompt of an outcomes file (your own traffic, ideally)
and picks the threshold from those scores; a policy may then state that threshold, or state
the share and let :meth:`router.learned.LearnedScorer.threshold_for_share` use the quantiles
recorded in the model file.

>>> threshold_for_share([0.1, 0.2, 0.3, 0.4, 0.5], 0.4)
0.4
>>> achieved_share([0.1, 0.2, 0.3, 0.4, 0.5], 0.4)
0.4
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["achieved_share", "threshold_for_share"]


def threshold_for_share(scores: Sequence[float], share: float) -> float:
    """The threshold (route strong when ``score >= threshold``) closest to ``share`` strong.

    With ``n`` scores the strong share moves in steps of ``1 / n``, or more across ties:
    every prompt with the threshold's score goes the same way. Of the thresholds at the
    scores themselves (and ``inf``, never strong), the one whose share is closest to
    ``share`` is returned; on a tie between two, the smaller share.

    >>> threshold_for_share([0.5, 0.5, 0.5, 0.1], 0.25)  # 0% is closer than 75%
    inf
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if not scores:
        raise ValueError("no scores to calibrate on")
    n = len(scores)
    ranked = sorted(scores, reverse=True)
    best, best_gap = math.inf, share  # never strong: share 0
    i = 0
    while i < n:  # each distinct score, highest first: all of its ties go strong together
        j = i
        while j < n and ranked[j] == ranked[i]:
            j += 1
        gap = abs(j / n - share)
        if gap < best_gap - 1e-12:
            best, best_gap = ranked[i], gap
        i = j
    return best


def achieved_share(scores: Sequence[float], threshold: float) -> float:
    """The share of ``scores`` at or above ``threshold``."""
    if not scores:
        raise ValueError("no scores")
    return sum(1 for s in scores if s >= threshold) / len(scores)
