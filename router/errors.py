"""Every error the router raises, in one tree.

::

    RouterError
    ├── InvalidRequest            a malformed chat request (names the field)
    ├── PolicyError               a bad policy or router configuration file (file:line)
    │   └── ConfigError           ... specifically the router configuration file
    ├── UnknownTeam               no policy for the team asked for
    ├── RouterClosed              the router was closed
    ├── NoRouteAvailable          every candidate excluded; lists each with its reasons
    ├── BudgetExceeded            the team budget is spent and the policy says reject
    ├── DeadlineExceeded          the request's overall deadline passed
    ├── StreamInterrupted         a stream was cut after its first token (carries the partial text)
    ├── PrivacyGuardTripped       an attempt was refused because protected data would have left
    ├── AllAttemptsFailed         every allowed candidate was tried and failed
    ├── OutcomesError             a routing-outcomes file is malformed (file:line)
    ├── ModelFileError            a learned-router model file is missing or malformed
    └── BackendError              raised by a backend, translated at its boundary
        ├── BackendUnavailable    connection refused or reset
        ├── BackendTimeout
        ├── RateLimited           429, with ``retry_after`` in seconds when given
        ├── ServerError           5xx
        ├── BadRequest            400 and other client errors the backend blames on the request
        │   ├── ContextTooLong    prompt + max_tokens do not fit the context window
        │   └── ContentRefused    the provider refused the content (content policy)
        ├── AuthenticationFailed  401 / 403
        └── MalformedResponse     the backend answered something that is not a chat completion

Retries and fallbacks decide on these types, never on message strings. No error message
ever contains prompt text, an API key or a detected personal value, and backend errors do
not chain the library exception they translate (its text may quote the prompt); they keep
its type name in ``cause_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from router.decision import Candidate


class RouterError(Exception):
    """Base class of every error raised by hybrid-router."""


class InvalidRequest(RouterError, ValueError):
    """The chat request is malformed. ``field`` names the offending field (dotted path)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class PolicyError(RouterError, ValueError):
    """A policy (or configuration) file is invalid.

    ``file`` and ``line`` locate the problem; ``hint`` says what to change.
    ``str(error)`` is ``file:line: message (hint)``, the form editors and CI understand.
    """

    also: tuple[PolicyError, ...] = ()
    """Further problems found in the same file (``validate`` reports them all)."""

    def __init__(
        self, message: str, *, file: str = "", line: int | None = None, hint: str = ""
    ) -> None:
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
        where = file
        if file and line is not None:
            where = f"{file}:{line}"
        text = f"{where}: {message}" if where else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class ConfigError(PolicyError):
    """The router configuration file (backends) is invalid."""


class RouterClosed(RouterError):
    """The router was closed (:meth:`~router.Router.close`); build a new one."""


class UnknownTeam(RouterError, KeyError):
    """No policy is loaded for the team asked for."""

    def __init__(self, team: str, known: Sequence[str]) -> None:
        self.team = team
        self.known = tuple(known)
        super().__init__(team)

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return f"no policy for team {self.team!r} (known teams: {known})"


class NoRouteAvailable(RouterError):
    """No backend may serve this request. ``candidates`` says why each was excluded."""

    def __init__(self, message: str, candidates: Sequence[Candidate] = ()) -> None:
        self.candidates = tuple(candidates)
        lines = [message]
        lines += [f"  - {c.backend}: {'; '.join(c.reasons)}" for c in self.candidates]
        super().__init__("\n".join(lines))


class BudgetExceeded(RouterError):
    """The team's budget is spent and its policy says ``reject``."""

    def __init__(self, message: str, *, team: str = "", period: str = "") -> None:
        self.team = team
        self.period = period
        super().__init__(message)


class DeadlineExceeded(RouterError, TimeoutError):
    """The request's overall deadline passed before any backend answered."""

    def __init__(self, message: str, *, attempts: Sequence[Any] = ()) -> None:
        self.attempts = tuple(attempts)
        super().__init__(message)


