"""Streams, span events (retry, fallback, restart, circuit, redaction, budget), W3C trace
context sent to backends, sampling, and the no-SDK path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from router import BackendSpec, FakeBackend, Router, StreamInterrupted
from router.observe import RequestContext
from router.resilience.health import HealthBook
from router.telemetry import TelemetryObserver
from router.telemetry import attributes as A
from tests.helpers import FixedScorer, policy
from tests.test_telemetry import TRACEPARENT, HeaderSpy, Otel, make_otel, routed, two_local


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    monkeypatch.delenv(A.CAPTURE_CONTENT_ENV, raising=False)
    o = make_otel()
    yield o
    o.tracer_provider.shutdown()
    o.meter_provider.shutdown()


# --- streams -------------------------------------------------------------------------------


def test_stream_records_time_to_first_chunk(otel: Otel) -> None:
    r = routed(otel, two_local())
    chunks = list(r.stream("Hello"))
    usage = chunks[-1].usage
    req, (att,) = otel.request_span(), otel.attempt_spans()
    assert att.parent.span_id == req.context.span_id
    assert att.attributes[A.GEN_AI_REQUEST_STREAM] is True
    assert att.attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert req.attributes[A.REQUEST_STREAM] is True and req.attributes[A.OUTCOME] == "ok"
    # Token counts appear only when the router handed the measured usage to telemetry.
    tokens = {p.attributes[A.GEN_AI_TOKEN_TYPE]: p.sum for p in otel.points(A.METRIC_TOKEN_USAGE)}
    if A.GEN_AI_USAGE_INPUT_TOKENS in att.attributes:
        assert att.attributes[A.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
        assert tokens == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    else:
        assert tokens == {}


def test_stream_cut_before_first_token_falls_back(otel: Otel) -> None:
    r = routed(otel, two_local(small={"script": [{"cut_after": 0}, {"cut_after": 0}]}))
    text = "".join(c.text for c in r.stream("Hello"))
    assert text == "large answer"
    atts = otel.attempt_spans()
    assert [s.attributes[A.OUTCOME] for s in atts] == ["error", "error", "ok"]
    assert atts[0].attributes[A.ERROR_TYPE] == "BackendUnavailable"
    assert otel.request_span().attributes[A.FALLBACKS] == 1


def test_stream_cut_after_first_token_ends_in_error(otel: Otel) -> None:
    r = routed(otel, two_local(small={"script": [{"cut_after": 1}]}))
    with pytest.raises(StreamInterrupted):
        list(r.stream("Hello"))
    req, (att,) = otel.request_span(), otel.attempt_spans()
    assert att.attributes[A.ERROR_TYPE] == "BackendUnavailable"
    assert att.attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0  # content did arrive
    assert req.attributes[A.ERROR_TYPE] == "StreamInterrupted"
    assert req.status.status_code is StatusCode.ERROR
    # The stream raised at once: no retry or fallback was going to happen.
    events = [e.name for e in req.events]
    assert A.EVENT_RETRY not in events and A.EVENT_FALLBACK not in events
    assert not otel.points(A.METRIC_RETRIES)


def test_stream_restart_is_an_event(otel: Otel) -> None:
    tp = policy("streaming: {on_interrupt: restart}", team="team")
    r = routed(otel, two_local(small={"script": [{"cut_after": 1}]}), tp)
    chunks = list(r.stream("Hello", team="team"))
    assert any(c.event == "restart" for c in chunks)
    req = otel.request_span()
    assert A.EVENT_STREAM_RESTART in [e.name for e in req.events]
    assert req.attributes[A.OUTCOME] == "ok" and req.attributes[A.ATTEMPTS] == 2
    assert [s.attributes[A.OUTCOME] for s in otel.attempt_spans()] == ["error", "ok"]


def test_a_stream_the_caller_stops_reading_is_cancelled_not_left_open(otel: Otel) -> None:
    r = routed(otel, [FakeBackend("small", reply="a long answer " * 20, chunk_chars=4)])
    it = r.stream("Hello")
    next(it)
    it.close()
    req, (att,) = otel.request_span(), otel.attempt_spans()
    assert att.attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert req.attributes[A.OUTCOME] == "cancelled" and att.attributes[A.OUTCOME] == "cancelled"
    assert req.status.status_code is StatusCode.UNSET
    (rq,) = otel.points(A.METRIC_REQUESTS)
    assert rq.attributes[A.OUTCOME] == "cancelled"


async def test_async_stream(otel: Otel) -> None:
    r = routed(otel, two_local(small={"script": [{"cut_after": 0}]}))
    text = "".join([c.text async for c in r.astream("Hello")])
    assert text
    req, atts = otel.request_span(), otel.attempt_spans()
    assert all(s.parent.span_id == req.context.span_id for s in atts)
    assert atts[-1].attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0


# --- events --------------------------------------------------------------------------------


def test_circuit_changes_are_events_on_the_attempt_that_caused_them(otel: Otel) -> None:
    now = [0.0]
    backends = two_local(small={"script": ["server_error"]})
    health = HealthBook(
        [b.spec for b in backends], failure_threshold=1, cooldown_s=10, clock=lambda: now[0]
    )
    r = routed(otel, backends, health=health)
    assert r.chat("Hello").route.backend == "large"  # opened on the first failure
    first = otel.attempt_spans()[0]
    (ev,) = [e for e in first.events if e.name == A.EVENT_CIRCUIT]
    assert dict(ev.attributes) == {
        A.BACKEND: "small",
        A.CIRCUIT_FROM: "closed",
        A.CIRCUIT_STATE: "open",
    }
    otel.exporter.clear()
    now[0] = 11.0  # the cooldown is over: half-open, and the next request is the probe
    assert r.chat("Hello").route.backend == "small"
    (probe,) = otel.attempt_spans()
    states = [e.attributes[A.CIRCUIT_STATE] for e in probe.events if e.name == A.EVENT_CIRCUIT]
    assert states == ["half_open", "closed"]
    changes = {
        p.attributes[A.CIRCUIT_STATE]: p.value for p in otel.points(A.METRIC_CIRCUIT_CHANGES)
    }
    assert changes == {"open": 1, "half_open": 1, "closed": 1}


def test_redaction_is_an_event_with_counts_only(otel: Otel) -> None:
    tp = policy("privacy: {email: redact}", team="team")
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote", reply="Sent to [EMAIL_1].")
    r = routed(otel, [cloud], tp)
    resp = r.chat("Mail jane.doe@example.com and joe@example.org", team="team")
    assert "jane.doe@example.com" in resp.text
    req, (att,) = otel.request_span(), otel.attempt_spans()
    (ev,) = [e for e in req.events if e.name == A.EVENT_REDACTION]
    assert dict(ev.attributes) == {
        A.REDACTION_CLASSES: ("email",),
        A.REDACTION_COUNTS: (2,),
        A.REDACTION_TOTAL: 2,
    }
    assert att.attributes[A.ATTEMPT_REDACTED] == 2
    assert req.attributes[A.PRIVACY_REDACT_CLASSES] == ("email",)
    (p,) = otel.points(A.METRIC_REDACTIONS)
    assert p.value == 2 and p.attributes[A.DATA_CLASS] == "email"


def test_budget_degrade_and_queue_depth_hooks(otel: Otel) -> None:
    obs = TelemetryObserver(otel.tracer_provider, otel.meter_provider)
    team = policy("extends: default\n", team="default")
    ctx = RequestContext(team=team, stream=False, started=0.0)
    obs.request_started(ctx)
    obs.budget_degraded(ctx, "daily")
    obs.queue_depth("smol", 3)
    obs.request_finished(ctx, None)
    (ev,) = otel.request_span().events
    assert ev.name == A.EVENT_BUDGET_DEGRADED and ev.attributes[A.BUDGET_PERIOD] == "daily"
    (q,) = otel.points(A.METRIC_QUEUE_DEPTH)
    assert q.value == 3 and dict(q.attributes) == {A.BACKEND: "smol"}
    (b,) = otel.points(A.METRIC_BUDGET_DEGRADED)
    assert b.value == 1


def test_a_request_degraded_past_several_priced_backends_counts_once_and_moves_thrice(
    otel: Otel,
) -> None:
    """Reservations refused at sending time (a shared budget another process filled after
    the decision): each refused backend is a move to the next, and the degradation is
    counted once."""
    from router import Price
    from router.resilience.budget import MemoryBudgetStore

    class SpentElsewhere(MemoryBudgetStore):
        def try_reserve(self, limits, amount):  # type: ignore[no-untyped-def]
            return False

    tp = policy("cost: {daily_budget_usd: 1, on_budget_exhausted: degrade}", team="t")
    price = Price(input_per_mtok=100.0, output_per_mtok=100.0)
    priced = [FakeBackend(f"paid{i}", tier="large", price=price) for i in range(3)]
    backends = [*priced, FakeBackend("free", tier="small")]
    r = routed(otel, backends, tp, complexity=0.9, budget_store=SpentElsewhere())
    route = r.chat("Hello", team="t").route
    assert route.backend == "free"
    req = otel.request_span()
    events = [e for e in req.events if e.name == A.EVENT_BUDGET_DEGRADED]
    (b,) = otel.points(A.METRIC_BUDGET_DEGRADED)
    assert len(events) == 1 and b.value == 1
    moves = [e for e in req.events if e.name == A.EVENT_FALLBACK]
    assert req.attributes[A.FALLBACKS] == route.fallbacks == len(moves) == 3


def test_a_request_the_decision_degraded_is_counted_once_without_moves(otel: Otel) -> None:
    """A spent budget: the decision leaves the priced backends out, the request goes
    straight to the free one, and telemetry still says the budget degraded it."""
    from router import Price

    tp = policy("cost: {daily_budget_usd: 0.000001, on_budget_exhausted: degrade}", team="t")
    price = Price(input_per_mtok=100.0, output_per_mtok=100.0)
    priced = [FakeBackend(f"paid{i}", tier="large", price=price) for i in range(3)]
    r = routed(otel, [*priced, FakeBackend("free", tier="small")], tp, complexity=0.9)
    route = r.chat("Hello", team="t").route
    assert route.backend == "free" and route.fallbacks == 0
    req = otel.request_span()
    events = [e for e in req.events if e.name == A.EVENT_BUDGET_DEGRADED]
    (b,) = otel.points(A.METRIC_BUDGET_DEGRADED)
    assert len(events) == 1 and b.value == 1


def test_a_request_the_budget_leaves_without_a_route_is_still_counted_degraded(
    otel: Otel,
) -> None:
    from router import NoRouteAvailable, Price

    tp = policy("cost: {daily_budget_usd: 0.000001, on_budget_exhausted: degrade}", team="t")
    paid = FakeBackend("paid", tier="large", price=Price(input_per_mtok=100.0))
    r = routed(otel, [paid], tp, complexity=0.9)
    with pytest.raises(NoRouteAvailable):
        r.chat("Hello", team="t")
    req = otel.request_span()
    assert [e.name for e in req.events].count(A.EVENT_BUDGET_DEGRADED) == 1
    (b,) = otel.points(A.METRIC_BUDGET_DEGRADED)
    assert b.value == 1


def test_the_max_tokens_a_budget_caps_is_the_one_on_the_span(otel: Otel) -> None:
    from router import Price

    tp = policy("cost: {daily_budget_usd: 10, assumed_output_tokens: 300}", team="t")
    paid = FakeBackend("paid", tier="large", price=Price(input_per_mtok=1.0))
    r = routed(otel, [paid], tp, complexity=0.9)
    r.chat("Hello", team="t")
    (attempt,) = otel.attempt_spans()
    assert paid.requests[0].max_tokens == 300
    assert attempt.attributes[A.GEN_AI_REQUEST_MAX_TOKENS] == 300


@pytest.mark.parametrize("why", ["circuit", "deadline"])
def test_a_retry_the_plan_drops_is_announced_as_the_move_it_became(otel: Otel, why: str) -> None:
    """A scheduled retry that is never made (the circuit opened meanwhile; its wait would
    pass the deadline): no retry event or count, but a fallback like the route's."""
    from router import errors

    if why == "circuit":
        tp = policy("routing: {retries: 1, backoff_initial_ms: 1}", team="t")
        a = FakeBackend("a", tier="large", script=["server_error"])
        health = HealthBook([a.spec, FakeBackend("b").spec], failure_threshold=1)
        kw = {"health": health}
    else:
        tp = policy(
            "routing: {retries: 1}\nlatency: {deadline_ms: 1000, attempt_timeout_ms: 500}",
            team="t",
        )
        limited = errors.RateLimited("slow down", backend="a", retry_after=3.0)
        a = FakeBackend("a", tier="large", script=[limited])
        kw = {}
    b = FakeBackend("b", tier="small")
    route = routed(otel, [a, b], tp, complexity=0.9, **kw).chat("Hello", team="t").route
    assert route.backend == "b" and route.fallbacks == 1
    assert route.skipped and route.skipped[0].backend == "a"
    req = otel.request_span()
    names = [e.name for e in req.events]
    assert A.EVENT_RETRY not in names and names.count(A.EVENT_FALLBACK) == 1
    assert otel.points(A.METRIC_RETRIES) == []
    (moves,) = otel.points(A.METRIC_FALLBACKS)
    assert moves.value == 1 == req.attributes[A.FALLBACKS]


