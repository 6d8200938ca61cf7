"""The router end to end through scripted backends: routes, fallbacks, errors, streams."""

from __future__ import annotations

import asyncio

import pytest

from router import (
    AllAttemptsFailed,
    BudgetExceeded,
    Capabilities,
    ContentRefused,
    DeadlineExceeded,
    FakeBackend,
    InvalidRequest,
    NoRouteAvailable,
    Router,
    StreamInterrupted,
    UnknownTeam,
)
from tests.helpers import FixedScorer, policy, router_with, three_tiers

EMAIL = "jane.doe@example.com"


def test_chat_returns_an_openai_shaped_completion_with_a_route() -> None:
    r = router_with(three_tiers())
    resp = r.chat([{"role": "user", "content": "Hello!"}])
    assert resp.object == "chat.completion"
    assert resp.choices[0].message.content == "small answer"
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    route = resp.route
    assert (route.backend, route.tier, route.zone) == ("small", "small", "local")
    assert route.reasons and route.candidates
    assert [a.outcome for a in route.attempts] == ["ok"]
    d = resp.to_dict()
    assert d["route"]["backend"] == "small" and d["choices"][0]["message"]["content"]


def test_hard_requests_go_to_the_required_tier() -> None:
    r = router_with(three_tiers(), complexity=0.6)
    assert r.chat("Design a distributed lock").route.backend == "large"


def test_fallback_walks_the_ranking_and_records_every_attempt() -> None:
    backends = three_tiers(small={"script": ["unavailable", "unavailable"]})
    r = router_with(backends)
    resp = r.chat("Hello")
    assert resp.route.backend == "large"
    assert [(a.backend, a.outcome, a.error_type) for a in resp.route.attempts] == [
        ("small", "error", "BackendUnavailable"),
        ("small", "error", "BackendUnavailable"),  # one retry (policy default)
        ("large", "ok", None),
    ]
    assert resp.route.fallbacks == 1


def test_retry_count_comes_from_the_policy() -> None:
    tp = policy("routing: {retries: 3, backoff_initial_ms: 1, backoff_jitter_ms: 1}")
    backends = three_tiers(small={"script": ["timeout"] * 3})
    r = router_with(backends, tp)
    resp = r.chat("Hello", team="team")
    assert resp.route.backend == "small"
    assert len(resp.route.attempts) == 4


def test_bad_requests_are_not_retried_on_the_same_backend() -> None:
    r = router_with(three_tiers(small={"script": ["bad_request"]}))
    resp = r.chat("Hello")
    assert [a.backend for a in resp.route.attempts] == ["small", "large"]


def test_context_too_long_moves_to_a_larger_window() -> None:
    small = FakeBackend("small", context_window=4096, script=["context_too_long"])
    same = FakeBackend("same-window", tier="large", context_window=4096)
    big = FakeBackend("big", tier="large", context_window=65536)
    r = router_with([small, same, big])
    resp = r.chat("Hello")
    assert resp.route.backend == "big"
    assert same.calls == 0  # a window no larger than the one that failed is skipped


def test_a_content_refusal_is_not_routed_around() -> None:
    r = router_with(three_tiers(small={"script": ["refused"]}))
    with pytest.raises(ContentRefused):
        r.chat("Hello")


def test_when_everything_fails_the_error_lists_each_attempt() -> None:
    backends = [
        FakeBackend("a", script=["server_error"] * 9),
        FakeBackend("b", tier="large", script=["server_error"] * 9),
    ]
    r = router_with(backends)
    with pytest.raises(AllAttemptsFailed) as info:
        r.chat("Hello")
    assert [a.backend for a in info.value.attempts] == ["a", "a", "b", "b"]
    # Each reason, not only its type: "connection refused", "OPENAI_API_KEY is not set".
    assert str(info.value) == (
        "all 4 attempt(s) failed: a: scripted server error (HTTP 500) (ServerError, 2 times); "
        "b: scripted server error (HTTP 500) (ServerError, 2 times)"
    )


def test_no_route_lists_every_candidate_and_why() -> None:
    r = router_with([FakeBackend("cloud", tier="proprietary", zone="remote")])
    with pytest.raises(NoRouteAvailable) as info:
        r.chat(f"Write to {EMAIL}")
    assert [c.backend for c in info.value.candidates] == ["cloud"]
    assert "email is local_only" in str(info.value)


