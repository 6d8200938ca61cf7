"""Train the learned scorer from outcomes files (needs numpy; inference does not).

The model is two L2-regularised logistic regressions over the same features, one predicting
that the strong tier answers correctly and one that the weak tier does. The routing score is
``(1 + P(strong correct) - P(weak correct)) / 2``: ranking by it ranks prompts by the
expected accuracy gained by sending them to the strong tier, which is exactly what APGR
rewards. (Predicting "weak is wrong" alone wastes strong calls on prompts both tiers fail.)

Features (see :mod:`router.learned.features`): word presence weighted by inverse document
frequency and divided by the square root of the number of distinct words, plus a few dense
numbers; every feature has a shared weight and a per-segment weight (multiple-choice vs
free-form), so one model serves both kinds of prompt.
Everything is deterministic: the vocabulary is sorted by frequency then by word, the fits are
convex, and the only randomness (the folds used to record score quantiles) uses ``seed``.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from router.errors import OutcomesError
from router.learned.features import DENSE_NAMES, HEAD_CHARS, SHORT_TURN, TAIL_CHARS, extract
from router.learned.logistic import SparseRows, fit_logistic, require_numpy
from router.learned.outcomes import Outcome

__all__ = ["FORMAT", "SEGMENTS", "TrainConfig", "train_model"]

FORMAT = "hybrid-router.learned-scorer/1"
SEGMENTS = ("free", "mc")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    """Knobs of :func:`train_model`; the defaults are what the shipped model uses."""

    min_df: int = 2
    """A word must occur in at least this many training prompts to get a weight."""
    max_vocab: int = 30000
    """Keep at most this many words (the most frequent), which bounds the model file."""
    c: float = 0.3
    """Inverse regularisation strength (as in most libraries: larger fits the data harder)."""
    word_min_rows: int = 100
    """A segment with fewer training prompts than this is scored without words, from its
    dense features only: a bag of words needs data."""
    segment_min_df: int = 2
    """A word gets a per-segment weight only if that many prompts of the segment have it."""
    dense_scale: float = 1.0
    """Dense features are scaled by this after standardising: above 1 they are penalised less."""
    subject_smoothing: float = 0.5
    """Train each head on ``(1 - s) * outcome + s * rate of the prompt's subject`` (soft
    labels; rows without a subject keep their outcome). The subject is read at training time
    only, to denoise the targets: at run time the model still sees the prompt alone."""
    subject_prior: float = 20.0
    """Subject rates are shrunk toward the overall rate as if from this many extra prompts."""
    quantile_folds: int = 3
    """Folds used to record out-of-fold score quantiles (0: use in-sample scores)."""
    seed: int = 0


def _features(rows: Sequence[Outcome]) -> list[Any]:
    return [extract(r.turns) for r in rows]


def _vocabulary(
    feats: Sequence[Any], config: TrainConfig
) -> tuple[list[bytes], list[float], dict[str, set[bytes] | None]]:
    """Words kept (most frequent first), their idf, and each segment's own words.

    A segment maps to ``None`` when it has too few prompts to use words at all.
    """
    df: Counter[bytes] = Counter()
    seg_df: dict[str, Counter[bytes]] = {seg: Counter() for seg in SEGMENTS}
    for f in feats:
        df.update(f.words)
        seg_df[f.segment].update(f.words)
    kept = sorted((w for w, c in df.items() if c >= config.min_df), key=lambda w: (-df[w], w))
    kept = kept[: config.max_vocab]
    n = len(feats)
    idf = [math.log((1 + n) / (1 + df[w])) + 1.0 for w in kept]
    rows_in = Counter(f.segment for f in feats)
    per_segment: dict[str, set[bytes] | None] = {
        seg: (
            {w for w in kept if seg_df[seg][w] >= config.segment_min_df}
            if rows_in[seg] >= config.word_min_rows
            else None
        )
        for seg in SEGMENTS
    }
    return kept, idf, per_segment


class _Design:
    """Maps features to columns: bias, segment flags, then words and dense features twice.

    Every word and dense feature has a shared column and a column for its segment (only for
    words seen often enough in that segment), so segments share what they have in common and
    differ where the data says they do.
    """

    def __init__(
        self,
        vocab: list[bytes],
        idf: list[float],
        per_segment: dict[str, set[bytes] | None],
        feats: Sequence[Any],
        dense_scale: float,
    ) -> None:
        np = require_numpy()
        self.vocab, self.idf = vocab, idf
        self.dense_scale = dense_scale
        dense = np.array([f.dense for f in feats], dtype=float)
        self.mean = dense.mean(axis=0)
        self.std = (dense.std(axis=0) + 1e-6) / dense_scale
        n_dense = len(DENSE_NAMES)
        col = 1 + len(SEGMENTS)
        # block -> (word -> column, first dense column)
        self.blocks: dict[str, tuple[dict[bytes, int], int]] = {}
        for block in ("shared", *SEGMENTS):
            allowed = None if block == "shared" else (per_segment[block] or set())
            index = {}
            for w in vocab:
                if allowed is None or w in allowed:
                    index[w] = col
                    col += 1
            self.blocks[block] = (index, col)
            col += n_dense
        self.n_cols = col
        self.wordless = {seg for seg in SEGMENTS if per_segment[seg] is None}
        # Word values are idf / sqrt(distinct words); rescale them so a typical prompt's word
        # vector has norm 1, which keeps the meaning of ``c`` independent of the vocabulary.
        idf_of = dict(zip(vocab, idf, strict=True))
        norms = sorted(
            # fsum: exact, so the result does not depend on the set's (hash-seeded) order
            math.sqrt(math.fsum(idf_of.get(w, 0.0) ** 2 for w in f.words) / max(len(f.words), 1))
            for f in feats
        )
        self.word_scale = norms[len(norms) // 2] or 1.0
        self.idf_of = {w: x / self.word_scale for w, x in idf_of.items()}

    def rows(self, feats: Sequence[Any]) -> SparseRows:
        np = require_numpy()
        indptr, indices, values = [0], [], []
        shared = self.blocks["shared"][0]
        for f in feats:
            words = [] if f.segment in self.wordless else sorted(w for w in f.words if w in shared)
            weights = [self.idf_of[w] for w in words]
            norm = math.sqrt(len(f.words)) or 1.0  # all distinct words: see features.py
            dense = [(x - m) / s for x, m, s in zip(f.dense, self.mean, self.std, strict=False)]
            row_i = [0, 1 + SEGMENTS.index(f.segment)]
            row_v = [1.0, 1.0]
            for block in ("shared", f.segment):
                index, first_dense = self.blocks[block]
                for w, x in zip(words, weights, strict=False):
                    c = index.get(w)
                    if c is not None:
                        row_i.append(c)
                        row_v.append(x / norm)
                row_i += range(first_dense, first_dense + len(dense))
                row_v += dense
            indices += row_i
            values += row_v
            indptr.append(len(indices))
        return SparseRows(
            np.array(indptr), np.array(indices), np.array(values, dtype=float), self.n_cols
        )

    def export(self, w: Any) -> dict[str, Any]:
        """Fold shared and segment weights, idf and standardisation into per-segment tables."""
        shared, shared_dense = self.blocks["shared"]
        out: dict[str, Any] = {}
        for k, seg in enumerate(SEGMENTS):
            index, first_dense = self.blocks[seg]
            coef = [
                (w[shared_dense + j] + w[first_dense + j]) / self.std[j]
                for j in range(len(DENSE_NAMES))
            ]
            bias = w[0] + w[1 + k] - sum(c * m for c, m in zip(coef, self.mean, strict=False))
            words = {}
            for word, col in [] if seg in self.wordless else shared.items():
                x = (w[col] + (w[index[word]] if word in index else 0.0)) * self.idf_of[word]
                if abs(x) >= 1e-6:
                    words[word.decode("utf-8", "surrogateescape")] = _round(x)
            out[seg] = {"bias": _round(bias), "dense": [_round(c) for c in coef], "words": words}
        return out


def _round(x: float) -> float:
    return float(f"{float(x):.5g}")


def _targets(rows: Sequence[Outcome], feats: Sequence[Any], head: str, config: TrainConfig) -> Any:
    """Each row's target for ``head``: its outcome, softened toward its subject's rate.

    Only a segment whose prompts span several subjects is softened: a subject that is the
    whole segment (GSM8K) says nothing about one prompt against another.
    """
    np = require_numpy()
    y = np.array([getattr(r, f"{head}_correct") for r in rows], dtype=float)
    s = config.subject_smoothing
    if s <= 0:
        return y
    subjects: dict[str, set[str]] = {}
    for r, f in zip(rows, feats, strict=True):
        subjects.setdefault(f.segment, set()).add(r.subject)
    varied = {seg for seg, subs in subjects.items() if len(subs) > 1}
    use = [bool(r.subject) and f.segment in varied for r, f in zip(rows, feats, strict=True)]
    overall = float(y.mean())
    totals: dict[str, list[float]] = {}
    for r, v, u in zip(rows, y, use, strict=True):
        if u:
            t = totals.setdefault(r.subject, [0.0, 0.0])
            t[0] += v
            t[1] += 1.0
    m = config.subject_prior
    rate = {k: (a + m * overall) / (b + m) for k, (a, b) in totals.items()}
    soft = [
        (1 - s) * v + s * rate[r.subject] if u else v for r, v, u in zip(rows, y, use, strict=True)
    ]
    return np.array(soft, dtype=float)


def _fit_heads(
    X: SparseRows, rows: Sequence[Outcome], feats: Sequence[Any], config: TrainConfig
) -> dict:
    l2 = 1.0 / (config.c * X.n_rows)
    return {
        head: fit_logistic(X, _targets(rows, feats, head, config), l2)
        for head in ("strong", "weak")
    }


def _build(rows: Sequence[Outcome], feats: Sequence[Any], config: TrainConfig) -> dict:
    vocab, idf, per_segment = _vocabulary(feats, config)
    design = _Design(vocab, idf, per_segment, feats, config.dense_scale)
    X = design.rows(feats)
    heads = _fit_heads(X, rows, feats, config)
    tables = {head: design.export(w) for head, w in heads.items()}
    segments = {seg: {head: tables[head][seg] for head in heads} for seg in SEGMENTS}
    return {"segments": segments}


def _quantiles(scores: list[float]) -> list[float]:
    s = sorted(scores)
    out = []
    for q in range(101):
        pos = q / 100 * (len(s) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(s) - 1)
        out.append(_round(s[lo] + (pos - lo) * (s[hi] - s[lo])))
    return out


def _stable_score(scorer: Any, f: Any) -> float:
    """Score with the words in a fixed order, so the sum (and the file) does not depend on
    Python's per-process hash seed, which orders sets."""
    return scorer.score_features(f._replace(words=sorted(f.words)))


