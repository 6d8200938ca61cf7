"""Which backend to try next: the retry-and-fallback walk over a decision, with no I/O.

The sync, async and streaming drivers in :mod:`router.core` all run the same plan: ask
:meth:`AttemptPlan.next_step`, call the backend, report back with :meth:`succeeded` or
:meth:`failed`. Before every step (first try, retry, fallback, stream restart) the plan
re-checks the candidate through ``recheck``, which re-applies privacy, budget, context
window and health; a candidate that no longer qualifies is skipped, never called.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router import errors
from router.config import BackendSpec
from router.decision import Candidate, Decision
from router.policy.model import Policy
from router.retry import Backoff, after_failure
from router.route import Attempt


@dataclass(slots=True)
class Step:
    """One attempt to make: on ``spec``, after waiting ``delay_s``, within ``timeout_s``."""

    candidate: Candidate
    spec: BackendSpec
    retry: int
    delay_s: float
    timeout_s: float


Recheck = Callable[[BackendSpec], list[str]]


class AttemptPlan:
    """The state of one request's walk through its ranked candidates."""

    def __init__(
        self,
        decision: Decision,
        policy: Policy,
        specs: Mapping[str, BackendSpec],
        recheck: Recheck,
        now: float,
    ) -> None:
        self._pending = deque(decision.ranked)
        self._specs = specs
        self._recheck = recheck
        self._policy = policy

        self.deadline = now + policy.latency.deadline_ms / 1000.0
        self.attempts: list[Attempt] = []
        self.skipped: list[tuple[Candidate, tuple[str, ...]]] = []
        self._retry: Step | None = None
        self._min_window = 0
        self._stop: BaseException | None = None
        self._deadline_hit = False
        self._tried = 0
        self.last_backend: str | None = None

    def stop(self, exc: errors.RouterError) -> None:
        """End the plan now: no further attempt; :meth:`error` returns ``exc``."""
        self._stop = exc

    def next_step(self, now: float) -> Step | None:
        """The next attempt, or ``None`` when the plan is over (then see :meth:`error`)."""
        if self._stop is not None or self._tried >= self._policy.routing.max_attempts:
            return None
        remaining = self.deadline - now
        if remaining <= 0:
            self._deadline_hit = True
            return None
        timeout = min(self._policy.latency.attempt_timeout_ms / 1000.0, remaining)
        retry, self._retry = self._retry, None
        if retry is not None and retry.delay_s < remaining:
            why = self._recheck(retry.spec)
            if not why:
                self._tried += 1
                wait = retry.delay_s
                return Step(
                    retry.candidate, retry.spec, retry.retry, wait, min(timeout, remaining - wait)
                )
            self.skipped.append((retry.candidate, tuple(why)))
        elif retry is not None:
            wait = f"a retry after {retry.delay_s:.2f} s would pass the deadline"
            self.skipped.append((retry.candidate, (wait,)))
        while self._pending:
            cand = self._pending.popleft()
            spec = self._specs[cand.backend]
            if spec.context_window <= self._min_window:
                self.skipped.append(
                    (
                        cand,
                        (
                            f"context window {spec.context_window} is not larger than the one "
                            "that was too small",
                        ),
                    )
                )
                continue
            why = self._recheck(spec)
            if why:
                self.skipped.append((cand, tuple(why)))
                continue
            self._tried += 1
            return Step(cand, spec, 0, 0.0, timeout)
        return None

    def _record(self, step: Step, outcome: str, duration_s: float, exc: BaseException | None):
        self.attempts.append(
            Attempt(
                backend=step.spec.name,
                tier=step.spec.tier,
                outcome=outcome,
                duration_ms=duration_s * 1000.0,
                error_type=type(exc).__name__ if exc is not None else None,
                error=str(exc) if exc is not None else None,
                retry=step.retry,
                waited_ms=step.delay_s * 1000.0,
            )
        )
        self.last_backend = step.spec.name

    def skip(self, step: Step, reason: str) -> None:
        """``step`` turned out not to be allowed just before sending: not an attempt."""
        self._tried -= 1
        self.skipped.append((step.candidate, (reason,)))

    def succeeded(self, step: Step, duration_s: float) -> None:
        self._record(step, "ok", duration_s, None)

    def failed(
        self, step: Step, exc: BaseException, duration_s: float, *, sent: bool = True
    ) -> str:
        """Record a failure; returns what happens next: retry, fallback, larger_window, stop.
        A refusal before sending (``sent=False``: the budget, the privacy guard) is
        recorded but does not use up one of ``max_attempts``."""
        if not sent:
            self._tried -= 1
        self._record(step, "error", duration_s, exc)
        nxt = after_failure(exc)
        if nxt == "stop":
            self._stop = exc
        elif nxt == "larger_window":
            self._min_window = max(self._min_window, step.spec.context_window)
        elif nxt == "retry":
            if step.retry < self._policy.routing.retries:
                delay = _backoff(self._policy).delay(step.retry + 1, exc)
                self._retry = Step(step.candidate, step.spec, step.retry + 1, delay, 0.0)
            else:
                nxt = "fallback"
        return nxt

    def skipped_candidates(self) -> list[Candidate]:
        """The candidates passed over so far, each with why (not eligible)."""
        return [
            Candidate(c.backend, c.tier, c.zone, False, why, c.estimated_cost_usd)
            for c, why in self.skipped
        ]

    @property
    def has_retry(self) -> bool:
        return self._retry is not None

    @property
    def retry_delay_s(self) -> float:
        """The wait before the scheduled retry (0 when none is scheduled)."""
        return self._retry.delay_s if self._retry is not None else 0.0

    @property
    def next_backend(self) -> str | None:
        """The candidate a fallback would try next, if any."""
        return self._pending[0].backend if self._pending else None

    def error(self, candidates: tuple[Candidate, ...] = ()) -> errors.RouterError:
        """The typed error to raise when :meth:`next_step` returned ``None``."""
        if isinstance(self._stop, errors.RouterError):
            return self._stop
        tried = [a for a in self.attempts]
        if self._deadline_hit:
            return errors.DeadlineExceeded(
                f"deadline of {self._policy.latency.deadline_ms:g} ms passed after "
                f"{len(tried)} attempt(s)",
                attempts=tried,
            )
        if not tried:
            return errors.NoRouteAvailable(
                "no allowed backend is left for this request",
                tuple(self.skipped_candidates()) + candidates,
            )
        return errors.AllAttemptsFailed(
            f"all {len(tried)} attempt(s) failed: {_failures(tried)}", attempts=tried
        )


def _failures(attempts: list[Attempt]) -> str:
    """Why each attempt failed, in order, repeats counted: "srv: connection refused or
    unreachable (BackendUnavailable, 2 times); gpt: environment variable OPENAI_API_KEY is
    not set (AuthenticationFailed)". Backend errors never carry prompt text or keys."""
    counts: dict[tuple[str, str | None], int] = {}
    for a in attempts:
        if a.outcome == "error":
            key = (a.error or f"{a.backend}: failed", a.error_type)
            counts[key] = counts.get(key, 0) + 1
    parts = []
    for (why, kind), n in counts.items():
        notes = [kind] if kind else []
        if n > 1:
            notes.append(f"{n} times")
        parts.append(f"{why} ({', '.join(notes)})" if notes else why)
    return "; ".join(parts)


def _backoff(policy: Policy) -> Backoff:
    """The policy's backoff, built only when a retry needs it (not on every request)."""
    r = policy.routing
    return Backoff(
        initial_s=r.backoff_initial_ms / 1000.0,
        max_s=r.backoff_max_ms / 1000.0,
        jitter_s=r.backoff_jitter_ms / 1000.0,
        retry_after_cap_s=r.retry_after_cap_ms / 1000.0,
    )
