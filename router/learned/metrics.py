"""How good a router's ranking is: the quality-versus-strong-share curve, APGR and CPT.

Given per-prompt outcomes (did the weak tier answer correctly, did the strong tier) and a
router score per prompt, send the ``k`` highest-scoring prompts to the strong tier and the rest
to the weak tier, for every ``k`` from 0 to ``n``. Accuracy against the share ``k / n`` of
strong calls is the routing curve. Prompts with equal scores cannot be ordered by the router,
so a block of ties is crossed in one straight segment: the expected accuracy when the tie is
broken at random. A constant scorer therefore draws exactly the random-routing line.

* **APGR** (average performance gap recovered, as in the RouteLLM paper) is the area under the
  curve (trapezoids), normalised so that always-weak is 0 and always-strong is 1:
  ``(AUC - weak_acc) / (strong_acc - weak_acc)``. Random routing scores 0.5; the oracle can
  exceed 1 because some prompts only the weak tier gets right.
* **CPT(f)** (call-performance threshold) is the smallest share of strong calls at which the
  curve recovers the fraction ``f`` of the gap: ``weak_acc + f * (strong_acc - weak_acc)``,
  found by linear interpolation along the curve.

Both are ``nan`` when the strong tier is not more accurate than the weak tier on the data.

>>> round(apgr([0.1, 0.9, 0.8, 0.2], weak=[1, 0, 0, 1], strong=[1, 1, 1, 0]), 4)
1.125
>>> cpt([0.1, 0.9, 0.8, 0.2], weak=[1, 0, 0, 1], strong=[1, 1, 1, 0], fraction=0.5)
0.125
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["RoutingCurve", "apgr", "cpt", "routing_curve"]


class RoutingCurve:
    """Accuracy against strong-call share for one ranking of one set of outcomes.

    ``points`` are ``(share, accuracy)`` pairs from ``(0, weak_acc)`` to ``(1, strong_acc)``;
    only the ends of tie blocks are kept, so the curve between points is a straight line.
    """

    __slots__ = ("n", "points", "strong_accuracy", "weak_accuracy")

    def __init__(
        self,
        points: list[tuple[float, float]],
        weak_accuracy: float,
        strong_accuracy: float,
        n: int,
    ) -> None:
        self.points = points
        self.weak_accuracy = weak_accuracy
        self.strong_accuracy = strong_accuracy
        self.n = n

    @property
    def gap(self) -> float:
        """How much more accurate the strong tier is than the weak tier."""
        return self.strong_accuracy - self.weak_accuracy

    def area(self) -> float:
        """Area under the curve over shares 0..1 (trapezoid rule)."""
        total = 0.0
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            total += (x1 - x0) * (y0 + y1) / 2.0
        return total

    def apgr(self) -> float:
        """Average performance gap recovered; ``nan`` when there is no gap to recover."""
        if self.gap <= 0:
            return math.nan
        return (self.area() - self.weak_accuracy) / self.gap

    def cpt(self, fraction: float) -> float:
        """Smallest strong share recovering ``fraction`` of the gap; ``nan`` without a gap."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be in [0, 1], got {fraction}")
        if self.gap <= 0:
            return math.nan
        target = self.weak_accuracy + fraction * self.gap
        eps = 1e-12
        x_prev, y_prev = self.points[0]
        if y_prev >= target - eps:
            return 0.0
        for x, y in self.points[1:]:
            if y >= target - eps:
                return x_prev + (target - y_prev) / (y - y_prev) * (x - x_prev)
            x_prev, y_prev = x, y
        return 1.0  # unreachable: the last point is strong_acc >= target

    def accuracy_at(self, share: float) -> float:
        """Accuracy when ``share`` of the traffic goes to the strong tier (interpolated)."""
        share = min(max(share, 0.0), 1.0)
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            if share <= x1:
                return y0 if x1 == x0 else y0 + (share - x0) / (x1 - x0) * (y1 - y0)
        return self.points[-1][1]


def routing_curve(
    scores: Sequence[float], weak: Sequence[bool | int], strong: Sequence[bool | int]
) -> RoutingCurve:
    """Build the routing curve: highest scores go to the strong tier first."""
    n = len(scores)
    if n == 0 or len(weak) != n or len(strong) != n:
        raise ValueError("scores, weak and strong must be non-empty and of equal length")
    if any(s != s for s in scores):  # NaN: no order, and the tie loop would never end
        raise ValueError("scores must be numbers, got NaN")
    weak_acc = sum(1 for x in weak if x) / n
    strong_acc = sum(1 for x in strong if x) / n
    order = sorted(range(n), key=lambda i: -scores[i])
    points = [(0.0, weak_acc)]
    gained = 0
    i = 0
    while i < n:
        block_score = scores[order[i]]
        while i < n and scores[order[i]] == block_score:
            j = order[i]
            gained += bool(strong[j]) - bool(weak[j])
            i += 1
        points.append((i / n, weak_acc + gained / n))
    return RoutingCurve(points, weak_acc, strong_acc, n)


def apgr(
    scores: Sequence[float], weak: Sequence[bool | int], strong: Sequence[bool | int]
) -> float:
    """APGR of ``scores`` on these outcomes (see the module docstring)."""
    return routing_curve(scores, weak, strong).apgr()


def cpt(
    scores: Sequence[float],
    weak: Sequence[bool | int],
    strong: Sequence[bool | int],
    fraction: float = 0.5,
) -> float:
    """CPT(``fraction``) of ``scores`` on these outcomes (see the module docstring)."""
    return routing_curve(scores, weak, strong).cpt(fraction)