def test_deadline_bounds_the_whole_request() -> None:
    tp = policy("latency: {deadline_ms: 150, attempt_timeout_ms: 100}\nrouting: {retries: 5}")
    slow = FakeBackend("slow", latency_ms=500)
    r = router_with([slow], tp)
    with pytest.raises((DeadlineExceeded, AllAttemptsFailed)):
        r.chat("Hello", team="team")


def test_unknown_team_and_bad_labels_are_typed_errors() -> None:
    r = router_with(three_tiers())
    with pytest.raises(UnknownTeam):
        r.chat("Hello", team="nobody")
    with pytest.raises(InvalidRequest) as info:
        r.chat("Hello", labels={"sensitivity": 3})
    assert info.value.field == "labels"


def test_async_uses_the_same_decision() -> None:
    r = router_with(three_tiers(small={"script": ["unavailable", "unavailable"]}))

    async def go():
        return await r.achat("Hello")

    resp = asyncio.run(go())
    assert resp.route.backend == "large"
    assert resp.route.reasons == r.explain("Hello").decision.reasons


def test_explain_calls_no_backend() -> None:
    backends = three_tiers()
    r = router_with(backends)
    e = r.explain(f"Mail {EMAIL}", team="default")
    assert e.backend == "small"
    assert all(b.calls == 0 for b in backends)
    out = e.to_dict()
    assert set(out) >= {
        "backend",
        "tier",
        "zone",
        "reasons",
        "candidates",
        "classification",
        "policy",
    }
    assert out["classification"]["pii"] == ["email"]
    assert EMAIL not in str(out)  # detections carry spans, never values


def test_stream_yields_chunks_then_a_final_chunk_with_route_and_usage() -> None:
    r = router_with(three_tiers())
    chunks = list(r.stream("Hello"))
    assert "".join(c.text for c in chunks) == "small answer"
    final = chunks[-1]
    assert final.route is not None and final.usage is not None
    assert final.route.backend == "small"


def test_stream_switches_silently_before_the_first_token() -> None:
    backends = three_tiers(small={"script": ["unavailable", {"cut_after": 0}]})
    r = router_with(backends)
    chunks = list(r.stream("Hello"))
    assert "".join(c.text for c in chunks) == "large answer"
    assert all(c.event is None for c in chunks)


def test_stream_cut_after_the_first_token_raises_with_the_partial_text() -> None:
    r = router_with(three_tiers(small={"script": [{"cut_after": 1}]}))
    got = []
    with pytest.raises(StreamInterrupted) as info:
        for chunk in r.stream("Hello"):
            got.append(chunk.text)
    assert info.value.partial_text == "".join(got) != ""
    assert info.value.backend == "small"


def test_stream_restart_policy_announces_the_restart() -> None:
    tp = policy("streaming: {on_interrupt: restart}\nrouting: {retries: 0}")
    r = router_with(three_tiers(small={"script": [{"cut_after": 1}]}), tp)
    chunks = list(r.stream("Hello", team="team"))
    events = [c.event for c in chunks if c.event]
    assert events == ["restart"]
    after = chunks[[c.event for c in chunks].index("restart") + 1 :]
    assert "".join(c.text for c in after) == "large answer"
    assert chunks[-1].route.events


def test_async_stream() -> None:
    r = router_with(three_tiers(small={"script": ["unavailable", "unavailable"]}))

    async def go():
        return [c async for c in r.astream("Hello")]

    chunks = asyncio.run(go())
    assert "".join(c.text for c in chunks) == "large answer"
    assert chunks[-1].route.backend == "large"


def test_redaction_hides_values_from_remote_and_restores_them() -> None:
    tp = policy("privacy: {email: redact}")
    cloud = FakeBackend(
        "cloud",
        tier="proprietary",
        zone="remote",
        reply=lambda req: f"I will write to {req.messages[-1].text().split()[-1]}",
    )
    r = router_with([cloud], tp)
    resp = r.chat(f"Please write to {EMAIL}", team="team")
    sent = cloud.requests[-1].messages[-1].text()
    assert EMAIL not in sent and "[EMAIL_1]" in sent
    assert resp.text == f"I will write to {EMAIL}"
    assert resp.route.redacted == {"email": 1}


