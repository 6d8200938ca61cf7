""":class:`TelemetryObserver`: the router's hooks turned into OpenTelemetry spans and metrics.

One request span (INTERNAL, ``route {team}``) is started in ``request_started`` and ended in
``request_finished``; each attempt gets an inference span under it (``chat {model}``),
started in ``attempt_started`` and ended in ``attempt_finished``, or in
``request_finished`` when the caller stopped reading a stream or the task was cancelled.
Retries, fallbacks, stream restarts, redactions (counts only), budget degradation and
circuit changes become span events.

With no SDK configured (the API's global no-op proxies), every hook returns after one cheap
check: nothing is built, no span is started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Span

from router.observe import Observer
from router.telemetry import attributes as a
from router.telemetry.circuits import CircuitEvents
from router.telemetry.content import Masker, capture_enabled, input_messages, masker_for
from router.telemetry.content import output_messages as _output_messages
from router.telemetry.metrics import Metrics
from router.telemetry.tracing import (
    BackendFacts,
    Tracing,
    attempt_attributes,
    decision_attributes,
    fail,
    measured,
    response_attributes,
    trace_headers,
)

if TYPE_CHECKING:  # pragma: no cover
    from router.completion import ChatCompletion
    from router.config import BackendSpec
    from router.observe import RequestContext
    from router.route import Attempt


class _Request:
    """Telemetry state of one request, kept in ``ctx.extra`` while it runs."""

    __slots__ = (
        "attempts",
        "input_text",
        "last",
        "mask",
        "measure",
        "moved_from",
        "moves",
        "open",
        "redacted",
        "retries",
        "served",
        "span",
        "team",
    )

    def __init__(self, span: Span | None, measure: bool, team: str) -> None:
        self.span = span
        self.measure = measure
        self.team = team
        self.attempts = 0
        self.retries = 0
        self.moves = 0
        self.moved_from: str | None = None  # the backend a fallback left, refused or failed
        self.redacted = 0
        self.open: list[_Attempt] = []
        self.served: BackendFacts | None = None
        self.last: BackendFacts | None = None
        self.mask: Masker | bool | None = False  # False: not computed yet
        self.input_text: str | None = None


class _Attempt:
    """The token ``attempt_started`` returns: one attempt's span and clock."""

    __slots__ = ("facts", "request", "span", "t0")

    def __init__(self, span: Span | None, facts: BackendFacts, request: _Request) -> None:
        self.span = span
        self.facts = facts
        self.request = request
        self.t0 = time.perf_counter()


