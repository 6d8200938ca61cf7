"""Cross-validated APGR and CPT of the learned scorer, per outcomes file.

All files are pooled and trained together, as ``hybrid-router train`` does; each file's rows
are dealt into ``k`` folds with a fixed seed, every row is scored by the model trained
without its fold, and the out-of-fold scores are evaluated file by file. From the command line::

    hybrid-router eval --cv 5 --seed 0 --json --outcomes tests/data/routing-outcomes/*.jsonl
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from router.learned.features import extract
from router.learned.metrics import routing_curve
from router.learned.outcomes import Outcome
from router.learned.train import TrainConfig, train_model

__all__ = ["cross_validate", "summarise"]


def summarise(name: str, scores: Sequence[float], rows: Sequence[Outcome]) -> dict[str, Any]:
    """The metrics line ``hybrid-router eval`` prints for one file."""
    curve = routing_curve(scores, [r.weak_correct for r in rows], [r.strong_correct for r in rows])
    return {
        "file": name,
        "apgr": _num(curve.apgr()),
        "cpt50": _num(curve.cpt(0.5)),
        "cpt80": _num(curve.cpt(0.8)),
        "weak_accuracy": round(curve.weak_accuracy, 4),
        "strong_accuracy": round(curve.strong_accuracy, 4),
        "n": curve.n,
    }


def _num(x: float) -> float | None:
    return None if x != x else round(x, 4)  # NaN -> null: JSON has no NaN


def cross_validate(
    files: Sequence[tuple[str, Sequence[Outcome]]],
    config: TrainConfig | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    keep_scores: bool = False,
) -> list[dict[str, Any]]:
    """Out-of-fold metrics for each file (see the module docstring)."""
    from router.learned.model import LearnedScorer

    config = config or TrainConfig(quantile_folds=0)
    rows: list[Outcome] = []
    fold_of: list[int] = []
    spans = []
    rng = random.Random(seed)
    for _name, file_rows in files:
        order = list(range(len(file_rows)))
        rng.shuffle(order)
        assignment = [0] * len(file_rows)
        for rank, i in enumerate(order):
            assignment[i] = rank % folds
        spans.append((len(rows), len(rows) + len(file_rows)))
        rows.extend(file_rows)
        fold_of.extend(assignment)
    feats = [extract(r.turns) for r in rows]
    scores = [0.0] * len(rows)
    for k in range(folds):
        if progress:
            progress(f"fold {k + 1}/{folds}")
        train = [rows[i] for i in range(len(rows)) if fold_of[i] != k]
        scorer = LearnedScorer(train_model(train, config))
        for i in range(len(rows)):
            if fold_of[i] == k:
                scores[i] = scorer.score_features(feats[i])
    out = []
    for (name, _), (a, b) in zip(files, spans, strict=False):
        line = summarise(name, scores[a:b], rows[a:b])
        if keep_scores:
            line["_scores"] = scores[a:b]
        out.append(line)
    return out