def test_redaction_is_stable_across_a_conversation_and_in_streams() -> None:
    tp = policy("privacy: {email: redact}")
    cloud = FakeBackend(
        "cloud",
        tier="proprietary",
        zone="remote",
        chunk_chars=3,
        reply="Sent to [EMAIL_2] and [EMAIL_1].",
    )
    r = router_with([cloud], tp)
    convo = [
        {"role": "user", "content": f"My address is {EMAIL}."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": f"Also copy bob@example.org and {EMAIL}."},
    ]
    text = "".join(c.text for c in r.stream(convo, team="team"))
    assert text == f"Sent to bob@example.org and {EMAIL}."
    sent = [m.text() for m in cloud.requests[-1].messages]
    assert sent[0] == "My address is [EMAIL_1]."
    assert sent[2] == "Also copy [EMAIL_2] and [EMAIL_1]."


def test_budget_degrade_moves_to_free_backends() -> None:
    tp = policy("cost: {daily_budget_usd: 0.00001, on_budget_exhausted: degrade}")
    r = router_with(three_tiers(), tp, complexity=0.95)
    resp = r.chat("Hard question", team="team")
    assert resp.route.tier == "small"  # the priced tiers could not be reserved


def test_budget_reject_is_a_typed_error() -> None:
    tp = policy("cost: {daily_budget_usd: 0.00001, on_budget_exhausted: reject}")
    r = router_with(three_tiers(), tp, complexity=0.95)
    with pytest.raises(BudgetExceeded) as info:
        r.chat("Hard question", team="team")
    # Nothing was spent: the message says the call does not fit, not that the budget is gone.
    assert "daily budget cannot cover this call" in str(info.value)
    assert "of $1e-05 left" in str(info.value) and "is spent" not in str(info.value)
    assert info.value.period == "daily"


def test_budget_reject_refuses_even_when_a_free_backend_is_left() -> None:
    tp = policy("cost: {daily_budget_usd: 1.0, on_budget_exhausted: reject}")
    r = router_with(three_tiers(), tp, complexity=0.95)
    key = r.budget._limits(r.policies["team"])[0][0]
    r.budget.store.settle([key], 0.0, 1.0)  # the whole daily budget is spent
    with pytest.raises(BudgetExceeded, match="daily budget is spent"):
        r.chat("Hard question", team="team")


def test_stickiness_is_per_team() -> None:
    """Two teams that use the same conversation id do not share its tier."""
    sticky = "quality: {stickiness: {enabled: true}}"
    a, b = policy(sticky, team="a"), policy(sticky, team="b")
    scores = iter([0.95, 0.1])

    class Seq:
        name = "seq"

        def score(self, turns):
            return next(scores)

    r = Router(three_tiers(), [a, b], scorer=Seq(), telemetry=False)
    assert r.chat("Hard", team="a", conversation_id="1").route.tier == "proprietary"
    assert r.chat("easy", team="b", conversation_id="1").route.tier == "small"


def test_conversation_memory_is_bounded_per_team_and_kept_only_when_used() -> None:
    from router.conversations import ConversationTiers

    sticky = policy("quality: {stickiness: {enabled: true}}", team="a")
    busy = policy("quality: {stickiness: {enabled: true}}", team="b")
    plain = policy("", team="c")
    r = Router(three_tiers(), [sticky, busy, plain], scorer=FixedScorer(0.95), telemetry=False)
    r._conversations = ConversationTiers(limit=3)
    r.chat("Hard", team="a", conversation_id="vip")
    for i in range(10):  # a busy team does not push team a's conversation out
        r.chat("Hard", team="b", conversation_id=f"b-{i}")
    assert r._conversations.tier("a", "vip") == "proprietary"
    assert len(r._conversations) == 1 + 3
    r.chat("Hard", team="c", conversation_id="not-sticky")  # no stickiness: nothing kept
    assert r._conversations.tier("c", "not-sticky") is None
    with pytest.raises(InvalidRequest, match="at most 256"):
        r.chat("Hi", team="a", conversation_id="x" * 257)


def test_conversation_stickiness_through_the_router() -> None:
    tp = policy("quality: {stickiness: {enabled: true}}")
    scorer_values = iter([0.6, 0.1])

    class Seq:
        name = "seq"

        def score(self, turns):
            return next(scorer_values)

    r = Router(three_tiers(), [tp], scorer=Seq(), telemetry=False)
    first = r.chat("Design a scheduler", team="team", conversation_id="c1")
    second = r.chat("thanks!", team="team", conversation_id="c1")
    assert first.route.tier == second.route.tier == "large"


def test_router_closes_its_backends() -> None:
    backends = three_tiers()
    with router_with(backends) as r:
        r.chat("Hello")
    assert all(b.closed for b in backends)


def test_chat_with_stream_true_points_to_stream() -> None:
    with pytest.raises(InvalidRequest, match="stream"):
        router_with(three_tiers()).chat("Hello", stream=True)


def test_an_outage_does_not_pin_a_conversation_to_a_lower_tier() -> None:
    """The large tier fails one turn and small answers; the next turn of the conversation
    goes back to large rather than sticking to small."""
    tp = policy("quality: {stickiness: {enabled: true}}")
    small = FakeBackend("small", tier="small", reply="s")
    large = FakeBackend("large", tier="large", reply="l", script=["server_error"] * 2)
    # just above the large threshold (0.5), within the stickiness margin (0.03)
    r = router_with([small, large], tp, complexity=0.51)
    first = r.chat("Design a scheduler", team="team", conversation_id="c1")
    assert first.route.tier == "small"  # large failed: fell back
    second = r.chat("And its tests?", team="team", conversation_id="c1")
    assert second.route.tier == "large"


def test_a_failure_does_not_move_a_conversation_up_for_good() -> None:
    """small fails one turn and large answers; later turns that small can serve go back
    to small rather than staying on the pricier tier."""
    tp = policy("quality: {stickiness: {enabled: true}}")
    small = FakeBackend("small", tier="small", reply="s", script=["server_error"] * 2)
    large = FakeBackend("large", tier="large", reply="l")
    r = router_with([small, large], tp, complexity=0.1)
    assert r.chat("hi", team="team", conversation_id="c1").route.tier == "large"
    assert r.chat("and then?", team="team", conversation_id="c1").route.tier == "small"


def test_an_open_circuit_when_a_turn_is_routed_does_not_move_the_conversation_up() -> None:
    """small's circuit is open when a turn is decided, so the paid tier serves it; once
    small is back, the conversation's next turns go to small, not on to the paid tier."""
    from router.resilience.health import HealthBook

    now = [1000.0]
    tp = policy("quality: {stickiness: {enabled: true}}")
    small = FakeBackend("small", tier="small", reply="s", script=["unavailable"] * 2)
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote", reply="c")
    health = HealthBook(
        [small.spec, cloud.spec], failure_threshold=2, cooldown_s=15.0, clock=lambda: now[0]
    )
    r = router_with([small, cloud], tp, complexity=0.1, health=health)
    r.chat("warm up", team="team")  # two failures of other traffic open small's circuit
    assert health.breakers["small"].state == "open"
    assert r.chat("hi", team="team", conversation_id="c1").route.backend == "cloud"
    now[0] += 60  # long after the cooldown
    for turn in ("and then?", "thanks"):
        route = r.chat(turn, team="team", conversation_id="c1").route
        assert route.backend == "small"
        assert not any("stickiness" in why for why in route.reasons)


@pytest.mark.parametrize("how", ["chat", "achat", "stream"])
def test_a_request_in_flight_when_the_router_closes_gets_router_closed(how) -> None:
    """Its attempt fails while the router closes: no retry, no fallback on backends that
    are closed, and an error that says what happened."""
    import threading

    from router import RouterClosed

    small = FakeBackend("small", latency_ms=300, script=["server_error"] * 3)
    large = FakeBackend("large", tier="large")
    r = router_with([small, large])
    threading.Timer(0.1, r.close).start()
    with pytest.raises(RouterClosed):
        if how == "chat":
            r.chat("Hello")
        elif how == "achat":
            asyncio.run(r.achat("Hello"))
        else:
            list(r.stream("Hello"))
    assert small.calls == 1 and large.calls == 0


def test_labels_that_differ_only_in_case_are_an_error_not_a_silent_choice() -> None:
    r = router_with(three_tiers())
    with pytest.raises(InvalidRequest, match="given twice"):
        r.chat("hi", labels={"Sensitivity": "confidential", "sensitivity": "public"})


def test_a_closed_router_says_so_at_once_and_leaves_its_backends_alone() -> None:
    from router import RouterClosed

    backends = three_tiers()
    r = router_with(backends)
    r.close()
    for _ in range(6):  # enough failures to open a circuit, were they counted
        with pytest.raises(RouterClosed):
            r.chat("Hello")
    with pytest.raises(RouterClosed):
        r.stream("Hello")
    with pytest.raises(RouterClosed):
        asyncio.run(r.achat("Hello"))
    assert all(b.calls == 0 for b in backends)
    assert all(b.state == "closed" for b in r.health.breakers.values())


def test_aclose_closes_every_backend_even_when_one_fails() -> None:
    class Broken(FakeBackend):
        async def aclose(self) -> None:
            raise RuntimeError("event loop is closed")

    broken, other = Broken("broken", tier="small"), FakeBackend("other", tier="large")
    r = router_with([broken, other])
    with pytest.raises(RuntimeError):
        asyncio.run(r.aclose())
    assert other.closed


def test_each_event_loop_gets_one_async_client_of_its_own() -> None:
    """Two loops taking turns (a router shared by two threads) keep one pool each
    instead of rebuilding one on every switch."""
    from router.backends.base import LoopClient

    made: list[object] = []
    clients = LoopClient(lambda: made.append(object()) or made[-1])

    async def get() -> object:
        return clients.get()

    a, b = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        seen = [loop.run_until_complete(get()) for loop in (a, b, a, b, a)]
    finally:
        a.close()
        b.close()
    assert len(made) == 2
    assert seen[0] is seen[2] is seen[4] and seen[1] is seen[3] and seen[0] is not seen[1]


def test_the_route_says_which_ranked_candidates_the_plan_passed_over_and_why() -> None:
    a = FakeBackend("a", tier="large", context_window=8192, script=["context_too_long"])
    b = FakeBackend("b", tier="large", context_window=4096)  # no larger than a's: pointless
    c = FakeBackend("c", tier="small", context_window=32768)
    resp = router_with([a, b, c], complexity=0.6).chat("hello")
    assert resp.route.backend == "c" and b.calls == 0
    skipped = resp.route.to_dict()["skipped"]
    assert [s["backend"] for s in skipped] == ["b"]
    assert "context window 4096" in skipped[0]["reasons"][0] and not skipped[0]["eligible"]
    assert router_with(three_tiers()).chat("hi").route.to_dict()["skipped"] == []


def test_closed_loops_clients_are_dropped_not_kept_forever() -> None:
    """A client's connections hold its loop; one kept per closed loop would leak a pool
    (and its sockets) for every asyncio.run."""
    from router.backends.base import LoopClient

    class Pool:
        def __init__(self) -> None:
            self.loop = asyncio.get_running_loop()  # as a pooled connection does

    clients = LoopClient(Pool)

    async def use() -> None:
        clients.get()

    for _ in range(50):
        asyncio.run(use())
    assert len(clients._clients) == 1  # only the last loop's, dropped at the next switch


def test_an_image_goes_to_a_backend_that_reads_images_and_explain_agrees() -> None:
    """A text-only model is not given an image to fail on: explain and chat pick the
    vision backend, and with local-only data and no local vision model the router fails
    closed and says why."""
    text_only = FakeBackend("small", capabilities=Capabilities(tools=True))
    vision = FakeBackend("cloud", tier="proprietary", zone="remote")
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    r = router_with([text_only, vision], policy("privacy: {email: local_only}"), complexity=0.1)
    question = [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, image]}]
    assert r.explain(question, team="team").decision.ranked[0].backend == "cloud"
    assert r.chat(question, team="team").route.backend == "cloud"
    assert text_only.calls == 0
    private = [{"role": "user", "content": [{"type": "text", "text": "mail a@b.co"}, image]}]
    with pytest.raises(NoRouteAvailable, match="image parts"):
        r.chat(private, team="team")
    assert text_only.calls == 0
