"""Retries, fallbacks, breakers, latency, budgets and streaming failover, proven with faults:
scripted fakes for the logic, and a fault-injecting HTTP server on 127.0.0.1 for the wire."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import (
    BackendSpec,
    BackendState,
    BudgetExceeded,
    Capabilities,
    FakeBackend,
    Price,
    RouterError,
    StreamInterrupted,
    errors,
)
from router.backends.base import make_chunk
from router.backends.http import OpenAICompatibleBackend
from router.classify.classifier import estimate_tokens
from router.completion import ChatCompletionChunk, DeltaFunction, DeltaToolCall
from router.resilience.breaker import (
    ADMITTED,
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    counts_against_backend,
    is_probe,
)
from router.resilience.budget import Budgets, MemoryBudgetStore
from router.resilience.latency import LatencyTracker
from router.retry import Backoff, after_failure, is_retryable
from router.testing import FaultServer
from tests.helpers import policy, router_with

# --- the retry predicate -------------------------------------------------------------

PREDICATE = [
    (errors.BackendUnavailable("x"), True, "retry"),
    (errors.BackendTimeout("x"), True, "retry"),
    (errors.RateLimited("x", retry_after=2), True, "retry"),
    (errors.ServerError("x", status=500), True, "retry"),
    (errors.ServerError("x", status=503), True, "retry"),
    (errors.MalformedResponse("x"), True, "retry"),
    (errors.BadRequest("x", status=408), True, "retry"),
    (errors.BadRequest("x", status=409), True, "retry"),
    (errors.BadRequest("x", status=400), False, "fallback"),
    (errors.BadRequest("x", status=404), False, "fallback"),
    (errors.BadRequest("x", status=422), False, "fallback"),
    (errors.AuthenticationFailed("x", status=401), False, "fallback"),
    (errors.AuthenticationFailed("x", status=403), False, "fallback"),
    (errors.ContextTooLong("x", status=400), False, "larger_window"),
    (errors.ContentRefused("x", status=400), False, "stop"),
    (errors.PrivacyGuardTripped("x", backend="b"), False, "fallback"),
]


@pytest.mark.parametrize(
    ("exc", "retry", "then"),
    PREDICATE,
    ids=[f"{type(e).__name__}-{getattr(e, 'status', '')}" for e, _, _ in PREDICATE],
)
def test_retry_predicate_table(exc, retry, then) -> None:
    assert is_retryable(exc) is retry
    assert after_failure(exc) == then


def test_backoff_grows_and_honours_retry_after_up_to_the_cap() -> None:
    b = Backoff(initial_s=0.1, max_s=1.0, jitter_s=0.0, retry_after_cap_s=5.0)
    assert [round(b.delay(i), 3) for i in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert b.delay(1, errors.RateLimited("x", retry_after=3.0)) == 3.0
    assert b.delay(1, errors.RateLimited("x", retry_after=60.0)) == 5.0


# --- circuit breaker and latency ------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_half_opens_with_one_probe_and_closes() -> None:
    clock, changes = Clock(), []
    b = CircuitBreaker(
        3, window_s=10, cooldown_s=5, clock=clock, on_change=lambda old, new: changes.append(new)
    )
    for _ in range(3):
        b.failure()
    assert b.state == OPEN and "circuit open" in b.blocked_reason()
    assert not b.admit()
    clock.now = 6
    assert b.state == HALF_OPEN
    probe = b.admit()
    assert is_probe(probe) and not b.admit()  # exactly one probe
    assert "probe request is in flight" in b.blocked_reason()
    b.success(probe)
    assert b.state == CLOSED and b.admit()
    assert changes == [OPEN, HALF_OPEN, CLOSED]


def test_only_the_probe_frees_the_probe_slot() -> None:
    """An attempt admitted while the circuit was closed that ends without settling it (a
    bad request, a cancelled caller) must not let a second probe through."""
    clock = Clock()
    b = CircuitBreaker(1, window_s=10, cooldown_s=5, clock=clock)
    earlier = b.admit()  # admitted while closed
    assert earlier == ADMITTED
    b.failure()  # another request opens the circuit
    clock.now = 6
    probe = b.admit()
    assert is_probe(probe) and not b.admit()
    b.release(earlier)  # the earlier attempt ends with an error that says nothing
    assert not b.admit(), "a second probe was let through"
    assert "probe request is in flight" in b.blocked_reason()
    b.release(probe)  # the probe itself was never sent: the slot is free again
    assert is_probe(b.admit())


def test_only_the_current_probe_settles_a_half_open_circuit() -> None:
    """Requests admitted before the circuit opened, or the probe of an earlier cycle, that
    end late neither close the circuit early nor let a second probe through."""
    clock = Clock()
    b = CircuitBreaker(1, window_s=10, cooldown_s=5, clock=clock)
    straggler, late_failure = b.admit(), b.admit()
    b.failure()  # opens
    b.success(straggler)  # a request sent before the circuit opened answers late
    assert b.state == OPEN, "a straggler's success skipped the cooldown and the probe"
    clock.now = 6
    first = b.admit()
    b.failure(late_failure)  # not the probe: says nothing new about the open circuit
    assert b.state == HALF_OPEN and not b.admit()
    b.failure(first)  # the probe fails: open again
    clock.now = 12
    second = b.admit()
    assert is_probe(second) and second != first
    b.release(first)  # the first cycle's probe ends late (cancelled)
    assert not b.admit(), "an old probe freed the new probe's slot"
    b.success(second)
    assert b.state == CLOSED


def test_a_circuit_hook_may_read_the_breaker() -> None:
    seen: list[str] = []
    b = CircuitBreaker(1, window_s=10, cooldown_s=5, clock=Clock())
    b._on_change = lambda old, new: seen.append(f"{new}: {b.state} {b.blocked_reason()}")
    done = threading.Event()
    threading.Thread(target=lambda: (b.failure(), done.set()), daemon=True).start()
    assert done.wait(5), "the hook deadlocked on the breaker's lock"
    assert seen and seen[0].startswith("open: open circuit open")


def test_failed_probe_reopens_and_old_failures_expire() -> None:
    clock = Clock()
    b = CircuitBreaker(3, window_s=10, cooldown_s=5, clock=clock)
    b.failure(), b.failure()
    clock.now = 11  # outside the window: forgotten
    b.failure()
    assert b.state == CLOSED
    b.failure(), b.failure()
    assert b.state == OPEN
    clock.now = 17
    probe = b.admit()
    b.failure(probe)
    assert b.state == OPEN


def test_a_busy_backend_with_few_failures_stays_closed() -> None:
    b = CircuitBreaker(5, window_s=30, cooldown_s=5, clock=Clock())
    for i in range(100):
        b.failure() if i % 10 == 0 else b.success()
    assert b.state == CLOSED


def test_open_circuit_removes_the_backend_from_decisions() -> None:
    flaky = FakeBackend("flaky", script=["server_error"] * 20)
    steady = FakeBackend("steady", tier="large")
    r = router_with([flaky, steady])
    for _ in range(3):
        r.chat("Hello")
    e = r.explain("Hello")
    assert e.backend == "steady"
    flaky_c = next(c for c in e.decision.excluded if c.backend == "flaky")
    assert "circuit open" in flaky_c.reasons[0]


def test_latency_tracker_prior_ewma_and_percentiles() -> None:
    t = LatencyTracker(prior_ms=800)
    assert t.predict_ms(256) == 800  # the prior is the time of a 256-token answer
    for _ in range(20):
        t.observe(total_s=1.1, ttft_s=0.1, output_tokens=101)  # 10 ms per token
    assert t.predict_ms(100) == pytest.approx(100 + 100 * 10, rel=0.01)
    assert t.predict_ms(100, queue_depth=1) == pytest.approx(2 * 1100, rel=0.01)
    snap = t.snapshot()
    assert snap.ttft_p50_ms == pytest.approx(100) and snap.tpot_p95_ms == pytest.approx(10)


def test_latency_target_skips_slow_backends_once_observed() -> None:
    tp = policy("latency: {target_ms: 50}")
    slow = FakeBackend("slow", latency_ms=120)
    fast = FakeBackend("fast", tier="large")
    r = router_with([slow, fast], tp)
    assert r.chat("Hi", team="team").route.backend == "slow"  # no data yet: no prediction
    assert r.chat("Hi", team="team").route.backend == "fast"
    excluded = r.explain("Hi", team="team").decision.excluded
    assert "predicted latency" in excluded[0].reasons[0]
    assert BackendState().available


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_slow_stream_reader_does_not_make_a_fast_backend_look_slow(mode) -> None:
    """The caller's time between chunks is not the backend's latency: a fast backend read
    slowly stays first, instead of being excluded under the latency target."""
    tp = policy("latency: {target_ms: 250}")
    fast = FakeBackend("fast", tier="small", reply="word " * 12, chunk_chars=5)
    other = FakeBackend("other", tier="large")
    r = router_with([fast, other], tp)
    if mode == "sync":
        for _ in r.stream("Hi", team="team"):
            time.sleep(0.03)
    else:

        async def read() -> None:
            async for _ in r.astream("Hi", team="team"):
                await asyncio.sleep(0.03)

        asyncio.run(read())
    assert r.health.latency["fast"].predict_ms(256) < 250
    assert r.chat("Hi", team="team").route.backend == "fast"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_holding_the_last_chunk_before_closing_is_not_backend_latency(mode) -> None:
    """A caller that reads the whole answer, dwells on it, then closes the stream: the
    dwell is its own time."""
    fast = FakeBackend("fast", tier="small", reply="short answer")
    r = router_with([fast])
    if mode == "sync":
        with r.stream("Hi") as s:
            for chunk in s:
                if chunk.choices and chunk.choices[0].finish_reason:
                    time.sleep(0.3)
                    break
    else:

        async def read() -> None:
            s = r.astream("Hi")
            async for chunk in s:
                if chunk.choices and chunk.choices[0].finish_reason:
                    await asyncio.sleep(0.3)
                    break
            await s.aclose()

        asyncio.run(read())
    assert r.health.latency["fast"].predict_ms(16) < 100


def test_a_stale_latency_prediction_is_dropped_so_a_slow_backend_is_tried_again() -> None:
    now = [0.0]
    t = LatencyTracker(stale_after_s=60.0, clock=lambda: now[0])
    t.observe(total_s=0.4, ttft_s=None, output_tokens=10)  # one slow answer
    assert t.predict_ms(10) == pytest.approx(400)
    now[0] = 59.0
    assert t.predict_ms(10) == pytest.approx(400)
    now[0] = 61.0  # nothing observed for a minute: no prediction, the backend is tried again
    assert t.predict_ms(10) is None
    t.observe(total_s=0.05, ttft_s=None, output_tokens=10)
    assert t.predict_ms(10) is not None


# --- budgets --------------------------------------------------------------------------


def test_budget_reservations_are_atomic_across_periods() -> None:
    store = MemoryBudgetStore()
    assert store.try_reserve([("d", 1.0), ("m", 10.0)], 0.6)
    assert not store.try_reserve([("d", 1.0), ("m", 10.0)], 0.6)  # day would overflow
    assert store.used("m") == pytest.approx(0.6)  # nothing half-reserved
    store.settle(["d", "m"], 0.6, 0.1)
    assert store.used("d") == pytest.approx(0.1)


def test_a_stream_cut_after_tokens_is_charged_for_what_it_delivered() -> None:
    """A provider bills the tokens of a stream that breaks: the budget counts them, and
    the route's cost includes them when a restart then answers."""
    tp = policy("cost: {daily_budget_usd: 10}\nstreaming: {on_interrupt: restart}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    flaky = FakeBackend(
        "flaky", tier="large", price=price, reply="y" * 400, script=[{"cut_after": 3}]
    )
    r = router_with([flaky], tp, complexity=0.9)
    chunks = list(r.stream("Q" * 200, team="team", max_tokens=200))
    route, usage = chunks[-1].route, chunks[-1].usage
    assert [a.outcome for a in route.attempts] == ["error", "ok"]
    answered = price.cost(usage.prompt_tokens, usage.completion_tokens)
    spent = r.budget.spent(r.policies["team"])["daily"]
    assert spent > answered  # the cut attempt was charged too
    assert route.cost_usd == pytest.approx(spent)