class TelemetryObserver(Observer):
    """OpenTelemetry tracing and metrics for every routed request (GenAI conventions).

    ``tracer_provider`` / ``meter_provider`` default to the global ones, which stay no-op
    until the application configures the SDK. ``capture_content=None`` reads
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``; see :mod:`router.telemetry.content`.
    ``backends`` (name -> backend) are asked for their ``queue_depth()`` each time the
    metrics are collected, which costs requests nothing; they are watched, not kept (held
    by weak reference), so a dropped router can free its models.

    The router builds one by default; to give it providers of your own::

        router = Router(backends, tracer_provider=tp, meter_provider=mp)
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        capture_content: bool | None = None,
        backends: Mapping[str, Any] | None = None,
    ) -> None:
        from router import __version__

        self._tracing = Tracing(tracer_provider, __version__)
        self._metrics = Metrics(meter_provider, __version__)
        self.capture_content = capture_enabled(capture_content)
        self._key = f"{a.INSTRUMENTATION_NAME}.telemetry.{id(self):x}"
        self._facts: dict[int, BackendFacts] = {}
        self._circuits = CircuitEvents()
        if backends is not None:
            self._metrics.watch_queues(backends)

    # --- request ---------------------------------------------------------------------------

    def request_started(self, ctx: RequestContext) -> bool:
        traced = self._tracing.live()
        measured = self._metrics.live()
        if not (traced or measured):
            return False  # no SDK: the router skips this request's other hooks
        span = self._tracing.start_request(ctx) if traced else None
        ctx.extra[self._key] = _Request(span, measured, ctx.team.team)
        return True

    def decided(self, ctx: RequestContext, decision_s: float) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return
        if st.measure:
            self._metrics.decision_duration.record(decision_s, {a.TEAM: st.team})
        if st.span is not None and st.span.is_recording():
            st.span.set_attributes(decision_attributes(ctx, decision_s))

    def request_finished(self, ctx: RequestContext, error: BaseException | None) -> None:
        st: _Request | None = ctx.extra.pop(self._key, None)
        if st is None:
            return
        if isinstance(error, asyncio.CancelledError):
            error = None  # the caller gave up: cancelled, not failed
        for token in list(st.open):  # a stream closed early, or a cancelled task
            duration = time.perf_counter() - token.t0
            self._end_attempt(token, duration, None, error, cancelled=error is None)
        served = st.served
        error_type = type(error).__name__ if error is not None else None
        if error is not None:
            outcome = a.OUTCOME_ERROR
        elif served is not None:
            outcome = a.OUTCOME_OK
        else:
            outcome = a.OUTCOME_CANCELLED
        route = ctx.route
        cost = route.cost_usd if route is not None and served is not None else None
        span = st.span
        if span is not None:
            if span.is_recording():
                attrs: dict[str, Any] = {
                    a.OUTCOME: outcome,
                    a.ATTEMPTS: st.attempts,
                    a.RETRIES: st.retries,
                    a.FALLBACKS: st.moves,
                }
                if served is not None:
                    spec = served.spec
                    attrs[a.RESPONSE_BACKEND] = spec.name
                    attrs[a.RESPONSE_TIER] = spec.tier
                    attrs[a.RESPONSE_ZONE] = spec.zone
                if cost is not None:
                    attrs[a.COST_ACTUAL] = float(cost)
                span.set_attributes(attrs)
                if error_type is not None:
                    fail(span, error_type)
            span.end()
        if st.measure:
            last = served or st.last
            self._metrics.request(
                st.team,
                outcome,
                last.spec.name if last is not None else None,
                last.spec.tier if last is not None else None,
                error_type,
                cost,
            )

    # --- attempts --------------------------------------------------------------------------

    def attempt_started(self, ctx: RequestContext, spec: BackendSpec, retry: int) -> Any:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return None
        facts = self._facts_for(spec)
        index = st.attempts
        st.attempts += 1
        if retry:
            st.retries += 1
        previous = st.moved_from or (st.last.spec.name if st.last is not None else None)
        st.moved_from = None
        if previous is not None and previous != spec.name:
            st.moves += 1
        st.last = facts
        span = None
        if st.span is not None:
            attrs = None
            if st.span.is_recording():
                attrs = attempt_attributes(ctx, facts, retry, index)
                if st.redacted:
                    attrs[a.ATTEMPT_REDACTED] = st.redacted
                    st.redacted = 0
                if self.capture_content:
                    text = self._input_text(ctx, st)
                    if text is not None:
                        attrs[a.GEN_AI_INPUT_MESSAGES] = text
            span = self._tracing.start_attempt(st.span, facts, attrs)
        token = _Attempt(span, facts, st)
        st.open.append(token)
        if span is not None:
            self._circuits.started(spec.name, span)
        return token

    def headers(self, token: Any) -> dict[str, str] | None:
        if token is None or token.span is None:
            return None
        return trace_headers(token.span, remote=token.facts.spec.zone == "remote")

    def first_chunk(self, ctx: RequestContext, spec: BackendSpec, token: Any, ttfc_s: float):
        if token is not None and token.span is not None and token.span.is_recording():
            token.span.set_attribute(a.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttfc_s)

    def attempt_finished(
        self,
        ctx: RequestContext,
        spec: BackendSpec,
        token: Any,
        attempt: Attempt,
        response: ChatCompletion | None,
        error: BaseException | None,
    ) -> None:
        if token is None:
            return
        self._end_attempt(token, attempt.duration_ms / 1000.0, response, error)

    def _end_attempt(
        self,
        token: _Attempt,
        duration_s: float,
        response: ChatCompletion | None,
        error: BaseException | None,
        *,
        cancelled: bool = False,
    ) -> None:
        st = token.request
        try:
            st.open.remove(token)
        except ValueError:  # already ended
            return
        error_type = type(error).__name__ if error is not None else None
        if error is None and not cancelled:
            st.served = token.facts
        span = token.span
        if span is not None:
            self._circuits.ended(token.facts.spec.name, span)
            if span.is_recording():
                if response is not None:
                    span.set_attributes(response_attributes(response))
                    mask = st.mask  # computed when the input was captured, if it was
                    if self.capture_content and isinstance(mask, Masker):
                        text = _output_messages(response, mask)
                        span.set_attribute(a.GEN_AI_OUTPUT_MESSAGES, text)
                if cancelled:
                    span.set_attribute(a.OUTCOME, a.OUTCOME_CANCELLED)
                elif error_type is not None:
                    span.set_attribute(a.OUTCOME, a.OUTCOME_ERROR)
                    fail(span, error_type)
                else:
                    span.set_attribute(a.OUTCOME, a.OUTCOME_OK)
            span.end()
        if st.measure and not cancelled:
            self._metrics.operation(
                token.facts.metric_attrs,
                duration_s,
                response.model if response is not None else None,
                error_type,
                measured(response.usage) if response is not None else None,
            )

    # --- events ----------------------------------------------------------------------------

    def retry_scheduled(
        self, ctx: RequestContext, spec: BackendSpec, delay_s: float, error: BaseException
    ) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return
        error_type = type(error).__name__
        if st.span is not None and st.span.is_recording():
            st.span.add_event(
                a.EVENT_RETRY,
                {a.BACKEND: spec.name, a.RETRY_DELAY: delay_s, a.ERROR_TYPE: error_type},
            )
        if st.measure:
            self._metrics.retries.add(
                1, {a.TEAM: st.team, a.BACKEND: spec.name, a.ERROR_TYPE: error_type}
            )

    def fallback(
        self, ctx: RequestContext, from_backend: str, to_backend: str, error_type: str
    ) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return
        if st.moved_from is not None:
            st.moves += 1  # the backend the last move went to was refused before sending
        st.moved_from = from_backend  # counted as a move when the next attempt starts
        attrs = {a.BACKEND: from_backend, a.FALLBACK_TO: to_backend, a.ERROR_TYPE: error_type}
        if st.span is not None and st.span.is_recording():
            st.span.add_event(a.EVENT_FALLBACK, attrs)
        if st.measure:
            self._metrics.fallbacks.add(1, {a.TEAM: st.team, **attrs})

    def stream_restarted(self, ctx: RequestContext, from_backend: str) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is not None and st.span is not None and st.span.is_recording():
            st.span.add_event(a.EVENT_STREAM_RESTART, {a.BACKEND: from_backend})

    def redacted(self, ctx: RequestContext, counts: dict[str, int]) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return
        classes = sorted(counts)
        total = sum(counts.values())
        st.redacted = total
        if st.span is not None and st.span.is_recording():
            st.span.add_event(
                a.EVENT_REDACTION,
                {
                    a.REDACTION_CLASSES: classes,
                    a.REDACTION_COUNTS: [int(counts[c]) for c in classes],
                    a.REDACTION_TOTAL: total,
                },
            )
        if st.measure:
            for cls in classes:
                self._metrics.redactions.add(counts[cls], {a.TEAM: st.team, a.DATA_CLASS: cls})

    def budget_degraded(self, ctx: RequestContext, period: str) -> None:
        st: _Request | None = ctx.extra.get(self._key)
        if st is None:
            return
        if st.span is not None and st.span.is_recording():
            st.span.add_event(a.EVENT_BUDGET_DEGRADED, {a.BUDGET_PERIOD: period})
        if st.measure:
            self._metrics.budget_degraded.add(1, {a.TEAM: st.team, a.BUDGET_PERIOD: period})

    def circuit_changed(self, backend: str, old: str, new: str) -> None:
        """Counted, and an event on the attempt that caused it (see :mod:`.circuits`)."""
        if self._metrics.live():
            self._metrics.circuit_changes.add(1, {a.BACKEND: backend, a.CIRCUIT_STATE: new})
        if not self._tracing.live():
            return
        self._circuits.changed(backend, old, new)

    def queue_depth(self, backend: str, depth: int) -> None:
        self._metrics.report_queue(backend, depth)

    # --- helpers ---------------------------------------------------------------------------

    def _facts_for(self, spec: BackendSpec) -> BackendFacts:
        facts = self._facts.get(id(spec))
        if facts is None or facts.spec is not spec:
            facts = self._facts[id(spec)] = BackendFacts(spec)
        return facts

    def _input_text(self, ctx: RequestContext, st: _Request) -> str | None:
        """The masked conversation, built once per request; ``None`` when it may not be
        captured. Also settles ``st.mask`` for the answer."""
        if st.mask is False:
            st.mask = masker_for(ctx)
        if not isinstance(st.mask, Masker) or ctx.request is None:
            return None
        if st.input_text is None:
            st.input_text = input_messages(ctx.request, st.mask)
        return st.input_text