def test_bad_labels_are_refused_before_a_span_like_any_malformed_request(otel: Otel) -> None:
    from router import InvalidRequest

    r = routed(otel, [FakeBackend("small")])
    with pytest.raises(InvalidRequest):
        r.chat("Hello", labels={"sensitivity": 3})
    assert otel.spans() == []


# --- propagation, sampling, no SDK ---------------------------------------------------------


def test_headers_carry_the_attempt_spans_traceparent(otel: Otel) -> None:
    spy = HeaderSpy("small", script=["server_error"])
    r = routed(otel, [spy])
    r.chat("Hello")
    list(r.stream("Hello"))
    req_spans = sorted(
        (s for s in otel.spans() if s.name.startswith("route ")), key=lambda s: s.start_time
    )
    att_spans = sorted(otel.attempt_spans(), key=lambda s: s.start_time)
    assert len(spy.headers_seen) == len(att_spans) == 3
    for headers, att in zip(spy.headers_seen, att_spans, strict=True):
        m = TRACEPARENT.match(headers["traceparent"])
        assert m, headers
        assert int(m.group(1), 16) == att.context.trace_id
        assert int(m.group(2), 16) == att.context.span_id
        assert any(int(m.group(1), 16) == s.context.trace_id for s in req_spans)


def test_baggage_goes_to_local_backends_but_never_to_remote_ones(otel: Otel) -> None:
    # An application may keep user data in baggage; the guard only checks the body.
    from opentelemetry import baggage, context

    local = HeaderSpy("small", script=["server_error"] * 3)  # fails, so the remote answers
    remote = HeaderSpy("cloud", tier="proprietary", zone="remote")
    tp = policy("routing: {retries: 0}", team="t")
    r = routed(otel, [local, remote], tp)
    token = context.attach(baggage.set_baggage("enduser.email", "jane.doe@example.com"))
    try:
        assert r.chat("Hello", team="t").route.backend == "cloud"
    finally:
        context.detach(token)
    assert "jane.doe" in local.headers_seen[0]["baggage"]
    (sent,) = remote.headers_seen
    assert "traceparent" in sent and not any("baggage" in k for k in sent)
    assert "jane.doe" not in json.dumps(sent)


