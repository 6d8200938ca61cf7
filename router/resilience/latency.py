"""Per-backend latency: EWMA and sliding-window percentiles of time to first token (TTFT)
and time per output token (TPOT), plus requests in flight.

Prediction for a request expecting ``n`` output tokens::

    predicted = TTFT + n * TPOT + queue wait

scaled by the requests queued ahead of it in this process. Before any observation, a prior
stands in: ``expected_latency_ms`` from the configuration, else an estimate from the
model's metadata (:func:`prior_from_metadata`), both the time of a 256-token answer and
scaled to the ``n`` expected; the first observation replaces it. A prediction from
observations, or a prior, older than a minute is dropped (see :meth:`LatencyTracker.
predict_ms`), so a backend excluded for one slow answer, or for a pessimistic guess, is
tried again and measured.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LatencySnapshot:
    samples: int
    in_flight: int
    ttft_ewma_ms: float | None
    tpot_ewma_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    tpot_p50_ms: float | None
    tpot_p95_ms: float | None
    total_p50_ms: float | None
    total_p95_ms: float | None


# On CPUs, generating a token streams the active weights through memory once; this is the
# effective rate assumed for the prior (a laptop-class 2-core machine), not a measurement.
_PRIOR_BYTES_PER_MS = 2e6
PRIOR_OUTPUT_TOKENS = 256
"""A prior is the time of an answer this long; a request expecting ``n`` tokens is
predicted at ``n / 256`` of it."""


def prior_from_metadata(metadata: dict) -> float | None:
    """A cold-start latency guess (ms for 256 output tokens) from GGUF metadata: weights
    that are active per token (all of a dense model; the shared part plus the used experts
    of a mixture of experts) over an assumed memory rate. ``None`` without a file size."""
    size = metadata.get("file_size_bytes")
    if not size:
        return None
    experts, used = metadata.get("expert_count") or 0, metadata.get("expert_used_count") or 0
    active = size if not experts else size * (0.3 + 0.7 * used / experts)
    return round(PRIOR_OUTPUT_TOKENS * active / _PRIOR_BYTES_PER_MS, 1)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[i]


class LatencyTracker:
    """Latency statistics of one backend. Thread-safe."""

    def __init__(
        self,
        prior_ms: float | None = None,
        alpha: float = 0.2,
        window: int = 256,
        *,
        stale_after_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.alpha = alpha
        self.prior_ms = prior_ms
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._last_at: float | None = None
        self._since = clock()  # when the prior was set: it ages like an observation
        self._ttft: deque[float] = deque(maxlen=window)
        self._tpot: deque[float] = deque(maxlen=window)
        self._total: deque[float] = deque(maxlen=window)
        self._ttft_ewma: float | None = None
        self._tpot_ewma: float | None = None
        self._total_ewma: float | None = None
        self.in_flight = 0
        self._lock = threading.Lock()

    def started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def ended(self) -> None:
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def _ewma(self, old: float | None, x: float) -> float:
        return x if old is None else old + self.alpha * (x - old)

    def observe(self, total_s: float, ttft_s: float | None, output_tokens: int) -> None:
        """Record one successful call (seconds; ``ttft_s`` is known for streams)."""
        total_ms = total_s * 1000.0
        with self._lock:
            self._last_at = self._clock()
            self._total.append(total_ms)
            self._total_ewma = self._ewma(self._total_ewma, total_ms)
            if ttft_s is not None:
                ttft_ms = ttft_s * 1000.0
                if output_tokens > 1:
                    tpot = max(total_ms - ttft_ms, 0.0) / (output_tokens - 1)
                    self._tpot.append(tpot)
                    self._tpot_ewma = self._ewma(self._tpot_ewma, tpot)
            elif self._tpot_ewma is not None and output_tokens > 0:
                ttft_ms = max(total_ms - self._tpot_ewma * output_tokens, 0.0)
            else:
                ttft_ms = total_ms
            self._ttft.append(ttft_ms)
            self._ttft_ewma = self._ewma(self._ttft_ewma, ttft_ms)

    def set_prior(self, prior_ms: float | None) -> None:
        """Set the cold-start guess (ms for a 256-token answer); it ages from now."""
        with self._lock:
            self.prior_ms = prior_ms
            self._since = self._clock()

    def predict_ms(self, output_tokens: int, queue_depth: int = 0) -> float | None:
        """Predicted time to a complete answer, or ``None`` with no data and no prior, or
        when the last observation (or the prior, before any) is older than
        ``stale_after_s``: a backend excluded for being slow gets no new observations, so an
        old prediction would exclude it for good; once stale, the next request tries it
        again and measures afresh."""
        ttft, tpot, total = self._ttft_ewma, self._tpot_ewma, self._total_ewma
        last = self._last_at if self._last_at is not None else self._since
        if self._clock() - last > self.stale_after_s:
            return None
        if ttft is None:
            if self.prior_ms is None:
                return None
            share = max(output_tokens, 1) / PRIOR_OUTPUT_TOKENS
            return self.prior_ms * share * (1 + queue_depth)
        base = ttft + (tpot or 0.0) * output_tokens
        if tpot is None and total is not None:
            base = total
        return base * (1 + queue_depth)

    def snapshot(self) -> LatencySnapshot:
        with self._lock:
            ttft, tpot, total = list(self._ttft), list(self._tpot), list(self._total)
            return LatencySnapshot(
                samples=len(total),
                in_flight=self.in_flight,
                ttft_ewma_ms=self._ttft_ewma,
                tpot_ewma_ms=self._tpot_ewma,
                ttft_p50_ms=_pct(ttft, 0.5),
                ttft_p95_ms=_pct(ttft, 0.95),
                tpot_p50_ms=_pct(tpot, 0.5),
                tpot_p95_ms=_pct(tpot, 0.95),
                total_p50_ms=_pct(total, 0.5),
                total_p95_ms=_pct(total, 0.95),
            )
