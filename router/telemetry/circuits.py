"""Circuit-breaker changes as span events on the attempt that caused them.

The breaker reports a change with no request attached (``circuit_changed(backend, old,
new)``). A circuit opens or closes while the attempt whose result decided it is still open,
so the event goes on the newest attempt span in flight on that backend. It turns half-open
when a cooldown ends, which no attempt causes: that event waits, with the time it happened,
for the next attempt on the backend (the probe) and is recorded on its span.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from opentelemetry.trace import Span

from router.telemetry import attributes as a

_PENDING_MAX = 8  # events kept per backend until its next attempt


class CircuitEvents:
    """Attempt spans in flight, by backend name; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[str, list[Span]] = {}
        self._pending: dict[str, list[tuple[dict[str, Any], int]]] = {}

    def started(self, backend: str, span: Span) -> None:
        """An attempt span opened on ``backend``; it receives any event that was waiting."""
        with self._lock:
            self._inflight.setdefault(backend, []).append(span)
            pending = self._pending.pop(backend, None)
        for attrs, at in pending or ():
            span.add_event(a.EVENT_CIRCUIT, attrs, timestamp=at)

    def ended(self, backend: str, span: Span) -> None:
        with self._lock:
            flying = self._inflight.get(backend)
            if flying and span in flying:
                flying.remove(span)
                if not flying:
                    del self._inflight[backend]

    def changed(self, backend: str, old: str, new: str) -> None:
        attrs = {a.BACKEND: backend, a.CIRCUIT_FROM: old, a.CIRCUIT_STATE: new}
        with self._lock:
            flying = self._inflight.get(backend)
            if flying:
                span = flying[-1]
            else:
                pending = self._pending.setdefault(backend, [])
                pending.append((attrs, time.time_ns()))
                del pending[:-_PENDING_MAX]
                return
        span.add_event(a.EVENT_CIRCUIT, attrs)
