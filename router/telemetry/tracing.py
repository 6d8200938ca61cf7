"""Spans: one INTERNAL span per routed request, one inference span per attempt under it.

The request span carries the routing step in the ``hybrid_router.*`` namespace; each
attempt's span follows the GenAI semantic conventions (name ``chat {model}``, kind CLIENT
for network backends and INTERNAL for in-process ones). Attempt spans are parented through
an explicit context built from the request span, never by attaching a context, so the
streaming driver (a generator) is safe. No attribute is built while no SDK is installed, and
after a span's start only if it records (a sampled-out request costs little).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from router.observe import SENT_MAX_TOKENS
from router.telemetry import attributes as a

if TYPE_CHECKING:  # pragma: no cover
    from router.completion import ChatCompletion
    from router.config import BackendSpec
    from router.observe import RequestContext

NETWORK_KINDS = frozenset({"openai", "openai_compatible"})
"""Backend kinds whose calls cross the network: their inference spans are CLIENT spans."""

_PROVIDERS = {"openai": a.PROVIDER_OPENAI, "llama_cpp": a.PROVIDER_LLAMA_CPP}
# ``options.server`` of kind openai_compatible -> gen_ai.provider.name
_SERVERS = {
    "llama_server": a.PROVIDER_LLAMA_CPP,
    "llama_cpp_python": a.PROVIDER_LLAMA_CPP,
    "vllm": "vllm",
    "ollama": "ollama",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ERROR_STATUS = Status(StatusCode.ERROR)


class Tracing:
    """The tracer, and a cheap answer to "is anything listening?".

    ``provider=None`` (or the API's proxy provider) means the global provider, which stays a
    no-op proxy until the application installs an SDK, possibly after the router was built.
    """

    def __init__(self, provider: trace.TracerProvider | None, version: str) -> None:
        self._global = provider is None or isinstance(provider, trace.ProxyTracerProvider)
        if self._global:
            # Resolves a provider named by OTEL_PYTHON_TRACER_PROVIDER, as the API would.
            trace.get_tracer_provider()
            self.tracer = trace.get_tracer(a.INSTRUMENTATION_NAME, version)
            self._live = False
        else:
            assert provider is not None
            self.tracer = provider.get_tracer(a.INSTRUMENTATION_NAME, version)
            self._live = not isinstance(provider, trace.NoOpTracerProvider)

    def live(self) -> bool:
        """Whether spans can record at all. A global provider, once set, stays set."""
        if self._live:
            return True
        if not self._global or not _global_tracer_provider_set():
            return False
        self._live = True
        return True

    def start_request(self, ctx: RequestContext) -> Span:
        """The request span; sampling-relevant attributes are given at start."""
        return self.tracer.start_span(
            f"{a.ROUTE_SPAN_PREFIX} {ctx.team.team}",
            kind=SpanKind.INTERNAL,
            attributes=request_attributes(ctx),
        )

    def start_attempt(
        self, parent: Span, facts: BackendFacts, attrs: Mapping[str, Any] | None
    ) -> Span:
        """An inference span, child of ``parent`` through an explicit context."""
        return self.tracer.start_span(
            facts.span_name,
            context=trace.set_span_in_context(parent),
            kind=facts.kind,
            attributes=attrs,
        )


def _global_tracer_provider_set() -> bool:
    """Whether the application installed a global tracer provider.

    Called on every request while none is, so it must cost nanoseconds: it reads the same
    module global the API's own proxy tracer reads. ``trace.get_tracer_provider()`` is the
    public route but checks the environment each time (about a microsecond here).
    """
    if _PROVIDER_GLOBAL_FOUND:
        return getattr(trace, "_TRACER_PROVIDER", None) is not None
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


_PROVIDER_GLOBAL_FOUND = hasattr(trace, "_TRACER_PROVIDER")


def trace_headers(span: Span, remote: bool = False) -> dict[str, str] | None:
    """W3C trace context (``traceparent``, plus whatever the global propagator adds).

    For a ``remote`` backend, baggage is left out: an application may keep user data in it
    (``enduser.email``), and the privacy guard only ever checks the request body."""
    if not span.get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    if remote:
        carrier = {k: v for k, v in carrier.items() if not _is_baggage(k)}
    return carrier or None


def _is_baggage(header: str) -> bool:
    """W3C ``baggage``, and the baggage headers of the OpenTracing and Jaeger formats."""
    h = header.lower()
    return h == "baggage" or h.startswith(("ot-baggage-", "uberctx-"))


def fail(span: Span, error_type: str) -> None:
    """Mark ``span`` failed with a low-cardinality type, never the exception message."""
    span.set_attribute(a.ERROR_TYPE, error_type)
    span.set_status(_ERROR_STATUS)


# --- attributes ------------------------------------------------------------------------------


def policy_name(source: str) -> str:
    """``team-a`` for ``/etc/policies/team-a.yaml``; ``builtin:default`` for the built-in."""
    if source.startswith("<") and source.endswith(">"):
        return source[1:-1]
    return Path(source).stem


def request_attributes(ctx: RequestContext) -> dict[str, Any]:
    tp = ctx.team
    attrs: dict[str, Any] = {
        a.SCHEMA: a.SCHEMA_VERSION,
        a.TEAM: tp.team,
        a.POLICY_NAME: policy_name(tp.source),
        a.POLICY_VERSION: tp.policy.version,
        a.POLICY_HASH: tp.sha256,
        a.REQUEST_STREAM: ctx.stream,
    }
    if tp.policy.revision is not None:
        attrs[a.POLICY_REVISION] = tp.policy.revision
    cid = ctx.extra.get("conversation_id")
    if cid:
        attrs[a.GEN_AI_CONVERSATION_ID] = str(cid)
    return attrs


def decision_attributes(ctx: RequestContext, decision_s: float) -> dict[str, Any]:
    """Classification (names and numbers only) and the decision with every exclusion."""
    attrs: dict[str, Any] = {a.DECISION_DURATION: decision_s}
    c = ctx.classification
    if c is not None:
        attrs[a.CLASS_TASK] = c.task
        attrs[a.CLASS_COMPLEXITY] = float(c.complexity)
        attrs[a.CLASS_TOKENS] = c.tokens
        attrs[a.CLASS_SCORER] = c.scorer
        attrs[a.CLASS_DATA_CLASSES] = sorted(c.data_classes)
        attrs[a.CLASS_DETECTIONS] = len(c.detections)
        attrs[a.CLASS_LABEL_KEYS] = sorted(c.labels)
    d = ctx.decision
    if d is None:
        return attrs
    attrs[a.DECISION_REQUIRED_TIER] = d.required_tier
    hide = _label_masker(c.labels if c is not None else {})
    attrs[a.DECISION_REASONS] = [hide(r) for r in d.reasons]
    chosen = d.chosen
    if chosen is not None:
        attrs[a.DECISION_BACKEND] = chosen.backend
        attrs[a.DECISION_TIER] = chosen.tier
        attrs[a.DECISION_ZONE] = chosen.zone
        attrs[a.COST_ESTIMATED] = float(chosen.estimated_cost_usd)
    attrs[a.CANDIDATES_RANKED] = [cand.backend for cand in d.ranked]
    attrs[a.CANDIDATES_EXCLUDED] = [cand.backend for cand in d.excluded]
    attrs[a.CANDIDATES_EXCLUDED_REASONS] = [hide("; ".join(cand.reasons)) for cand in d.excluded]
    p = d.privacy
    attrs[a.PRIVACY_BLOCKED] = bool(p.blocked)
    attrs[a.PRIVACY_LOCAL_ONLY] = bool(p.local_only)
    attrs[a.PRIVACY_REDACT_CLASSES] = sorted(p.redact)
    return attrs


def _label_masker(labels: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """Reasons name caller labels as ``key=value``; telemetry keeps the key, not the value
    (a ``*`` rule matches any value, e.g. a customer's e-mail address).

    A pair is hidden only where it starts a word (reasons put a space before the key), and
    the longest pair is tried first: with labels ``id=jane`` and
    ``customer_id=jane.doe@example.com``, ``id=jane`` inside the second pair must not hide
    its start and leave the rest of the address in the span."""
    pairs = {f"{k}={v}": f"{k}=<value>" for k, v in labels.items() if v} if labels else {}
    if not pairs:
        return lambda text: text
    alternatives = "|".join(re.escape(p) for p in sorted(pairs, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\S)(?:{alternatives})")

    def hide(text: str) -> str:
        return pattern.sub(lambda m: pairs[m.group(0)], text)

    return hide


class BackendFacts:
    """What never changes about a backend's telemetry: kind, provider, server, base attrs."""

    __slots__ = ("kind", "metric_attrs", "provider", "span_attrs", "span_name", "spec")

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec
        self.span_name = f"{a.OPERATION_CHAT} {spec.model}"
        self.kind = SpanKind.CLIENT if spec.kind in NETWORK_KINDS else SpanKind.INTERNAL
        self.provider = provider_name(spec)
        base: dict[str, Any] = {
            a.GEN_AI_OPERATION_NAME: a.OPERATION_CHAT,
            a.GEN_AI_PROVIDER_NAME: self.provider,
            a.GEN_AI_REQUEST_MODEL: spec.model,
        }
        base.update(server_attributes(spec.options))
        self.metric_attrs = base
        self.span_attrs = {
            **base,
            a.BACKEND: spec.name,
            a.TIER: spec.tier,
            a.ZONE: spec.zone,
        }


def provider_name(spec: BackendSpec) -> str:
    """``gen_ai.provider.name``: ``options.provider`` when a backend sets one; else from the
    server an ``openai_compatible`` backend names (``vllm``, ``ollama``, ``llama_cpp`` for
    llama-server); ``openai`` for kind openai; ``llama_cpp`` in process; else the kind."""
    options = spec.options
    explicit = options.get("provider")
    if isinstance(explicit, str) and explicit:
        return explicit
    server = options.get("server")
    if isinstance(server, str) and server in _SERVERS:
        return _SERVERS[server]
    return _PROVIDERS.get(spec.kind, spec.kind)


def measured(usage: Any) -> Any:
    """``usage`` when the backend counted it; ``None`` for none or an estimate (marked
    ``estimated: true`` by backends that fill in for a server that sent no usage)."""
    if usage is None or getattr(usage, "estimated", False):
        return None
    return usage


def server_attributes(options: Mapping[str, Any]) -> dict[str, Any]:
    """``server.address`` and ``server.port`` from ``options["base_url"]``, when present."""
    url = options.get("base_url")
    if not isinstance(url, str) or not url:
        return {}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return {}
    if not parts.hostname:
        return {}
    out: dict[str, Any] = {a.SERVER_ADDRESS: parts.hostname}
    port = port or _DEFAULT_PORTS.get(parts.scheme)
    if port is not None:
        out[a.SERVER_PORT] = port
    return out


def attempt_attributes(
    ctx: RequestContext, facts: BackendFacts, retry: int, index: int
) -> dict[str, Any]:
    """The inference span's attributes known before the call (request parameters)."""
    attrs = dict(facts.span_attrs)
    attrs[a.ATTEMPT_INDEX] = index
    attrs[a.ATTEMPT_RETRY] = retry
    req = ctx.request
    if req is None:
        return attrs
    attrs[a.GEN_AI_OUTPUT_TYPE] = a.OUTPUT_JSON if req.wants_json else a.OUTPUT_TEXT
    if ctx.stream:
        attrs[a.GEN_AI_REQUEST_STREAM] = True
    max_tokens = ctx.extra.get(SENT_MAX_TOKENS, req.max_tokens)  # as sent: maybe capped
    if max_tokens is not None:
        attrs[a.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    if req.temperature is not None:
        attrs[a.GEN_AI_REQUEST_TEMPERATURE] = req.temperature
    if req.top_p is not None:
        attrs[a.GEN_AI_REQUEST_TOP_P] = req.top_p
    if req.seed is not None:
        attrs[a.GEN_AI_REQUEST_SEED] = req.seed
    # gen_ai.request.stop_sequences is deliberately not recorded: stop sequences are
    # request text and may carry personal data.
    cid = ctx.extra.get("conversation_id")
    if cid:
        attrs[a.GEN_AI_CONVERSATION_ID] = str(cid)
    return attrs


def response_attributes(response: ChatCompletion) -> dict[str, Any]:
    """``gen_ai.response.*`` and, only when the backend reported them, token counts."""
    attrs: dict[str, Any] = {}
    if response.id:
        attrs[a.GEN_AI_RESPONSE_ID] = response.id
    if response.model:
        attrs[a.GEN_AI_RESPONSE_MODEL] = response.model
    reasons = [c.finish_reason for c in response.choices if c.finish_reason]
    if reasons:
        attrs[a.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    usage = measured(response.usage)
    if usage is None and response.usage is not None:
        attrs[a.USAGE_ESTIMATED] = True
    if usage is not None:
        attrs[a.GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens
        attrs[a.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens
        if usage.completion_tokens_details is not None:
            attrs[a.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens
    return attrs