class _ToolCallStream(FakeBackend):
    """Streams one tool call, ``send``, in argument pieces; cut after them when ``cut``.
    It reports no usage, as many servers do not."""

    def __init__(self, name: str, *, cut: bool, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(name, **kw)
        self.cut = cut

    def stream(self, request, **kw):  # type: ignore[no-untyped-def]
        def piece(**fields) -> ChatCompletionChunk:  # type: ignore[no-untyped-def]
            chunk = make_chunk("c", "m", role="assistant")
            fn = DeltaFunction(name=fields.get("name"), arguments=fields.get("args"))
            call = DeltaToolCall(index=0, id=fields.get("id"), function=fn)
            chunk.choices[0].delta.tool_calls = [call]
            return chunk

        yield piece(id="call_1", name="send", args="")
        for i in range(20):
            yield piece(args='{"body": "' if i == 0 else "lorem ipsum dolor sit amet ")
        if self.cut:
            raise errors.BackendUnavailable("cut", backend=self.spec.name)
        yield make_chunk("c", "m", finish_reason="tool_calls")


@pytest.mark.parametrize("cut", [True, False])
def test_a_tool_call_stream_is_charged_and_a_cut_one_hands_back_its_partial_call(cut) -> None:
    """A provider bills a tool call's arguments like text: a tool-call stream, whole or
    cut, is charged the prompt and the arguments delivered, and the interruption carries
    the partial call so the caller can tell what arrived."""
    tp = policy("cost: {daily_budget_usd: 10}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    r = router_with([_ToolCallStream("paid", cut=cut, tier="large", price=price)], tp)
    tools = [{"type": "function", "function": {"name": "send"}}]
    args = '{"body": "' + "lorem ipsum dolor sit amet " * 19
    if cut:
        with pytest.raises(StreamInterrupted) as info:
            list(r.stream("Q" * 200, team="team", tools=tools))
        assert info.value.partial_tool_calls == (
            {"id": "call_1", "name": "send", "arguments": args},
        )
    else:
        list(r.stream("Q" * 200, team="team", tools=tools))
    prompt = r.classify("Q" * 200, tools=tools).tokens
    expected = price.cost(prompt, estimate_tokens("send" + args))
    assert r.budget.spent(tp)["daily"] == pytest.approx(expected)


class _SpentElsewhere(MemoryBudgetStore):
    """A shared store another process fills between the decision and the reservation."""

    def try_reserve(self, limits, amount):  # type: ignore[no-untyped-def]
        return False


def test_a_budget_refusal_before_sending_does_not_use_up_max_attempts() -> None:
    tp = policy(
        "cost: {daily_budget_usd: 1, on_budget_exhausted: degrade}\n"
        "routing: {max_attempts: 1, backoff_initial_ms: 1}"
    )
    price = Price(input_per_mtok=100.0, output_per_mtok=100.0)
    paid = FakeBackend("paid", tier="large", price=price)
    free = FakeBackend("free", tier="small", reply="free answer")
    r = router_with([paid, free], tp, complexity=0.9, budget_store=_SpentElsewhere())
    resp = r.chat("Q" * 200, team="team")
    assert resp.text == "free answer" and paid.calls == 0
    assert [(a.backend, a.outcome) for a in resp.route.attempts] == [
        ("paid", "error"),
        ("free", "ok"),
    ]


class _NoUsage(FakeBackend):
    def stream(self, request, **kw):  # type: ignore[no-untyped-def]
        yield from (c for c in super().stream(request, **kw) if c.choices)


class _WholeNoUsage(FakeBackend):
    def _complete(self, request, text):  # type: ignore[no-untyped-def]
        completion = super()._complete(request, text)
        completion.usage = None
        return completion


def test_a_whole_answer_without_usage_is_charged_its_prompt_and_its_output() -> None:
    """As a stream is: a server that leaves out usage still costs its output."""
    tp = policy("cost: {daily_budget_usd: 10}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    r = router_with([_WholeNoUsage("paid", tier="large", price=price, reply="y" * 80)], tp)
    assert r.chat("Q" * 200, team="team").route.cost_usd is None
    expected = price.cost(r.classify("Q" * 200).tokens, estimate_tokens("y" * 80))
    assert r.budget.spent(tp)["daily"] == pytest.approx(expected)


def test_an_attempt_that_timed_out_is_charged_its_prompt() -> None:
    """It was sent, and its provider may well have processed (and billed) it."""
    tp = policy(
        "cost: {daily_budget_usd: 10}\nlatency: {attempt_timeout_ms: 50}\n"
        "routing: {retries: 0, max_attempts: 1}"
    )
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    slow = FakeBackend("paid", tier="large", price=price, latency_ms=2000, reply="late")
    r = router_with([slow], tp)
    with pytest.raises(errors.AllAttemptsFailed):
        r.chat("Q" * 200, team="team")
    prompt = price.cost(r.classify("Q" * 200).tokens, 0)
    assert r.budget.spent(tp)["daily"] == pytest.approx(prompt)


def test_a_request_its_caller_cancelled_is_charged_its_prompt() -> None:
    tp = policy("cost: {daily_budget_usd: 10}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    r = router_with([FakeBackend("paid", tier="large", price=price, latency_ms=2000)], tp)

    async def cancel_it() -> None:
        task = asyncio.ensure_future(r.achat("Q" * 200, team="team"))
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    prompt = price.cost(r.classify("Q" * 200).tokens, 0)
    assert r.budget.spent(tp)["daily"] == pytest.approx(prompt)


def test_a_stream_without_usage_is_charged_an_estimate_but_reports_no_cost() -> None:
    tp = policy("cost: {daily_budget_usd: 10}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    r = router_with([_NoUsage("paid", tier="large", price=price, reply="y" * 80)], tp)
    chunks = list(r.stream("Q" * 200, team="team"))
    assert chunks[-1].route.cost_usd is None  # nothing was measured
    tokens = r.classify("Q" * 200).tokens
    expected = price.cost(tokens, estimate_tokens("y" * 80))
    assert r.budget.spent(tp)["daily"] == pytest.approx(expected)  # but the budget counts it


def test_64_concurrent_requests_never_overspend_a_budget() -> None:
    budget = 0.02
    tp = policy(f"cost: {{daily_budget_usd: {budget}, on_budget_exhausted: degrade}}")
    price = Price(input_per_mtok=100.0, output_per_mtok=100.0)
    paid = FakeBackend("paid", tier="large", price=price, latency_ms=20, reply="x" * 40)
    free = FakeBackend("free", tier="small")
    r = router_with([paid, free], tp, complexity=0.9)
    costs: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        resp = r.chat("Q" * 200, team="team", max_tokens=10)
        with lock:
            costs.append(resp.route.cost_usd or 0.0)

    threads = [threading.Thread(target=one) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(costs) == 64
    spent = sum(costs)
    one_request_max = price.cost(200 // 4 + 20, 10)
    assert spent <= budget + one_request_max
    assert paid.calls > 0 and free.calls > 0  # it spent up to the limit, then degraded
    assert Budgets(r.budget.store).spent(tp)["daily"] == pytest.approx(spent)


def test_requests_without_max_tokens_never_overspend_a_budget_either() -> None:
    """Without max_tokens, a priced call is capped at the allowance its reservation priced;
    a long answer would otherwise cost several times what was reserved."""
    budget = 0.05
    tp = policy(f"cost: {{daily_budget_usd: {budget}, on_budget_exhausted: reject}}")
    price = Price(input_per_mtok=10.0, output_per_mtok=30.0)
    long_answer = "lorem ipsum " * 400  # ~1,200 tokens, far above the 256 allowance
    paid = FakeBackend("paid", tier="large", price=price, latency_ms=20, reply=long_answer)
    r = router_with([paid], tp, complexity=0.9)

    def one() -> None:
        with contextlib.suppress(BudgetExceeded):
            r.chat("Summarise the attached report please. " * 20, team="team")

    threads = [threading.Thread(target=one) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert paid.calls > 0
    assert {q.max_tokens for q in paid.requests} == {256}  # the policy's allowance
    assert Budgets(r.budget.store).spent(tp)["daily"] <= budget
    # Without a budget the caller's request goes as it is (the default policy has only a
    # per-request ceiling, which must not truncate answers).
    unbounded = FakeBackend("paid", tier="large", price=price, reply="ok")
    router_with([unbounded], complexity=0.9).chat("hi")
    assert unbounded.requests[0].max_tokens is None


# --- the wire: a fault-injecting server ----------------------------------------------


def http_backend(name: str, server: FaultServer, tier="small", zone="local"):
    spec = BackendSpec(
        name=name,
        tier=tier,
        zone=zone,
        kind="openai_compatible",
        model="fault-model",
        context_window=32768,
        capabilities=Capabilities(streaming_usage=True),
        price=Price(input_per_mtok=1.0 if zone == "remote" else 0.0),
        options={"base_url": server.base_url, "read_timeout": 2.0, "connect_timeout": 1.0},
    )
    return OpenAICompatibleBackend.from_spec(spec)


FAST = (
    "routing: {retries: 1, backoff_initial_ms: 1, backoff_jitter_ms: 1, "
    "retry_after_cap_ms: 50}\nlatency: {deadline_ms: 4000, attempt_timeout_ms: 600}\n"
)


@pytest.fixture()
def servers():
    with (
        FaultServer(retry_after_s=0.01, delay_s=0.02) as a,
        FaultServer(retry_after_s=0.01, delay_s=0.02) as b,
    ):
        yield a, b


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("refuse", "BackendUnavailable"),
        ("rate_limit", "RateLimited"),
        ("server_error", "ServerError"),
        ("malformed", "MalformedResponse"),
        ("hang", "BackendTimeout"),
    ],
)
def test_each_fault_is_typed_and_retried(servers, fault, error) -> None:
    a, _ = servers
    r = router_with([http_backend("local", a)], policy(FAST))
    a.schedule([fault])
    t0 = time.monotonic()
    resp = r.chat("Hello", team="team")
    assert [x.error_type for x in resp.route.attempts] == [error, None]
    assert resp.text == a.reply
    assert time.monotonic() - t0 < 3  # a hang costs one attempt timeout, not forever


def test_delay_is_just_slow(servers) -> None:
    a, _ = servers
    r = router_with([http_backend("local", a)], policy(FAST))
    a.schedule(["delay"])
    assert r.chat("Hello", team="team").route.attempts[0].outcome == "ok"


def test_stream_cut_before_first_chunk_switches_silently(servers) -> None:
    a, b = servers
    r = router_with(
        [http_backend("a", a), http_backend("b", b, tier="large")],
        policy(FAST.replace("retries: 1", "retries: 0")),
    )
    a.schedule(["cut_before"])
    chunks = list(r.stream("Hello", team="team"))
    assert "".join(c.text for c in chunks) == b.reply
    assert chunks[-1].route.backend == "b"


def test_stream_cut_after_first_chunk_is_never_a_clean_end(servers) -> None:
    a, _ = servers
    r = router_with([http_backend("a", a)], policy(FAST))
    a.schedule(["cut_after"])
    got = []
    with pytest.raises(StreamInterrupted) as info:
        for c in r.stream("Hello", team="team"):
            got.append(c.text)
    assert info.value.partial_text == "".join(got)
    assert a.reply.startswith(info.value.partial_text) and info.value.partial_text


class _DiesAfterFinish(FakeBackend):
    """Sends the whole answer and its finish reason, then drops before the usage chunk."""

    def stream(self, request, **kw):  # type: ignore[no-untyped-def]
        for chunk in super().stream(request, **kw):
            if not chunk.choices:
                raise errors.BackendUnavailable("connection reset", backend=self.spec.name)
            yield chunk


class _RefusesMidStream(FakeBackend):
    def stream(self, request, **kw):  # type: ignore[no-untyped-def]
        for i, chunk in enumerate(super().stream(request, **kw)):
            if i == 2:
                raise errors.ContentRefused("filtered mid-stream", backend=self.spec.name)
            yield chunk


class _StallsAsync(FakeBackend):
    """An async stream that never yields and ignores its timeout."""

    async def astream(self, request, **kw):  # type: ignore[no-untyped-def]
        await asyncio.sleep(3600)
        yield  # pragma: no cover


@pytest.mark.parametrize("mode", ["error", "restart"])
def test_a_stream_that_fails_after_its_finish_reason_is_a_clean_end(mode: str) -> None:
    tp = policy(f"streaming: {{on_interrupt: {mode}}}\nrouting: {{retries: 0}}")
    first = _DiesAfterFinish("a", reply="complete answer")
    r = router_with([first, FakeBackend("b", tier="small", reply="second answer")], tp)
    chunks = list(r.stream("Hi", team="team"))
    assert "".join(c.text for c in chunks) == "complete answer"
    assert not [c for c in chunks if c.event]
    assert [a.outcome for a in chunks[-1].route.attempts] == ["ok"]


@pytest.mark.parametrize(
    ("first", "routing"),
    [
        (FakeBackend("a", reply="alpha " * 10, script=[{"cut_after": 2}]), "max_attempts: 1"),
        (_RefusesMidStream("a", reply="alpha " * 10), "retries: 0"),  # a refusal stops
    ],
    ids=["no attempt left", "refused mid-stream"],
)
def test_restart_is_announced_only_when_another_attempt_answers(first, routing: str) -> None:
    tp = policy(f"streaming: {{on_interrupt: restart}}\nrouting: {{{routing}}}")
    r = router_with([first, FakeBackend("b", tier="small", reply="beta " * 10)], tp)
    got = []
    with pytest.raises(StreamInterrupted) as info:
        for c in r.stream("Hello", team="team"):
            got.append(c)
    assert not [c for c in got if c.event]  # never told to discard what it cannot replace
    assert info.value.partial_text == "".join(c.text for c in got) != ""


def test_restart_retries_the_same_backend_while_retries_allow() -> None:
    tp = policy("streaming: {on_interrupt: restart}\nrouting: {retries: 1, backoff_initial_ms: 1}")
    flaky = FakeBackend("a", tier="small", reply="alpha " * 5, script=[{"cut_after": 2}])
    r = router_with([flaky, FakeBackend("b", tier="small", reply="beta")], tp)
    chunks = list(r.stream("Hello", team="team"))
    after = chunks[[c.event for c in chunks].index("restart") + 1 :]
    assert "".join(c.text for c in after) == "alpha " * 5
    attempts = chunks[-1].route.attempts
    assert [(a.backend, a.outcome, a.retry) for a in attempts] == [
        ("a", "error", 0),
        ("a", "ok", 1),
    ]


@pytest.mark.parametrize("stop_at", ["first token", "finish reason"])
def test_a_stream_the_caller_stops_reading_is_charged_for_what_it_delivered(
    stop_at: str,
) -> None:
    tp = policy("cost: {daily_budget_usd: 10}")
    price = Price(input_per_mtok=1000.0, output_per_mtok=1000.0)
    paid = FakeBackend("paid", tier="large", price=price, reply="y" * 400, chunk_chars=40)
    r = router_with([paid], tp, complexity=0.9)
    stream = r.stream("Q" * 200, team="team", max_tokens=200)
    delivered = ""
    for c in stream:
        delivered += c.text
        if (stop_at == "first token" and delivered) or (c.choices and c.choices[0].finish_reason):
            break
    stream.close()
    tokens = r.classify("Q" * 200).tokens
    expected = price.cost(tokens, estimate_tokens(delivered))
    assert r.budget.spent(tp)["daily"] == pytest.approx(expected)


def test_stream_attempts_honour_the_attempt_timeout() -> None:
    tp = policy(
        "latency: {attempt_timeout_ms: 100, deadline_ms: 3000}\n"
        "routing: {retries: 0, backoff_initial_ms: 1, backoff_jitter_ms: 1}"
    )
    slow = FakeBackend("slow", tier="small", latency_ms=1500, reply="slow")
    fast = FakeBackend("fast", tier="large", reply="fast")
    r = router_with([slow, fast], tp)
    chunks = list(r.stream("Hi", team="team"))
    assert "".join(c.text for c in chunks) == "fast"
    assert [a.outcome for a in chunks[-1].route.attempts] == ["error", "ok"]


async def test_an_async_stream_that_stalls_is_cut_by_the_safety_net() -> None:
    tp = policy(
        "latency: {attempt_timeout_ms: 100, deadline_ms: 5000}\n"
        "routing: {retries: 0, backoff_initial_ms: 1, backoff_jitter_ms: 1}"
    )
    r = router_with([_StallsAsync("stuck", tier="small"), FakeBackend("b", tier="large")], tp)
    started = time.monotonic()
    chunks = [c async for c in r.astream("Hi", team="team")]
    assert time.monotonic() - started < 3.0  # the attempt timeout + 1 s, not an hour
    assert chunks[-1].route.backend == "b"
    assert chunks[-1].route.attempts[0].error_type == "BackendTimeout"


SECRET_TEXTS = [
    ("email", "jane.doe@example.com", "Write to jane.doe@example.com today"),
    ("phone", "+44 20 7946 0958", "Call +44 20 7946 0958 please"),
    ("iban", "GB82 WEST 1234 5698 7654 32", "Pay GB82 WEST 1234 5698 7654 32 now"),
]
fault_names = st.sampled_from(
    [
        None,
        None,
        "refuse",
        "rate_limit",
        "server_error",
        "malformed",
        "cut_before",
        "cut_after",
        "delay",
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(SECRET_TEXTS), st.sampled_from(["local_only", "redact"]), st.booleans()
        ),
        min_size=1,
        max_size=4,
    ),
    local_faults=st.lists(fault_names, max_size=6),
    remote_faults=st.lists(fault_names, max_size=6),
)
def test_no_forbidden_body_ever_reaches_the_remote_server(
    servers, requests, local_faults, remote_faults
) -> None:
    local_srv, remote_srv = servers
    local_srv.schedule(local_faults)
    remote_srv.schedule(remote_faults)
    for (cls, value, text), action, stream in requests:
        tp = policy(f"privacy: {{{cls}: {action}}}\n" + FAST)
        r = router_with(
            [
                http_backend("local", local_srv),
                http_backend("remote", remote_srv, tier="proprietary", zone="remote"),
            ],
            tp,
            complexity=0.95,
        )
        before = len(remote_srv.bodies)
        t0 = time.monotonic()
        try:
            if stream:
                for _ in r.stream(text, team="team"):
                    pass
            else:
                r.chat(text, team="team")
        except RouterError:
            pass  # a typed error is an outcome; anything else fails the test
        assert time.monotonic() - t0 < 4.0 + 1.0  # within the deadline, no hang
        for body in remote_srv.bodies[before:]:
            assert value not in str(body)
            if action == "local_only":
                raise AssertionError("a local_only request reached the remote server")
        r.close()


def test_async_paths_against_the_server(servers) -> None:
    a, b = servers
    r = router_with([http_backend("a", a), http_backend("b", b, tier="large")], policy(FAST))
    a.schedule(["server_error", "server_error"])

    async def go():
        resp = await r.achat("Hello", team="team")
        chunks = [c async for c in r.astream("Hello", team="team")]
        return resp, chunks

    resp, chunks = asyncio.run(go())
    assert resp.route.backend == "b"
    assert "".join(c.text for c in chunks) == a.reply


def test_cold_start_prior_from_model_metadata() -> None:
    from router.resilience.latency import prior_from_metadata

    dense = prior_from_metadata({"file_size_bytes": 100_000_000})
    moe = prior_from_metadata(
        {"file_size_bytes": 100_000_000, "expert_count": 8, "expert_used_count": 2}
    )
    assert dense is not None and moe is not None and 0 < moe < dense
    assert prior_from_metadata({}) is None

    class WithMetadata(FakeBackend):
        def metadata(self):
            return {"file_size_bytes": 400_000_000}

    tp = policy("latency: {target_ms: 1000}")
    r = router_with(
        [WithMetadata("big-local", tier="large"), FakeBackend("small")], tp, complexity=0.9
    )
    big = next(c for c in r.explain("Hi", team="team").decision.excluded)
    assert big.backend == "big-local" and "predicted latency" in big.reasons[0]


def test_a_latency_prior_scales_with_the_answer_and_expires_like_an_observation() -> None:
    """A cold-start guess of 3 s for 256 tokens does not exclude a 16-token request under
    a 2.5 s target, and a guess that excluded a backend is dropped after a minute, so the
    backend gets measured instead of being left out for good."""
    now = [0.0]
    t = LatencyTracker(prior_ms=3000, stale_after_s=60.0, clock=lambda: now[0])
    assert t.predict_ms(256) == pytest.approx(3000)
    assert t.predict_ms(16) == pytest.approx(3000 * 16 / 256)
    now[0] = 61.0
    assert t.predict_ms(256) is None

    tp = policy("latency: {target_ms: 2500}")
    spec = BackendSpec(
        name="local", tier="small", zone="local", kind="fake", model="m", expected_latency_ms=3000
    )
    local = FakeBackend(spec=spec)
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote")
    r = router_with([local, cloud], tp, complexity=0.1)
    assert r.explain("Hi", team="team").decision.ranked[0].backend == "cloud"  # 256 tokens
    assert r.chat("Hi", team="team", max_tokens=16).route.backend == "local"


def test_a_busy_backend_is_skipped_without_a_retry_and_without_opening_its_circuit() -> None:
    """An in-process model's full queue is backpressure: the request moves on at once,
    and a burst of them does not take the model offline for the cooldown."""
    busy = errors.BackendUnavailable("queue full", backend="local")
    busy.overloaded = True
    local = FakeBackend("local", tier="small", script=[busy] * 20)
    spare = FakeBackend("spare", tier="large", reply="spare")
    r = router_with([local, spare], policy("routing: {retries: 2}"), complexity=0.1)
    for _ in range(10):
        assert r.chat("hi", team="team").route.backend == "spare"
    assert local.calls == 10  # one attempt each: no retry of a full queue
    assert r.health.breakers["local"].state == "closed"
    assert not counts_against_backend(busy) and not is_retryable(busy)
    assert counts_against_backend(errors.BackendUnavailable("refused", backend="local"))


def test_explain_and_the_route_show_a_backend_the_budget_left_cannot_cover() -> None:
    # Each call reserves ~$0.0087 (400 characters plus the 256-token allowance) and costs
    # ~$0.001: after four calls what is left cannot cover a fifth.
    tp = policy("cost: {daily_budget_usd: 0.012, on_budget_exhausted: degrade}")
    price = Price(input_per_mtok=10.0, output_per_mtok=30.0)
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote", price=price, reply="c")
    local = FakeBackend("local", tier="large", reply="l")
    r = router_with([cloud, local], tp, complexity=0.9)
    prompt = "Q" * 400
    served = [r.chat(prompt, team="team").route.backend for _ in range(6)]
    assert served[0] == "cloud" and served[-1] == "local"
    explained = r.explain(prompt, team="team")
    answer = r.chat(prompt, team="team")
    assert explained.backend == answer.route.backend == "local"
    why = next(c.reasons for c in answer.route.candidates if c.backend == "cloud")
    assert "daily budget cannot cover this call" in why[0]
    assert [a.backend for a in answer.route.attempts] == ["local"]  # no refused attempt


def test_under_reject_explain_says_the_budget_left_cannot_cover_the_chosen_backend() -> None:
    tp = policy("cost: {daily_budget_usd: 0.012, on_budget_exhausted: reject}")
    price = Price(input_per_mtok=10.0, output_per_mtok=30.0)
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote", price=price, reply="c")
    r = router_with([cloud, FakeBackend("local", tier="large", reply="l")], tp, complexity=0.9)
    prompt = "Q" * 400
    while True:  # spend until what is left cannot cover another call
        try:
            r.chat(prompt, team="team")
        except BudgetExceeded as exc:
            refused = str(exc)
            break
    explained = r.explain(prompt, team="team")
    assert explained.backend == "cloud"  # reject refuses the request; it does not degrade
    why = next(c.reasons for c in explained.decision.ranked if c.backend == "cloud")
    assert any("daily budget cannot cover this call" in w and "rejects" in w for w in why)
    assert "cannot cover this call" in refused


def test_a_timeout_spent_in_an_in_process_queue_is_overloaded_sync_and_async() -> None:
    """The model is busy with another call for a second; a call with a 0.2 s timeout waits
    in the queue all that time: busy, not broken, whichever way it was called."""
    from router.backends._inprocess import InProcessBackend
    from router.messages import parse_request

    class Busy(InProcessBackend):
        def __init__(self) -> None:
            spec = BackendSpec(name="busy", tier="small", zone="local", kind="fake", model="m")
            super().__init__(spec, instances=1, max_queue=4)

        def _slot(self, i):  # type: ignore[no-untyped-def]
            return type("Slot", (), {"job": None})()

        def _generate(self, slot, job):  # type: ignore[no-untyped-def]
            t = time.monotonic()
            while time.monotonic() - t < 1.0 and not job.stopped():
                time.sleep(0.01)
            raise RuntimeError("stopped")

        def _translate(self, exc, job):  # type: ignore[no-untyped-def]
            return errors.ServerError(str(exc), backend=self.name)

    req = parse_request("hi")
    got: list[BaseException] = []

    async def async_calls(b: Busy) -> None:
        first = asyncio.create_task(b.achat(req, timeout=2))
        await asyncio.sleep(0.05)
        try:
            await b.achat(req, timeout=0.2)
        except errors.BackendTimeout as exc:
            got.append(exc)
        with contextlib.suppress(Exception):
            await first
        first = asyncio.create_task(b.achat(req, timeout=2))
        await asyncio.sleep(0.05)
        try:
            async for _ in b.astream(req, timeout=0.2):
                pass
        except errors.BackendTimeout as exc:
            got.append(exc)
        with contextlib.suppress(Exception):
            await first

    b = Busy()

    def occupy() -> None:
        with contextlib.suppress(errors.RouterError):
            b.chat(req, timeout=2)

    worker = threading.Thread(target=occupy)
    try:
        worker.start()
        time.sleep(0.05)
        try:
            b.chat(req, timeout=0.2)
        except errors.BackendTimeout as exc:
            got.append(exc)
        worker.join()
        asyncio.run(async_calls(b))
    finally:
        b.close()
    assert len(got) == 3 and all(e.overloaded for e in got), [str(e) for e in got]
