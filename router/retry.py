"""What to do after a backend error: one pure predicate, and the backoff between retries.

==========================================  =========  ===================================
error                                       retry it?  then
==========================================  =========  ===================================
connection refused / reset, timeout         yes        next candidate
429 rate limited (honours Retry-After)      yes        next candidate
5xx, malformed response                     yes        next candidate
408, 409                                    yes        next candidate
400, 404, 422 (bad request)                 no         next candidate
401, 403 (authentication)                   no         next candidate
context too long                            no         next candidate with a larger window
content-policy refusal                      no         stop: the caller gets the refusal
==========================================  =========  ===================================

Decisions are made on types (and the HTTP status they carry), never on message strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tenacity import wait_exponential, wait_random

from router import errors

Next = Literal["retry", "fallback", "larger_window", "stop"]


def is_retryable(exc: BaseException) -> bool:
    """Whether the same backend should be tried again after ``exc``."""
    if isinstance(exc, errors.ContentRefused | errors.ContextTooLong):
        return False
    if getattr(exc, "overloaded", False):  # a full queue now is a full queue in 200 ms
        return False
    if isinstance(
        exc,
        errors.BackendUnavailable
        | errors.BackendTimeout
        | errors.RateLimited
        | errors.ServerError
        | errors.MalformedResponse,
    ):
        return True
    return isinstance(exc, errors.BackendError) and exc.status in (408, 409)


def after_failure(exc: BaseException) -> Next:
    """What the router does after ``exc`` once retries on the backend are used up."""
    if isinstance(exc, errors.ContentRefused):
        return "stop"
    if isinstance(exc, errors.ContextTooLong):
        return "larger_window"
    if is_retryable(exc):
        return "retry"
    return "fallback"


@dataclass(frozen=True, slots=True)
class _State:
    """The one field tenacity's wait strategies read."""

    attempt_number: int


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter (tenacity), honouring ``Retry-After`` up to a cap."""

    initial_s: float = 0.2
    max_s: float = 5.0
    jitter_s: float = 0.2
    retry_after_cap_s: float = 30.0

    def delay(self, retry: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        wait = wait_exponential(multiplier=self.initial_s, max=self.max_s) + wait_random(
            0, self.jitter_s
        )
        d = float(wait(_State(retry)))  # type: ignore[arg-type]
        if isinstance(exc, errors.RateLimited) and exc.retry_after is not None:
            d = max(d, min(exc.retry_after, self.retry_after_cap_s))
        return d