def train_model(
    rows: Sequence[Outcome],
    config: TrainConfig | None = None,
    *,
    sources: Sequence[str] = (),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on ``rows`` and return the model as a JSON-ready dict (see :mod:`.model`)."""
    from router.learned.model import LearnedScorer

    config = config or TrainConfig()
    say = progress or (lambda _msg: None)
    if len(rows) < 10:
        raise OutcomesError(f"need at least 10 outcomes to train, got {len(rows)}")
    say(f"extracting features from {len(rows)} prompts")
    feats = _features(rows)
    say("fitting the strong and weak heads on all prompts")
    body = _build(rows, feats, config)
    model = {"format": FORMAT, **body}
    folds = config.quantile_folds
    if folds >= 2 and len(rows) >= 5 * folds:
        oof: list[float] = [0.0] * len(rows)
        order = list(range(len(rows)))
        random.Random(config.seed).shuffle(order)
        for k in range(folds):
            say(f"out-of-fold scores for the share table: fold {k + 1}/{folds}")
            test = order[k::folds]
            held = set(test)
            train = [i for i in range(len(rows)) if i not in held]
            part = _build([rows[i] for i in train], [feats[i] for i in train], config)
            scorer = LearnedScorer({"format": FORMAT, **part, "quantiles": [0.0, 1.0]})
            for i in test:
                oof[i] = _stable_score(scorer, feats[i])
        scores = oof
    else:
        scorer = LearnedScorer({**model, "quantiles": [0.0, 1.0]})
        scores = [_stable_score(scorer, f) for f in feats]
    model["quantiles"] = _quantiles(scores)
    model["training"] = {
        "sources": list(sources),
        "n": len(rows),
        "strong_accuracy": round(sum(r.strong_correct for r in rows) / len(rows), 4),
        "weak_accuracy": round(sum(r.weak_correct for r in rows) / len(rows), 4),
        "config": asdict(config),
        "window": {"head": HEAD_CHARS, "tail": TAIL_CHARS, "short_turn": SHORT_TURN},
        "dense": list(DENSE_NAMES),
    }
    say(f"done: {len(body['segments']['mc']['strong']['words'])} words")
    return model
