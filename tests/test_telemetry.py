"""OpenTelemetry spans and metrics of routed requests, read back from the SDK's in-memory
exporter and metric reader: names, kinds, parents, attributes, events, error paths, streams."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from router import (
    AllAttemptsFailed,
    BackendSpec,
    FakeBackend,
    NoRouteAvailable,
    Router,
    Usage,
)
from router.telemetry import SCHEMA_VERSION
from router.telemetry import attributes as A
from router.telemetry.tracing import provider_name
from tests.helpers import FixedScorer, policy

# Flags: bit 0 sampled, bit 1 random trace id (W3C Trace Context level 2).
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass
class Otel:
    """An SDK tracer and meter provider that keep everything in memory."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def request_span(self) -> ReadableSpan:
        (span,) = [s for s in self.spans() if s.name.startswith("route ")]
        return span

    def attempt_spans(self) -> list[ReadableSpan]:
        spans = [s for s in self.spans() if s.name.startswith("chat ")]
        return sorted(spans, key=lambda s: s.attributes[A.ATTEMPT_INDEX])

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == name:
                        out.extend(m.data.data_points)
        return out


def make_otel(**tracer_kw: Any) -> Otel:
    exporter = InMemorySpanExporter()
    tp = TracerProvider(**tracer_kw)
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return Otel(exporter, reader, tp, MeterProvider(metric_readers=[reader]))


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    monkeypatch.delenv(A.CAPTURE_CONTENT_ENV, raising=False)
    o = make_otel()
    yield o
    o.tracer_provider.shutdown()
    o.meter_provider.shutdown()


def routed(
    otel: Otel,
    backends: list[Any],
    *policies: Any,
    capture: bool | None = None,
    complexity: float = 0.1,
    **kw: Any,
) -> Router:
    """A router whose telemetry goes to ``otel``, through the Router's telemetry arguments."""
    teams = list(policies)
    if not any(p.team == "default" for p in teams):
        teams.append(policy("extends: default\n", team="default"))
    kw.update(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        capture_content=capture,
    )
    return Router(backends, teams, scorer=FixedScorer(complexity), **kw)


def two_local(**kw: Any) -> list[FakeBackend]:
    return [
        FakeBackend("small", reply="small answer", **kw.get("small", {})),
        FakeBackend("large", tier="large", reply="large answer", **kw.get("large", {})),
    ]