def test_headers_direct_from_the_observer(otel: Otel) -> None:
    obs = TelemetryObserver(otel.tracer_provider, otel.meter_provider)
    team = policy("extends: default\n", team="default")
    spec = FakeBackend("x").spec
    ctx = RequestContext(team=team, stream=False, started=0.0)
    obs.request_started(ctx)
    token = obs.attempt_started(ctx, spec, 0)
    headers = obs.headers(token)
    m = TRACEPARENT.match(headers["traceparent"])
    assert m and m.group(2) != "0" * 16
    obs.request_finished(ctx, None)  # ends the attempt left open too
    req = otel.request_span()
    assert int(m.group(1), 16) == req.context.trace_id
    assert obs.headers(None) is None


def test_sampled_out_requests_export_nothing_but_still_propagate() -> None:
    otel = make_otel(sampler=ALWAYS_OFF)
    spy = HeaderSpy("small")
    r = routed(otel, [spy, FakeBackend("large", tier="large")])
    assert r.chat("Hello").route.backend == "small"
    assert otel.spans() == []
    flags = TRACEPARENT.match(spy.headers_seen[0]["traceparent"]).group(3)
    assert int(flags, 16) & 1 == 0  # not sampled, so the model server need not trace either
    assert len(otel.points(A.METRIC_REQUESTS)) == 1  # metrics do not depend on sampling


