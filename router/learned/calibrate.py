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

    With ``n`` scores the strong share moves in steps of ``1 / n`` (or more, across ties); the
    threshold is the ``k``-th highest score with ``k = round(share * n)``. ``share == 0``
    gives ``inf`` (never strong).
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if not scores:
        raise ValueError("no scores to calibrate on")
    ranked = sorted(scores, reverse=True)
    k = round(share * len(ranked))
    if k == 0:
        return math.inf
    return ranked[k - 1]


def achieved_share(scores: Sequence[float], threshold: float) -> float:
    """The share of ``scores`` at or above ``threshold``."""
    if not scores:
        raise ValueError("no scores")
    return sum(1 for s in scores if s >= threshold) / len(scores)