class AllAttemptsFailed(RouterError):
    """Every allowed candidate was tried and failed. ``attempts`` lists each try."""

    def __init__(self, message: str, *, attempts: Sequence[Any] = ()) -> None:
        self.attempts = tuple(attempts)
        super().__init__(message)


class OutcomesError(RouterError, ValueError):
    """An outcomes file cannot be read or is malformed; ``str()`` is ``file:line: message``."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}" if file and line is not None else file
        super().__init__(f"{where}: {message}" if where else message)


class ModelFileError(RouterError, ValueError):
    """A learned-router model file is missing, unreadable or not a model of this format."""


class StreamInterrupted(RouterError):
    """A stream failed after its first token was delivered to the caller.

    ``partial_text`` is the text the caller has already received, ``partial_tool_calls``
    the tool calls (``{"id", "name", "arguments"}``, arguments possibly cut short);
    ``backend`` the backend that was streaming. Never a silent truncation: the stream ends
    with this error.
    """

    def __init__(
        self,
        message: str,
        *,
        backend: str,
        partial_text: str,
        cause_type: str = "",
        partial_tool_calls: tuple[dict[str, str], ...] = (),
    ):
        self.backend = backend
        self.partial_text = partial_text
        self.partial_tool_calls = partial_tool_calls
        self.cause_type = cause_type
        super().__init__(message)


class PrivacyGuardTripped(RouterError):
    """The last check before sending found protected data bound for a remote backend.

    Nothing was sent. The router moves on to the next candidate, or fails closed.
    """

    def __init__(self, message: str, *, backend: str) -> None:
        self.backend = backend
        super().__init__(message)


class BackendError(RouterError):
    """An error from a backend, translated at its boundary.

    ``backend`` is the backend's configured name; ``status`` the HTTP status when there was one.
    """

    cause_type: str = ""
    """The type name of the exception this one translates. The exception itself is not
    chained: SDK and server messages may quote the prompt or the key."""

    overloaded: bool = False
    """The backend is busy, not unwell (an in-process model's queue is full, or a call
    waited its whole timeout in that queue): the circuit breaker does not count it, and the
    request moves on instead of retrying the same backend at once."""

    def __init__(self, message: str, *, backend: str = "", status: int | None = None) -> None:
        self.backend = backend
        self.status = status
        self.message = message
        prefix = f"{backend}: " if backend else ""
        suffix = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{prefix}{message}{suffix}")


class BackendUnavailable(BackendError):
    """The backend could not be reached (connection refused, reset, DNS, not loaded)."""


class BackendTimeout(BackendError, TimeoutError):
    """The backend did not answer in time."""


class RateLimited(BackendError):
    """The backend asked us to slow down (HTTP 429). ``retry_after`` is in seconds."""

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, backend=backend, status=status)


class ServerError(BackendError):
    """The backend failed (HTTP 5xx or an internal error in an in-process model)."""


class BadRequest(BackendError):
    """The backend rejected the request itself (HTTP 400, 404, 409, 422 ...)."""


class ContextTooLong(BadRequest):
    """Prompt plus ``max_tokens`` exceed the backend's context window."""

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        status: int | None = None,
        needed: int | None = None,
        window: int | None = None,
    ) -> None:
        self.needed = needed
        self.window = window
        super().__init__(message, backend=backend, status=status)


class ContentRefused(BadRequest):
    """The provider refused the content under its content policy."""


class AuthenticationFailed(BackendError):
    """The backend rejected our credentials (HTTP 401 or 403)."""


class MalformedResponse(BackendError):
    """The backend answered something that is not a valid chat completion."""


def translated(error: BackendError, cause: BaseException) -> BackendError:
    """``error`` with the type of the exception it replaces; raise it ``from None``."""
    error.cause_type = type(cause).__name__
    return error


def error_type(exc: BaseException) -> str:
    """A low-cardinality name for an error, for route records and telemetry."""
    return type(exc).__name__