def test_without_an_sdk_nothing_is_built() -> None:
    obs = TelemetryObserver()  # the global providers: no-op proxies in this test process
    team = policy("extends: default\n", team="default")
    ctx = RequestContext(team=team, stream=False, started=0.0)
    obs.request_started(ctx)
    assert ctx.extra == {}
    assert obs.attempt_started(ctx, FakeBackend("x").spec, 0) is None
    assert obs.headers(None) is None
    obs.request_finished(ctx, None)
    spy = HeaderSpy("small")
    Router([spy], scorer=FixedScorer(0.1), observer=obs).chat("Hello")
    assert spy.headers_seen == [None]


def test_noop_providers_given_explicitly_are_skipped() -> None:
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    obs = TelemetryObserver(NoOpTracerProvider(), NoOpMeterProvider())
    ctx = RequestContext(
        team=policy("extends: default\n", team="default"), stream=False, started=0.0
    )
    obs.request_started(ctx)
    assert ctx.extra == {}


class _ModelServer(BaseHTTPRequestHandler):
    """A loopback OpenAI-compatible server that records the headers of each request."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        body = json.dumps(
            {
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "created": 0,
                "model": "served-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "hi"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_backend_sends_traceparent_so_the_server_joins_the_trace(otel: Otel) -> None:
    from router.backends.registry import build_backend

    server = ThreadingHTTPServer(("127.0.0.1", 0), _ModelServer)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    spec = BackendSpec(
        name="vllm",
        tier="large",
        zone="local",
        kind="openai_compatible",
        model="qwen3-30b-a3b",
        options={"base_url": f"http://127.0.0.1:{port}/v1", "server": "vllm"},
    )
    backend = build_backend(spec)
    try:
        resp = routed(otel, [backend]).chat("Hello")
    finally:
        backend.close()
        server.shutdown()
        server.server_close()
    assert resp.text == "hi"
    (headers,) = server.seen  # type: ignore[attr-defined]
    (att,) = otel.attempt_spans()
    m = TRACEPARENT.match(headers["traceparent"])
    assert m and int(m.group(1), 16) == att.context.trace_id
    assert int(m.group(2), 16) == att.context.span_id
    assert att.kind is SpanKind.CLIENT and att.name == "chat qwen3-30b-a3b"
    assert att.attributes[A.GEN_AI_PROVIDER_NAME] == "vllm"
    assert (att.attributes[A.SERVER_ADDRESS], att.attributes[A.SERVER_PORT]) == ("127.0.0.1", port)
    assert att.attributes[A.GEN_AI_RESPONSE_MODEL] == "served-model"
    assert att.attributes[A.GEN_AI_USAGE_INPUT_TOKENS] == 9


async def test_a_cancelled_task_ends_its_spans_as_cancelled(otel: Otel) -> None:
    import asyncio

    r = routed(otel, [FakeBackend("small", latency_ms=5_000)])
    task = asyncio.create_task(r.achat("Hello"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    req, (att,) = otel.request_span(), otel.attempt_spans()
    assert req.attributes[A.OUTCOME] == "cancelled" and att.attributes[A.OUTCOME] == "cancelled"
    assert req.status.status_code is StatusCode.UNSET
    assert att.parent.span_id == req.context.span_id


class Busy(FakeBackend):
    """An in-process backend with requests waiting."""

    depth = 2

    def queue_depth(self) -> int:
        return self.depth


def test_queue_depth_is_read_from_the_backends_when_metrics_are_collected(otel: Otel) -> None:
    busy, idle = Busy("smol"), FakeBackend()  # held by their owner: the gauge only watches
    obs = TelemetryObserver(
        otel.tracer_provider, otel.meter_provider, backends={"smol": busy, "idle": idle}
    )
    obs.queue_depth("remote-thing", 1)  # a depth reported through the hook
    depths = {p.attributes[A.BACKEND]: p.value for p in otel.points(A.METRIC_QUEUE_DEPTH)}
    assert depths == {"smol": 2, "idle": 0, "remote-thing": 1}
    busy.depth = 0
    depths = {p.attributes[A.BACKEND]: p.value for p in otel.points(A.METRIC_QUEUE_DEPTH)}
    assert depths["smol"] == 0


def test_a_callers_observer_that_raises_does_not_break_the_telemetry(otel: Otel) -> None:
    """Each observer is shielded on its own: the caller's hooks failing must not skip the
    telemetry's hooks or lose its attempt token."""
    from router.observe import Observer

    class Broken(Observer):
        def attempt_started(self, ctx, spec, retry):  # type: ignore[no-untyped-def]
            raise RuntimeError("broken observer")

        def attempt_finished(self, *args):  # type: ignore[no-untyped-def]
            raise RuntimeError("broken observer")

    r = routed(otel, two_local(), observer=Broken())
    assert r.chat("hello").text
    assert otel.request_span().attributes[A.OUTCOME] == "ok"
    (attempt,) = otel.attempt_spans()
    assert attempt.attributes["gen_ai.usage.output_tokens"] > 0
