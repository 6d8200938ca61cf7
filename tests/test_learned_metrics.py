"""APGR and CPT against small cases checked by hand."""

from __future__ import annotations

import math
import random

import pytest

from router.learned.metrics import apgr, cpt, routing_curve

# weak acc 0.5, strong acc 0.75; gains per prompt: [0, +1, +1, -1]
SCORES = [0.1, 0.9, 0.8, 0.2]
WEAK = [1, 0, 0, 1]
STRONG = [1, 1, 1, 0]


def test_hand_checked_curve_apgr_and_cpt() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)
    # order by score: +1, +1, -1, 0 -> accuracies 0.5, 0.75, 1.0, 0.75, 0.75
    assert curve.points == [(0.0, 0.5), (0.25, 0.75), (0.5, 1.0), (0.75, 0.75), (1.0, 0.75)]
    # area = 0.25 * (0.625 + 0.875 + 0.875 + 0.75) = 0.78125; (0.78125 - 0.5) / 0.25
    assert curve.area() == pytest.approx(0.78125)
    assert apgr(SCORES, WEAK, STRONG) == pytest.approx(1.125)
    # half the gap is accuracy 0.625, reached half-way to the first point
    assert cpt(SCORES, WEAK, STRONG, 0.5) == pytest.approx(0.125)
    # 80% of the gap is accuracy 0.7: 0.2 / 0.25 of the way to share 0.25
    assert cpt(SCORES, WEAK, STRONG, 0.8) == pytest.approx(0.2)
    assert cpt(SCORES, WEAK, STRONG, 0.0) == 0.0
    assert curve.accuracy_at(0.375) == pytest.approx(0.875)


def test_worst_ranking() -> None:
    # reversed order: 0, -1, +1, +1 -> accuracies 0.5, 0.5, 0.25, 0.5, 0.75
    scores = [-s for s in SCORES]
    assert routing_curve(scores, WEAK, STRONG).points[2] == (0.5, 0.25)
    # area = 0.25 * (0.5 + 0.375 + 0.375 + 0.625) = 0.46875: worse than never routing
    assert apgr(scores, WEAK, STRONG) == pytest.approx(-0.125)
    # accuracy 0.625 is first reached between shares 0.75 (0.5) and 1.0 (0.75)
    assert cpt(scores, WEAK, STRONG, 0.5) == pytest.approx(0.875)


def test_ties_are_crossed_in_a_straight_line() -> None:
    # a constant scorer is exactly random routing: APGR 0.5, CPT(f) = f
    curve = routing_curve([0.3] * 4, WEAK, STRONG)
    assert curve.points == [(0.0, 0.5), (1.0, 0.75)]
    assert curve.apgr() == pytest.approx(0.5)
    assert curve.cpt(0.5) == pytest.approx(0.5)
    assert curve.cpt(0.8) == pytest.approx(0.8)
    # a tie between the two gaining prompts only: same as any order of them
    assert apgr([0.9, 0.9, 0.1, 0.2], [0, 0, 1, 1], [1, 1, 1, 0]) == pytest.approx(1.125)


def test_oracle_beats_random_on_random_data() -> None:
    rng = random.Random(1)
    weak = [rng.random() < 0.6 for _ in range(500)]
    strong = [rng.random() < 0.8 for _ in range(500)]
    oracle = [int(s) - int(w) for w, s in zip(weak, strong, strict=True)]
    assert apgr(oracle, weak, strong) > 1.0
    noise = [rng.random() for _ in range(500)]
    assert 0.35 < apgr(noise, weak, strong) < 0.65


def test_no_gap_gives_nan() -> None:
    assert math.isnan(apgr([0.1, 0.2], [1, 0], [1, 0]))
    assert math.isnan(cpt([0.1, 0.2], [1, 1], [0, 1], 0.5))


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        routing_curve([], [], [])
    with pytest.raises(ValueError):
        routing_curve([0.1], [1, 0], [1])
    with pytest.raises(ValueError):
        cpt(SCORES, WEAK, STRONG, 1.5)


def test_nan_scores_are_an_error_not_an_endless_loop() -> None:
    with pytest.raises(ValueError, match="NaN"):
        apgr([0.1, float("nan"), 0.8], [1, 0, 0], [1, 1, 1])


def test_calibration_picks_the_threshold_whose_share_is_closest_across_ties() -> None:
    from router.learned.calibrate import achieved_share, threshold_for_share

    scores = [0.5, 0.5, 0.5, 0.1]  # three tied scores move together: 0%, 75% or 100%
    assert threshold_for_share(scores, 0.25) == float("inf")  # 0% is closer than 75%
    assert achieved_share(scores, threshold_for_share(scores, 0.6)) == 0.75
    ties = [0.9, 0.8] + [0.1] * 8  # 8 x "hi" and 2 hard prompts
    assert achieved_share(ties, threshold_for_share(ties, 0.3)) == 0.2  # not 1.0
