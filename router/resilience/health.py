"""What the router knows about each backend right now: circuit state and latency.

:meth:`HealthBook.states` turns it into the :class:`~router.decision.BackendState` values the
pure decision reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.config import BackendSpec
from router.decision import BackendState
from router.resilience.breaker import ADMITTED, CircuitBreaker, counts_against_backend
from router.resilience.latency import LatencyTracker

_OK = BackendState()


class HealthBook:
    """Circuit breakers and latency trackers for a set of backends."""

    def __init__(
        self,
        specs: Sequence[BackendSpec],
        *,
        failure_threshold: int = 5,
        window_s: float = 30.0,
        cooldown_s: float = 15.0,
        clock: Any = None,
    ) -> None:
        self.observer: Any = None
        self.breakers: dict[str, CircuitBreaker] = {}
        self.latency: dict[str, LatencyTracker] = {}
        self._assumed_output = 256
        self._queued: set[str] = {s.name for s in specs}  # until watch_queues says otherwise
        for spec in specs:
            self.breakers[spec.name] = CircuitBreaker(
                failure_threshold,
                window_s,
                cooldown_s,
                clock=clock,
                on_change=self._changed(spec.name),
            )
            self.latency[spec.name] = LatencyTracker(prior_ms=spec.expected_latency_ms)

    def _changed(self, name: str):
        def hook(old: str, new: str) -> None:
            if self.observer is not None:
                self.observer.circuit_changed(name, old, new)

        return hook

    def states(
        self, backends: Mapping[str, Any], output_tokens: int | None = None
    ) -> dict[str, BackendState]:
        """Current state of every backend whose state is not plain healthy."""
        out: dict[str, BackendState] = {}
        for name in self.breakers:
            state = self.state(name, backends.get(name), output_tokens)
            if state is not None:
                out[name] = state
        return out

    def state(
        self, name: str, backend: Any = None, output_tokens: int | None = None
    ) -> BackendState | None:
        """One backend's state, or ``None`` when it is healthy with nothing to predict."""
        reason = self.breakers[name].blocked_reason()
        depth = backend.queue_depth() if name in self._queued and backend is not None else 0
        predicted = self.latency[name].predict_ms(output_tokens or self._assumed_output, depth)
        if reason is None and predicted is None and depth == 0:
            return None
        return BackendState(
            available=reason is None,
            reason=reason or "",
            predicted_latency_ms=predicted,
            queue_depth=depth,
        )

    def watch_queues(self, backends: Mapping[str, Any]) -> None:
        """Note which backends keep a local queue (in-process models) worth reading."""
        from router.backends.base import Backend

        self._queued = {
            name for name, b in backends.items() if type(b).queue_depth is not Backend.queue_depth
        }

    def admit(self, name: str) -> str | None:
        """Claim a breaker slot before an attempt: the admission to hand back to
        :meth:`release`, :meth:`record_success`, :meth:`record_failure` or :meth:`abandoned`
        (a probe's token for the single probe of a half-open circuit), or ``None`` when the
        circuit refuses."""
        return self.breakers[name].admit()

    def release(self, name: str, admission: str | None) -> None:
        """An admitted attempt that was never sent."""
        self.breakers[name].release(admission)

    def started(self, name: str) -> None:
        self.latency[name].started()

    def record_success(
        self,
        name: str,
        total_s: float,
        ttft_s: float | None,
        output_tokens: int,
        admission: str | None = ADMITTED,
    ) -> None:
        self.breakers[name].success(admission)
        tracker = self.latency[name]
        tracker.ended()
        tracker.observe(total_s, ttft_s, output_tokens)

    def record_failure(self, name: str, exc: BaseException, admission: str | None) -> None:
        """A failed attempt: counted against the backend's circuit when the error says
        something about the backend, else only its admission given back."""
        self.latency[name].ended()
        if counts_against_backend(exc):
            self.breakers[name].failure(admission)
        else:
            self.breakers[name].release(admission)

    def abandoned(self, name: str, admission: str | None) -> None:
        """An attempt that neither succeeded nor failed (the caller went away)."""
        self.latency[name].ended()
        self.breakers[name].release(admission)

    def set_prior(self, name: str, prior_ms: float | None) -> None:
        """A latency prior from model metadata, used until observations arrive."""
        tracker = self.latency[name]
        if tracker.prior_ms is None:
            tracker.set_prior(prior_ms)
