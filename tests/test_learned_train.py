"""Training internals: soft labels toward a subject's rate, and the soft-label fit."""

from __future__ import annotations

import pytest

from router.learned.features import extract
from router.learned.outcomes import Outcome
from router.learned.train import TrainConfig, _targets

np = pytest.importorskip("numpy")

MC = "\nA. yes\nB. no\nAnswer:"


def _row(prompt: str, weak: bool, strong: bool, subject: str) -> Outcome:
    return Outcome((prompt,), weak, strong, subject)


def test_targets_are_softened_toward_the_subject_rate_only_where_subjects_vary() -> None:
    rows = [
        _row("q1" + MC, False, True, "law"),
        _row("q2" + MC, False, False, "law"),
        _row("q3" + MC, True, True, "math"),
        _row("q4" + MC, True, True, ""),  # no subject: kept as is
        _row("free 1", True, False, "gsm8k"),  # one subject for the whole segment: kept
        _row("free 2", False, True, "gsm8k"),
    ]
    feats = [extract(r.turns) for r in rows]
    config = TrainConfig(subject_smoothing=0.5, subject_prior=0.0)
    strong = _targets(rows, feats, "strong", config)
    assert strong.tolist() == [0.75, 0.25, 1.0, 1.0, 0.0, 1.0]
    off = _targets(rows, feats, "strong", TrainConfig(subject_smoothing=0.0))
    assert off.tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    # with a prior, a subject's rate is shrunk toward the overall rate (here 4/6 on mc+free)
    shrunk = _targets(rows, feats, "strong", TrainConfig(subject_smoothing=1.0, subject_prior=2.0))
    overall = 4 / 6
    assert shrunk[0] == pytest.approx((1 + 2 * overall) / 4)


def test_soft_label_fit_matches_the_rate() -> None:
    from router.learned.logistic import SparseRows, fit_logistic

    # intercept only: the fit must return the log-odds of the mean target
    n = 8
    X = SparseRows(np.arange(n + 1), np.zeros(n, dtype=int), np.ones(n), 1)
    y = np.array([0.3] * 4 + [0.5] * 4)
    w = fit_logistic(X, y, l2=0.0)
    assert 1 / (1 + np.exp(-w[0])) == pytest.approx(0.4, abs=1e-4)
