"""Keep a conversation on its tier unless a turn clearly needs a different one.

Routing every turn independently makes a conversation bounce between models when its scores
hover around the threshold, which users notice (different voice, lost context). With a
``margin``, a conversation already on the strong tier moves down only when a turn scores
below ``threshold - margin``, and one on the weak tier moves up only when a turn scores at or
above ``threshold + margin``. Inside that band it stays where it is.

>>> sticky_tier_decision(None, 0.62, threshold=0.6, margin=0.05)   # first turn: plain threshold
True
>>> sticky_tier_decision(False, 0.62, threshold=0.6, margin=0.05)  # not clearly harder: stay weak
False
>>> sticky_tier_decision(False, 0.70, threshold=0.6, margin=0.05)  # clearly harder: move up
True
>>> sticky_tier_decision(True, 0.57, threshold=0.6, margin=0.05)   # not clearly easier: stay
True
"""

from __future__ import annotations

__all__ = ["sticky_tier_decision"]


def sticky_tier_decision(
    previous_strong: bool | None, score: float, threshold: float, margin: float = 0.0
) -> bool:
    """Whether this turn goes to the strong tier, given where the previous turn went.

    ``previous_strong`` is ``None`` for the first turn of a conversation (or when unknown):
    then the decision is the plain ``score >= threshold``. ``margin`` must be >= 0; 0 turns
    stickiness off. Pure: no state is kept here, the caller remembers the previous tier.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if previous_strong is None or margin == 0:
        return score >= threshold
    if previous_strong:
        return score >= threshold - margin
    return score >= threshold + margin
