"""Metrics: the two GenAI client histograms plus the router's own counters.

``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage`` carry only the
conventions' attributes and their advisory bucket boundaries; a token count is recorded only
when the backend reported one. The ``hybrid_router.*`` instruments count requests, retries,
fallbacks, cost, redactions and circuit changes, and measure decision latency and local
queue depth. Attribute values are names and types, never text from a request.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from router.telemetry import attributes as a

try:  # the API's global proxy and the global it reads; private, so degrade if they move
    from opentelemetry.metrics import _internal as _api
    from opentelemetry.metrics._internal import _ProxyMeterProvider as _Proxy
except ImportError:  # pragma: no cover
    _api = None  # type: ignore[assignment]
    _Proxy = None  # type: ignore[assignment,misc]
_FAST = _api is not None and hasattr(_api, "_METER_PROVIDER")


def _global_meter_provider_set() -> bool:
    """Whether the application installed a global meter provider; nanoseconds when the API
    looks as expected (it reads the module global the API's proxy meter reads)."""
    if _FAST:
        return _api._METER_PROVIDER is not None
    if _Proxy is None:  # pragma: no cover
        return True
    return not isinstance(metrics.get_meter_provider(), _Proxy)


class Metrics:
    """The instruments, and a cheap answer to "is anything collecting?".

    ``provider=None`` means the global meter provider: a proxy until the application sets
    an SDK provider, possibly after the router was built.
    """

    def __init__(self, provider: metrics.MeterProvider | None, version: str) -> None:
        self._global = provider is None or (_Proxy is not None and isinstance(provider, _Proxy))
        if self._global:
            # Resolves a provider named by OTEL_PYTHON_METER_PROVIDER, as the API would.
            metrics.get_meter_provider()
            meter = metrics.get_meter(a.INSTRUMENTATION_NAME, version)
            self._live = False
        else:
            assert provider is not None
            meter = provider.get_meter(a.INSTRUMENTATION_NAME, version)
            self._live = not isinstance(provider, metrics.NoOpMeterProvider)
        self.operation_duration = meter.create_histogram(
            a.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=a.DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            a.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=a.TOKEN_BUCKETS,
        )
        self.requests = meter.create_counter(
            a.METRIC_REQUESTS, unit="{request}", description="Routed requests, by outcome."
        )
        self.fallbacks = meter.create_counter(
            a.METRIC_FALLBACKS,
            unit="{fallback}",
            description="Moves from a failed backend to the next candidate.",
        )
        self.retries = meter.create_counter(
            a.METRIC_RETRIES, unit="{retry}", description="Retries on the same backend."
        )
        self.cost = meter.create_counter(
            a.METRIC_COST,
            unit="{USD}",
            description="Cost of answered requests in US dollars, from measured token usage.",
        )
        self.decision_duration = meter.create_histogram(
            a.METRIC_DECISION_DURATION,
            unit="s",
            description="Time from request to routing decision (parse, classify, decide).",
            explicit_bucket_boundaries_advisory=a.DECISION_BUCKETS,
        )
        self._queue_sources: list[dict[str, Callable[[], Any]]] = []
        self._queue_reported: dict[str, int] = {}
        self.queue_depth = meter.create_observable_gauge(
            a.METRIC_QUEUE_DEPTH,
            callbacks=[self._observe_queues],
            unit="{request}",
            description="Requests waiting for an in-process backend, when the metrics are read.",
        )
        self.circuit_changes = meter.create_counter(
            a.METRIC_CIRCUIT_CHANGES,
            unit="{change}",
            description="Circuit breaker state changes, by new state.",
        )
        self.redactions = meter.create_counter(
            a.METRIC_REDACTIONS,
            unit="{value}",
            description="Values replaced by placeholders before a remote call, by data class.",
        )
        self.budget_degraded = meter.create_counter(
            a.METRIC_BUDGET_DEGRADED,
            unit="{request}",
            description="Requests degraded to free backends because a budget was spent.",
        )

    def live(self) -> bool:
        """Whether measurements can go anywhere. A global provider, once set, stays set."""
        if self._live:
            return True
        if not self._global or not _global_meter_provider_set():
            return False
        self._live = True
        return True

    # --- queue depth: read when the metrics are collected, never on the request path ------

    def watch_queues(self, backends: Mapping[str, Any]) -> None:
        """Report ``queue_depth()`` of these backends (by name) at every collection.

        Held by weak reference: the meter provider (often the process-wide global one)
        keeps this callback for good, and must not keep a dropped router's backends, and
        with them its models, alive."""
        self._queue_sources.append({name: _weak(b) for name, b in backends.items()})

    def report_queue(self, backend: str, depth: int) -> None:
        """A depth some other code measured; reported until a newer value replaces it."""
        self._queue_reported[backend] = depth

    def _observe_queues(self, options: CallbackOptions) -> Iterable[Observation]:
        seen: set[str] = set()
        self._queue_sources = [s for s in self._queue_sources if any(r() for r in s.values())]
        for backends in self._queue_sources:
            for name, ref in list(backends.items()):
                backend = ref()
                if backend is None or name in seen:
                    continue
                seen.add(name)
                yield Observation(int(backend.queue_depth()), {a.BACKEND: name})
        for name, depth in list(self._queue_reported.items()):
            if name not in seen:
                yield Observation(depth, {a.BACKEND: name})

    # --- recording helpers -----------------------------------------------------------------

    def operation(
        self,
        base: Mapping[str, Any],
        duration_s: float,
        response_model: str | None,
        error_type: str | None,
        usage: Any,
    ) -> None:
        """One inference call: its duration and, when reported, its token usage."""
        attrs = dict(base)
        if response_model:
            attrs[a.GEN_AI_RESPONSE_MODEL] = response_model
        if error_type is not None:
            attrs[a.ERROR_TYPE] = error_type
        self.operation_duration.record(duration_s, attrs)
        if usage is None:
            return
        attrs.pop(a.ERROR_TYPE, None)
        self.token_usage.record(usage.prompt_tokens, {**attrs, a.GEN_AI_TOKEN_TYPE: a.TOKEN_INPUT})
        self.token_usage.record(
            usage.completion_tokens, {**attrs, a.GEN_AI_TOKEN_TYPE: a.TOKEN_OUTPUT}
        )

    def request(
        self,
        team: str,
        outcome: str,
        backend: str | None,
        tier: str | None,
        error_type: str | None,
        cost_usd: float | None,
    ) -> None:
        """One routed request, whatever happened to it, and its measured cost."""
        attrs: dict[str, Any] = {a.TEAM: team, a.OUTCOME: outcome}
        if backend is not None:
            attrs[a.BACKEND] = backend
        if tier is not None:
            attrs[a.TIER] = tier
        if error_type is not None:
            attrs[a.ERROR_TYPE] = error_type
        self.requests.add(1, attrs)
        if cost_usd is not None and backend is not None:
            attrs = {a.TEAM: team, a.BACKEND: backend}
            if tier is not None:
                attrs[a.TIER] = tier
            self.cost.add(cost_usd, attrs)


def _weak(obj: Any) -> Callable[[], Any]:
    """A weak reference to ``obj``, or a plain getter for an object that allows none."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj
