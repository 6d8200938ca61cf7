"""Hooks the router calls at each step of a request, for telemetry and tests.

:class:`Observer` does nothing; :mod:`router.telemetry` implements it with OpenTelemetry.
Hooks receive counts, names and types, never prompt text or detected values. They must not
raise: the router shields itself from a failing observer (see :func:`safe`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from router.classify.types import Classification
    from router.completion import ChatCompletion
    from router.config import BackendSpec
    from router.decision import Decision
    from router.messages import ChatRequest
    from router.policy.load import TeamPolicy
    from router.route import Attempt, RouteRecord

log = logging.getLogger("router")


@dataclass(slots=True)
class RequestContext:
    """One routed request as it travels through the router. ``extra`` is for observers."""

    team: TeamPolicy
    stream: bool
    started: float
    request: ChatRequest | None = field(default=None, repr=False)  # the prompt: never shown
    observer: Any = None  # the hooks this request calls (see Observer.request_started)
    classification: Classification | None = None
    decision: Decision | None = None
    route: RouteRecord | None = None
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


SENT_MAX_TOKENS = "sent_max_tokens"
"""``RequestContext.extra`` key: the ``max_tokens`` the attempt being started sends, which
the router sets when a budget caps a request that set none."""


class Observer:
    """Base observer: every hook is a no-op. Override what you need."""

    def request_started(self, ctx: RequestContext) -> bool:
        """A request begins. Return ``False`` to skip this request's remaining hooks (the
        telemetry observer does when no SDK is configured, so it costs next to nothing)."""
        return True

    def decided(self, ctx: RequestContext, decision_s: float) -> None:
        """The decision is made; ``decision_s`` is how long classifying and deciding took."""

    def attempt_started(self, ctx: RequestContext, spec: BackendSpec, retry: int) -> Any:
        """Called before each attempt; the return value is handed to ``attempt_finished``."""
        return None

    def headers(self, token: Any) -> dict[str, str] | None:
        """Extra HTTP headers for the attempt ``token`` belongs to (W3C ``traceparent``)."""
        return None

    def attempt_finished(
        self,
        ctx: RequestContext,
        spec: BackendSpec,
        token: Any,
        attempt: Attempt,
        response: ChatCompletion | None,
        error: BaseException | None,
    ) -> None:
        """An attempt ended: ``response`` when it answered, ``error`` when it failed."""

    def first_chunk(self, ctx: RequestContext, spec: BackendSpec, token: Any, ttfc_s: float):
        """A streaming attempt delivered its first chunk after ``ttfc_s`` seconds."""

    def retry_scheduled(
        self, ctx: RequestContext, spec: BackendSpec, delay_s: float, error: BaseException
    ) -> None:
        """The same backend will be tried again after ``delay_s`` seconds."""

    def fallback(
        self, ctx: RequestContext, from_backend: str, to_backend: str, error_type: str
    ) -> None:
        """The router moves on from ``from_backend`` to ``to_backend`` after an error."""

    def stream_restarted(self, ctx: RequestContext, from_backend: str) -> None:
        """A committed stream restarts on another backend (policy ``restart``)."""

    def redacted(self, ctx: RequestContext, counts: dict[str, int]) -> None:
        """Values were replaced by placeholders: how many of each class (never the values)."""

    def budget_degraded(self, ctx: RequestContext, period: str) -> None:
        """The team's ``period`` budget is spent; only free backends remain."""

    def circuit_changed(self, backend: str, old: str, new: str) -> None:
        """A backend's circuit breaker went from state ``old`` to ``new``."""

    def queue_depth(self, backend: str, depth: int) -> None:
        """How many requests wait for an in-process backend."""

    def request_finished(self, ctx: RequestContext, error: BaseException | None) -> None:
        """The request ended: ``error`` is ``None`` on success or when the caller stopped."""


class MultiObserver(Observer):
    """Calls several observers in turn; each keeps its own attempt token."""

    def __init__(self, observers: list[Observer]) -> None:
        self.observers = list(observers)

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name in (
            "observers",
            "attempt_started",
            "headers",
            "attempt_finished",
            "first_chunk",
        ):
            return object.__getattribute__(self, name)
        hooks = [getattr(o, name) for o in object.__getattribute__(self, "observers")]

        def call(*args: Any, **kwargs: Any) -> None:
            for hook in hooks:
                hook(*args, **kwargs)

        return call

    def request_started(self, ctx: RequestContext) -> bool:
        wanted = [o.request_started(ctx) is not False for o in self.observers]
        return any(wanted)

    def attempt_started(self, ctx: RequestContext, spec: BackendSpec, retry: int) -> Any:
        return tuple(o.attempt_started(ctx, spec, retry) for o in self.observers)

    def headers(self, token: Any) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for o, t in zip(self.observers, token or (), strict=False):
            out.update(o.headers(t) or {})
        return out or None

    def attempt_finished(self, ctx, spec, token, attempt, response, error) -> None:  # type: ignore[no-untyped-def]
        for o, t in zip(self.observers, token or (None,) * len(self.observers), strict=False):
            o.attempt_finished(ctx, spec, t, attempt, response, error)

    def first_chunk(self, ctx, spec, token, ttfc_s):  # type: ignore[no-untyped-def]
        for o, t in zip(self.observers, token or (None,) * len(self.observers), strict=False):
            o.first_chunk(ctx, spec, t, ttfc_s)


class SafeObserver(Observer):
    """Wraps an observer so an exception inside a hook is logged, never raised.

    The shielded hooks are built once, here: the router calls six or more hooks per request,
    and building a closure on every call would cost more than telemetry may add (5 µs).
    """

    def __init__(self, inner: Observer) -> None:
        self.inner = inner
        for name in _HOOKS:
            setattr(self, name, _shielded(getattr(inner, name), name))


_HOOKS = tuple(name for name in vars(Observer) if not name.startswith("_"))


def _shielded(hook: Any, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return hook(*args, **kwargs)
        except Exception:  # an observer must never break a request
            log.exception("observer hook %s failed", name)
            return None

    return call


SILENT = Observer()
"""The observer of a request nobody wants to hear about: every hook does nothing."""


def safe(observer: Observer | None) -> Observer:
    """``observer`` made safe to call; a plain no-op observer when ``None``."""
    if observer is None:
        return Observer()
    if type(observer) is Observer:
        return observer
    return SafeObserver(observer)


def build_observer(
    observer: Observer | None,
    telemetry: bool,
    tracer_provider: Any,
    meter_provider: Any,
    capture_content: bool | None,
    backends: Mapping[str, Any],
) -> Observer | None:
    """The router's observer: OpenTelemetry (unless turned off) plus the caller's own."""
    found: list[Observer] = []
    if telemetry:
        from router.telemetry import TelemetryObserver

        found.append(
            TelemetryObserver(
                tracer_provider,
                meter_provider,
                capture_content=capture_content,
                backends=backends,
            )
        )
    if observer is not None:
        found.append(observer)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    # Each one shielded on its own: a caller's observer that raises must not cost the
    # telemetry its hooks (or lose the attempt tokens of the others).
    return MultiObserver([safe(o) for o in found])