class HeaderSpy(FakeBackend):
    """A fake backend that records the extra headers it was given on each call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers_seen: list[dict[str, str] | None] = []

    def chat(self, request, *, timeout=None, headers=None):  # type: ignore[no-untyped-def]
        self.headers_seen.append(dict(headers) if headers else None)
        return super().chat(request, timeout=timeout, headers=headers)

    def stream(self, request, *, timeout=None, headers=None):  # type: ignore[no-untyped-def]
        self.headers_seen.append(dict(headers) if headers else None)
        return super().stream(request, timeout=timeout, headers=headers)


# --- structure -----------------------------------------------------------------------------


def test_one_request_span_parents_one_inference_span(otel: Otel) -> None:
    r = routed(otel, two_local())
    resp = r.chat("Hello there", max_tokens=50, temperature=0.2, top_p=0.9, seed=7, stop=["\n\n"])
    req, (att,) = otel.request_span(), otel.attempt_spans()
    assert len(otel.spans()) == 2
    assert req.name == "route default" and req.kind is SpanKind.INTERNAL
    assert req.parent is None
    assert att.name == "chat fake-model" and att.kind is SpanKind.INTERNAL
    assert att.parent is not None and att.parent.span_id == req.context.span_id
    assert att.context.trace_id == req.context.trace_id
    assert req.status.status_code is StatusCode.UNSET
    ra, aa = req.attributes, att.attributes
    assert ra[A.SCHEMA] == SCHEMA_VERSION == "1"
    assert ra[A.TEAM] == "default" and ra[A.POLICY_NAME] == "default"
    assert ra[A.POLICY_VERSION] == 1 and len(ra[A.POLICY_HASH]) == 64
    assert ra[A.CLASS_TASK] and ra[A.CLASS_COMPLEXITY] == pytest.approx(0.1)
    assert ra[A.CLASS_TOKENS] > 0 and ra[A.CLASS_DATA_CLASSES] == ()
    assert ra[A.DECISION_REQUIRED_TIER] == "small"
    assert (ra[A.DECISION_BACKEND], ra[A.DECISION_TIER], ra[A.DECISION_ZONE]) == (
        "small",
        "small",
        "local",
    )
    assert ra[A.CANDIDATES_RANKED] == ("small", "large") and ra[A.DECISION_REASONS]
    assert ra[A.OUTCOME] == "ok" and ra[A.ATTEMPTS] == 1 and ra[A.FALLBACKS] == 0
    assert ra[A.RESPONSE_BACKEND] == "small" and ra[A.COST_ACTUAL] == 0.0
    assert ra[A.DECISION_DURATION] > 0
    assert aa[A.GEN_AI_OPERATION_NAME] == "chat"
    assert aa[A.GEN_AI_PROVIDER_NAME] == "fake"
    assert aa[A.GEN_AI_REQUEST_MODEL] == "fake-model"
    assert aa[A.GEN_AI_OUTPUT_TYPE] == "text"
    assert aa[A.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert aa[A.GEN_AI_REQUEST_TEMPERATURE] == 0.2 and aa[A.GEN_AI_REQUEST_TOP_P] == 0.9
    assert aa[A.GEN_AI_REQUEST_SEED] == 7
    assert A.GEN_AI_REQUEST_STOP_SEQUENCES not in aa  # request text: never recorded
    assert aa[A.GEN_AI_RESPONSE_ID] == resp.id
    assert aa[A.GEN_AI_RESPONSE_MODEL] == "fake-model"
    assert aa[A.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert aa[A.GEN_AI_USAGE_INPUT_TOKENS] == resp.usage.prompt_tokens
    assert aa[A.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.usage.completion_tokens
    assert (aa[A.BACKEND], aa[A.TIER], aa[A.ZONE]) == ("small", "small", "local")
    assert A.ERROR_TYPE not in aa and A.GEN_AI_REQUEST_STREAM not in aa


def test_request_span_is_a_child_of_the_callers_span(otel: Otel) -> None:
    r = routed(otel, two_local())
    with otel.tracer_provider.get_tracer("app").start_as_current_span("handler") as outer:
        r.chat("Hello")
    assert otel.request_span().parent.span_id == outer.get_span_context().span_id


def test_network_backends_get_client_spans_with_server_and_provider() -> None:
    otel = make_otel()
    vllm = BackendSpec(
        name="vllm",
        tier="large",
        zone="local",
        kind="openai_compatible",
        model="qwen3-30b-a3b",
        options={"base_url": "http://127.0.0.1:8000/v1", "server": "vllm"},
    )
    openai = BackendSpec(
        name="gpt",
        tier="proprietary",
        zone="remote",
        kind="openai",
        model="gpt-5-mini",
        options={"base_url": "https://api.openai.com/v1"},
    )
    local = BackendSpec(name="smol", tier="small", zone="local", kind="llama_cpp", model="smol")
    r = routed(
        otel,
        [
            FakeBackend(spec=vllm, script=["server_error", "server_error"]),
            FakeBackend(spec=openai),
            FakeBackend(spec=local),
        ],
        complexity=0.6,
    )
    r.chat("Hello")
    spans = {s.attributes[A.BACKEND]: s for s in otel.attempt_spans()}
    v, g = spans["vllm"], spans["gpt"]
    assert v.kind is SpanKind.CLIENT and v.name == "chat qwen3-30b-a3b"
    assert v.attributes[A.GEN_AI_PROVIDER_NAME] == "vllm"
    assert (v.attributes[A.SERVER_ADDRESS], v.attributes[A.SERVER_PORT]) == ("127.0.0.1", 8000)
    assert g.kind is SpanKind.CLIENT and g.attributes[A.GEN_AI_PROVIDER_NAME] == "openai"
    assert (g.attributes[A.SERVER_ADDRESS], g.attributes[A.SERVER_PORT]) == ("api.openai.com", 443)
    in_process = make_otel()
    routed(in_process, [FakeBackend(spec=local)]).chat("Hello")
    (s,) = in_process.attempt_spans()
    assert s.kind is SpanKind.INTERNAL and s.attributes[A.GEN_AI_PROVIDER_NAME] == "llama_cpp"
    assert A.SERVER_ADDRESS not in s.attributes


# --- error paths -----------------------------------------------------------------------------


def test_retry_then_fallback_then_success(otel: Otel) -> None:
    r = routed(otel, two_local(small={"script": ["server_error", "server_error"]}))
    resp = r.chat("Hello")
    assert resp.route.backend == "large"
    req, atts = otel.request_span(), otel.attempt_spans()
    assert [(s.attributes[A.BACKEND], s.attributes[A.ATTEMPT_RETRY]) for s in atts] == [
        ("small", 0),
        ("small", 1),
        ("large", 0),
    ]
    for s in atts[:2]:
        assert s.status.status_code is StatusCode.ERROR and s.status.description is None
        assert s.attributes[A.ERROR_TYPE] == "ServerError"
        assert s.attributes[A.OUTCOME] == "error"
        assert A.GEN_AI_USAGE_INPUT_TOKENS not in s.attributes
    assert atts[2].status.status_code is StatusCode.UNSET
    assert all(s.parent.span_id == req.context.span_id for s in atts)
    assert req.status.status_code is StatusCode.UNSET
    assert (req.attributes[A.ATTEMPTS], req.attributes[A.RETRIES], req.attributes[A.FALLBACKS]) == (
        3,
        1,
        1,
    )
    assert req.attributes[A.RESPONSE_BACKEND] == "large"
    events = [(e.name, dict(e.attributes)) for e in req.events]
    assert [n for n, _ in events] == [A.EVENT_RETRY, A.EVENT_FALLBACK]
    assert events[0][1][A.BACKEND] == "small" and events[0][1][A.ERROR_TYPE] == "ServerError"
    assert events[0][1][A.RETRY_DELAY] >= 0
    assert events[1][1] == {A.BACKEND: "small", A.FALLBACK_TO: "large", A.ERROR_TYPE: "ServerError"}
    (fb,) = otel.points(A.METRIC_FALLBACKS)
    assert fb.value == 1 and fb.attributes[A.FALLBACK_TO] == "large"
    (rt,) = otel.points(A.METRIC_RETRIES)
    assert rt.value == 1
    (rq,) = otel.points(A.METRIC_REQUESTS)
    assert rq.value == 1 and dict(rq.attributes) == {
        A.TEAM: "default",
        A.OUTCOME: "ok",
        A.BACKEND: "large",
        A.TIER: "large",
    }
    durations = {
        p.attributes.get(A.ERROR_TYPE): p.count for p in otel.points(A.METRIC_OPERATION_DURATION)
    }
    assert durations == {"ServerError": 2, None: 1}


def test_all_attempts_fail(otel: Otel) -> None:
    r = routed(
        otel, two_local(small={"script": ["timeout"] * 2}, large={"script": ["unavailable"] * 2})
    )
    with pytest.raises(AllAttemptsFailed):
        r.chat("Hello")
    req, atts = otel.request_span(), otel.attempt_spans()
    assert len(atts) == 4 and all(s.status.status_code is StatusCode.ERROR for s in atts)
    assert {s.attributes[A.ERROR_TYPE] for s in atts} == {"BackendTimeout", "BackendUnavailable"}
    assert req.status.status_code is StatusCode.ERROR and req.status.description is None
    assert req.attributes[A.ERROR_TYPE] == "AllAttemptsFailed"
    assert req.attributes[A.OUTCOME] == "error" and A.RESPONSE_BACKEND not in req.attributes
    assert A.COST_ACTUAL not in req.attributes
    (rq,) = otel.points(A.METRIC_REQUESTS)
    assert rq.attributes[A.OUTCOME] == "error"
    assert rq.attributes[A.ERROR_TYPE] == "AllAttemptsFailed"
    assert rq.attributes[A.BACKEND] == "large"  # the last one tried
    assert otel.points(A.METRIC_TOKEN_USAGE) == []  # nothing was measured


def test_no_route_has_a_request_span_and_no_inference_span(otel: Otel) -> None:
    tp = policy("privacy: {email: block}", team="team")
    r = routed(otel, two_local(), tp)
    with pytest.raises(NoRouteAvailable):
        r.chat("Write to jane.doe@example.com", team="team")
    req = otel.request_span()
    assert otel.attempt_spans() == []
    assert req.attributes[A.ERROR_TYPE] == "NoRouteAvailable"
    assert req.attributes[A.PRIVACY_BLOCKED] is True
    assert req.attributes[A.CANDIDATES_EXCLUDED] == ("small", "large")
    assert all("email is block" in why for why in req.attributes[A.CANDIDATES_EXCLUDED_REASONS])
    assert req.attributes[A.CLASS_DATA_CLASSES] == ("email",)
    assert req.attributes[A.ATTEMPTS] == 0


async def test_async_chat_has_the_same_shape(otel: Otel) -> None:
    r = routed(otel, two_local(small={"script": ["server_error", "server_error"]}))
    resp = await r.achat("Hello")
    assert resp.route.backend == "large"
    req, atts = otel.request_span(), otel.attempt_spans()
    assert len(atts) == 3 and all(s.parent.span_id == req.context.span_id for s in atts)
    assert req.attributes[A.OUTCOME] == "ok"


# --- metrics -------------------------------------------------------------------------------


def test_genai_metrics_follow_the_conventions(otel: Otel) -> None:
    r = routed(otel, two_local())
    resp = r.chat("Hello")
    (dur,) = otel.points(A.METRIC_OPERATION_DURATION)
    assert tuple(dur.explicit_bounds) == A.DURATION_BUCKETS
    assert tuple(dur.explicit_bounds)[:3] == (0.01, 0.02, 0.04) and dur.explicit_bounds[-1] == 81.92
    assert dict(dur.attributes) == {
        A.GEN_AI_OPERATION_NAME: "chat",
        A.GEN_AI_PROVIDER_NAME: "fake",
        A.GEN_AI_REQUEST_MODEL: "fake-model",
        A.GEN_AI_RESPONSE_MODEL: "fake-model",
    }
    tokens = {p.attributes[A.GEN_AI_TOKEN_TYPE]: p for p in otel.points(A.METRIC_TOKEN_USAGE)}
    assert tokens["input"].sum == resp.usage.prompt_tokens
    assert tokens["output"].sum == resp.usage.completion_tokens
    assert tuple(tokens["input"].explicit_bounds) == A.TOKEN_BUCKETS
    assert A.TOKEN_BUCKETS[0] == 1 and A.TOKEN_BUCKETS[-1] == 67108864
    (dec,) = otel.points(A.METRIC_DECISION_DURATION)
    assert dec.count == 1 and dict(dec.attributes) == {A.TEAM: "default"}
    (cost,) = otel.points(A.METRIC_COST)
    assert cost.value == 0.0 and cost.attributes[A.BACKEND] == "small"


def test_metric_names_units_and_instrument_scope(otel: Otel) -> None:
    routed(otel, two_local()).chat("Hello")
    data = otel.reader.get_metrics_data()
    (scope,) = [sm for rm in data.resource_metrics for sm in rm.scope_metrics]
    assert scope.scope.name == "hybrid-router" and scope.scope.version
    units = {m.name: m.unit for m in scope.metrics}
    assert units[A.METRIC_OPERATION_DURATION] == "s"
    assert units[A.METRIC_TOKEN_USAGE] == "{token}"
    assert units[A.METRIC_REQUESTS] == "{request}"
    assert units[A.METRIC_DECISION_DURATION] == "s"


class EstimatingBackend(FakeBackend):
    """A backend whose usage is only an estimate, marked as such."""

    def chat(self, request, *, timeout=None, headers=None):  # type: ignore[no-untyped-def]
        resp = super().chat(request, timeout=timeout, headers=headers)
        resp.usage = Usage.model_construct(
            prompt_tokens=5, completion_tokens=2, total_tokens=7, estimated=True
        )
        return resp


def test_estimated_usage_is_never_reported_as_tokens(otel: Otel) -> None:
    routed(otel, [EstimatingBackend("small")]).chat("Hello")
    (att,) = otel.attempt_spans()
    assert att.attributes[A.USAGE_ESTIMATED] is True
    assert A.GEN_AI_USAGE_INPUT_TOKENS not in att.attributes
    assert A.GEN_AI_USAGE_OUTPUT_TOKENS not in att.attributes
    assert otel.points(A.METRIC_TOKEN_USAGE) == []
    assert len(otel.points(A.METRIC_OPERATION_DURATION)) == 1


@pytest.mark.parametrize(
    ("kind", "options", "provider"),
    [
        (
            "openai_compatible",
            {"base_url": "http://127.0.0.1:8080/v1", "server": "llama_server"},
            "llama_cpp",
        ),
        (
            "openai_compatible",
            {"base_url": "http://127.0.0.1:11434/v1", "server": "ollama"},
            "ollama",
        ),
        ("openai_compatible", {"base_url": "http://127.0.0.1:9000/v1"}, "openai_compatible"),
        ("openai", {}, "openai"),
        ("llama_cpp", {"model_path": "/m.gguf"}, "llama_cpp"),
        ("fake", {"provider": "vllm"}, "vllm"),
    ],
)
def test_provider_names(kind: str, options: dict[str, Any], provider: str) -> None:
    zone = "remote" if kind == "openai" else "local"
    tier = "proprietary" if kind == "openai" else "small"
    spec = BackendSpec(name="b", tier=tier, zone=zone, kind=kind, model="m", options=options)
    assert provider_name(spec) == provider


def test_router_telemetry_arguments(otel: Otel) -> None:
    kw = {"tracer_provider": otel.tracer_provider, "meter_provider": otel.meter_provider}
    Router([FakeBackend("small")], scorer=FixedScorer(0.1), telemetry=False, **kw).chat("Hi")
    assert otel.spans() == [] and otel.points(A.METRIC_REQUESTS) == []
    r = Router([FakeBackend("small")], scorer=FixedScorer(0.1), capture_content=True, **kw)
    r.chat("Hi")
    (att,) = otel.attempt_spans()
    assert A.GEN_AI_INPUT_MESSAGES in att.attributes
