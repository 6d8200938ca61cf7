"""A circuit breaker per backend: closed, open, half-open with a single probe.

Closed: requests flow; outcomes inside ``window_s`` are counted. At least
``failure_threshold`` failures making up at least ``failure_ratio`` of the outcomes open
the circuit (a busy backend with a few failures among many successes stays closed): the
backend leaves every decision (``explain`` shows why) for ``cooldown_s``. Then it is
half-open: exactly one request is let through as a probe; its success closes the circuit,
its failure opens it again for another cooldown. Each probe gets its own admission token,
so only that probe's outcome (or its release) settles the half-open circuit: a request
admitted earlier, while the circuit was closed, that ends during the cooldown or the probe
changes nothing. State changes are reported to ``on_change`` after the breaker's lock is
released, so an observer may read the breaker (or the router) from its hook.

Only failures that say something about the backend count (unreachable, timeouts, 5xx,
rate limits, malformed answers); a bad request or a context overflow does not.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from router import errors

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
ADMITTED, PROBE = "admitted", "probe"  # what admit() grants; a probe's token starts "probe"


def is_probe(admission: str | None) -> bool:
    """Whether ``admission`` (from :meth:`CircuitBreaker.admit`) is a half-open probe's."""
    return admission is not None and admission.startswith(PROBE)


_COUNTED = (
    errors.BackendUnavailable,
    errors.BackendTimeout,
    errors.ServerError,
    errors.RateLimited,
    errors.MalformedResponse,
)


def counts_against_backend(exc: BaseException) -> bool:
    """Whether a failure says the backend itself is unwell (busy is not unwell)."""
    return isinstance(exc, _COUNTED) and not getattr(exc, "overloaded", False)


class CircuitBreaker:
    """Thread-safe breaker; ``clock`` is injectable for tests."""

    def __init__(
        self,
        failure_threshold: int = 5,
        window_s: float = 30.0,
        cooldown_s: float = 15.0,
        failure_ratio: float = 0.5,
        clock: Callable[[], float] | None = None,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        import time

        self.failure_threshold = failure_threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.failure_ratio = failure_ratio
        self._clock = clock or time.monotonic
        self._outcomes: deque[tuple[float, bool]] = deque()  # (time, failed)
        self._failed = 0
        self._state = CLOSED
        self._opened_at = 0.0
        self._probe_out = False
        self._probe = ""  # the token of the current half-open cycle's probe
        self._cycle = 0
        self._lock = threading.Lock()
        self._on_change = on_change
        self._changes: list[tuple[str, str]] = []  # made under the lock, reported after

    def _set(self, new: str) -> None:
        old, self._state = self._state, new
        if old != new and self._on_change is not None:
            self._changes.append((old, new))

    def _report(self) -> None:
        """Tell ``on_change`` what changed, outside the lock."""
        if not self._changes:
            return
        with self._lock:
            changes, self._changes = self._changes, []
        for old, new in changes:
            self._on_change(old, new)  # type: ignore[misc]

    @property
    def state(self) -> str:
        with self._lock:
            self._tick()
            state = self._state
        self._report()
        return state

    def _tick(self) -> None:
        if self._state == OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            self._set(HALF_OPEN)
            self._probe_out = False
            self._cycle += 1
            self._probe = f"{PROBE}:{self._cycle}"

    def blocked_reason(self) -> str | None:
        """Why the backend may not be used now, without claiming anything; else ``None``."""
        if self._state == CLOSED:  # the common case, read without the lock (one attribute)
            return None
        with self._lock:
            self._tick()
            reason = None
            if self._state == OPEN:
                left = self.cooldown_s - (self._clock() - self._opened_at)
                reason = (
                    f"circuit open after {self.failure_threshold}+ failures "
                    f"({self.failure_ratio:.0%}+ of calls) in {self.window_s:g} s; "
                    f"half-open probe in {max(left, 0):.1f} s"
                )
            elif self._state == HALF_OPEN and self._probe_out:
                reason = "circuit half-open: a probe request is in flight"
        self._report()
        return reason

    def admit(self) -> str | None:
        """Claim the right to send a request now: :data:`ADMITTED`, the token of the single
        probe of a half-open circuit (it starts with :data:`PROBE`, see :func:`is_probe`; hand
        it back to :meth:`success`, :meth:`failure` or :meth:`release`), or ``None`` when the
        circuit refuses."""
        if self._state == CLOSED:
            return ADMITTED
        with self._lock:
            self._tick()
            granted = None
            if self._state == CLOSED:
                granted = ADMITTED
            elif self._state == HALF_OPEN and not self._probe_out:
                self._probe_out = True
                granted = self._probe
        self._report()
        return granted

    def _record(self, now: float, failed: bool) -> None:
        self._outcomes.append((now, failed))
        self._failed += failed
        while self._outcomes and now - self._outcomes[0][0] > self.window_s:
            self._failed -= self._outcomes.popleft()[1]

    def success(self, admission: str | None = ADMITTED) -> None:
        """An attempt admitted with ``admission`` succeeded. Closed: counted. Otherwise only
        the current probe's success closes the circuit."""
        with self._lock:
            if self._state == CLOSED:
                self._record(self._clock(), False)
            elif admission == self._probe and self._state == HALF_OPEN:
                self._probe_out = False
                self._outcomes.clear()
                self._failed = 0
                self._set(CLOSED)
        self._report()

    def failure(self, admission: str | None = ADMITTED) -> None:
        """An attempt admitted with ``admission`` failed in a way that counts against the
        backend. Closed: counted, and the circuit opens past the threshold. Half-open: only
        the current probe's failure opens it again."""
        with self._lock:
            now = self._clock()
            if self._state == HALF_OPEN:
                if admission == self._probe:
                    self._probe_out = False
                    self._opened_at = now
                    self._set(OPEN)
            elif self._state == CLOSED:
                self._record(now, True)
                if self._failed >= self.failure_threshold and self._failed >= (
                    self.failure_ratio * len(self._outcomes)
                ):
                    self._outcomes.clear()
                    self._failed = 0
                    self._opened_at = now
                    self._set(OPEN)
        self._report()

    def release(self, admission: str | None) -> None:
        """End an attempt that settles nothing (never sent, abandoned, or failed in a way
        that says nothing about the backend). Only the current probe's own ``admission``
        frees the probe slot: an attempt admitted earlier (while the circuit was closed, or
        as the probe of an earlier cycle) must not let a second probe through."""
        if not is_probe(admission):
            return
        with self._lock:
            if self._state == HALF_OPEN and admission == self._probe:
                self._probe_out = False
