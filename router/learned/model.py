"""The learned complexity scorer: a trained model file turned into a fast, pure-Python scorer.

:class:`LearnedScorer` implements :class:`router.classify.complexity.ComplexityScorer`. For a
conversation it extracts a few features (:mod:`router.learned.features`), sums the weights of
the words present in one table (both heads packed in a complex number, so one C-level
``sum(map(...))`` serves both), and returns ``(1 + P(strong correct) - P(weak correct)) / 2``,
in [0, 1]. Above 0.5 the strong tier is expected to do better. No numpy, no network and no
I/O after loading.

The model file is JSON, optionally gzip-compressed (``.gz``). It also records quantiles of
out-of-fold training scores, so :meth:`LearnedScorer.threshold_for_share` turns "send 20% of
traffic to the strong tier" into a threshold without any data at run time.

>>> scorer = load_default()
>>> 0.0 <= scorer.score(["Prove that there are infinitely many primes."]) <= 1.0
True
>>> scorer.threshold_for_share(1.0)
0.0
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from importlib import resources
from itertools import repeat
from operator import mul
from pathlib import Path
from typing import Any

from router.errors import InvalidRequest, ModelFileError
from router.learned.features import DENSE_NAMES, Features, extract

__all__ = ["DEFAULT_MODEL", "LearnedScorer", "ModelFileError", "load_default"]

DEFAULT_MODEL = "default_model.json.gz"
"""File name of the shipped model, inside the ``router.learned`` package."""

_FORMAT = "hybrid-router.learned-scorer/1"


_MAX_WEIGHT = 1e6  # trained weights are regularised to a few units


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class _Segment:
    """One segment's two heads: biases, dense coefficients, and word weights.

    Word weights are packed as ``complex(strong, weak)`` so one ``sum`` adds up both heads.
    """

    __slots__ = (
        "_words",
        "bias_strong",
        "bias_weak",
        "dense_strong",
        "dense_weak",
        "get",
        "has_words",
    )

    def __init__(self, strong: Mapping[str, Any], weak: Mapping[str, Any]) -> None:
        self.bias_strong = float(strong["bias"])
        self.bias_weak = float(weak["bias"])
        self.dense_strong = tuple(map(float, strong["dense"]))
        self.dense_weak = tuple(map(float, weak["dense"]))
        s_words, w_words = strong["words"], weak["words"]
        words = {
            k.encode("utf-8", "surrogateescape"): complex(
                float(s_words.get(k, 0.0)), float(w_words.get(k, 0.0))
            )
            for k in set(s_words) | set(w_words)
        }
        self.get = words.get
        self.has_words = bool(words)
        self._words = words

    def numbers(self) -> list[float]:
        """Every weight of this segment, to check they are finite."""
        w = self._words.values()
        return [
            self.bias_strong, self.bias_weak, *self.dense_strong, *self.dense_weak,
            *(c.real for c in w), *(c.imag for c in w),
        ]  # fmt: skip


class LearnedScorer:
    """Scores how much a conversation needs the strong tier, from a trained model.

    Build one with :meth:`load` (a path) or :func:`load_default` (the shipped model).
    """

    name = "learned"

    def __init__(self, model: Mapping[str, Any], *, source: str = "<memory>") -> None:
        if model.get("format") != _FORMAT:
            raise ModelFileError(f"{source}: not a learned-router model (format {_FORMAT})")
        try:
            self._segments = {
                seg: _Segment(tables["strong"], tables["weak"])
                for seg, tables in model["segments"].items()
            }
            self._quantiles = [float(q) for q in model["quantiles"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{source}: malformed model ({exc!r})") from None
        missing = {"free", "mc"} - set(self._segments)
        if missing:
            raise ModelFileError(f"{source}: malformed model (no segment {sorted(missing)})")
        numbers = [q for seg in self._segments.values() for q in seg.numbers()]
        if not self._quantiles or not all(map(math.isfinite, [*self._quantiles, *numbers])):
            raise ModelFileError(f"{source}: malformed model (quantiles or weights not finite)")
        if max(map(abs, numbers), default=0.0) > _MAX_WEIGHT:
            # finite, but large enough that inf - inf makes a score NaN
            raise ModelFileError(f"{source}: malformed model (a weight above {_MAX_WEIGHT:g})")
        if self._quantiles != sorted(self._quantiles):
            raise ModelFileError(f"{source}: malformed model (quantiles not in order)")
        for seg in self._segments.values():
            if len(seg.dense_strong) != len(DENSE_NAMES) or len(seg.dense_weak) != len(DENSE_NAMES):
                raise ModelFileError(
                    f"{source}: the model has {len(seg.dense_strong)} dense features, this "
                    f"version computes {len(DENSE_NAMES)}; retrain it with hybrid-router train"
                )
        self.source = source
        self.training: Mapping[str, Any] = model.get("training", {})

    @classmethod
    def load(cls, path: str | Path) -> LearnedScorer:
        """Load a model file written by ``hybrid-router train`` (JSON or gzip'd JSON)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            model = json.loads(raw)
        except OSError as exc:
            raise ModelFileError(f"{path}: cannot read model ({exc.strerror or exc})") from None
        except (ValueError, EOFError, RecursionError, zlib.error) as exc:
            raise ModelFileError(f"{path}: not a JSON model file ({exc})") from None
        if not isinstance(model, dict):
            raise ModelFileError(f"{path}: not a learned-router model")
        return cls(model, source=str(path))

    def score(self, turns: Sequence[str]) -> float:
        """Score the conversation whose user turns are ``turns`` (oldest first), in [0, 1]."""
        if not turns:
            return 0.0
        return self.score_features(extract(turns))

    def score_features(self, f: Features) -> float:
        """Score already-extracted features (used by training and evaluation)."""
        seg = self._segments[f.segment]
        words = f.words
        z_strong, z_weak = seg.bias_strong, seg.bias_weak
        if words and seg.has_words:
            both = sum(map(seg.get, words, _ZEROS), 0j) / math.sqrt(len(words))
            z_strong += both.real
            z_weak += both.imag
        z_strong += sum(map(mul, f.dense, seg.dense_strong))
        z_weak += sum(map(mul, f.dense, seg.dense_weak))
        return 0.5 * (1.0 + _sigmoid(z_strong) - _sigmoid(z_weak))

    def threshold_for_share(self, share: float) -> float:
        """The threshold that sends about ``share`` of traffic to the strong tier.

        Route to the strong tier when ``score >= threshold``. Computed from quantiles of
        out-of-fold scores recorded at training time; traffic unlike the training data will
        see a different share, which ``hybrid-router calibrate`` measures on your own file.
        """
        if not 0.0 <= share <= 1.0:  # also NaN
            raise InvalidRequest(f"share must be in [0, 1], got {share}", field="share")
        if share >= 1.0:
            return 0.0
        if share <= 0.0:
            return math.inf
        q = self._quantiles
        pos = (1.0 - share) * (len(q) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(q) - 1)
        return q[lo] + (pos - lo) * (q[hi] - q[lo])


_ZEROS = repeat(0j)  # the weight of a word the model does not know

_default: LearnedScorer | None = None


def load_default() -> LearnedScorer:
    """The model shipped in the package (loaded once, then shared)."""
    global _default
    if _default is None:
        ref = resources.files("router.learned").joinpath(DEFAULT_MODEL)
        try:
            with resources.as_file(ref) as path:
                _default = LearnedScorer.load(path)
        except FileNotFoundError:
            raise ModelFileError(f"the shipped model {DEFAULT_MODEL} is missing") from None
    return _default
