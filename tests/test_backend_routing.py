"""The router end to end on real backends: an in-process tiny model (small tier), a real
``llama_cpp.server`` (large tier) and the ``openai`` SDK on a loopback stub (proprietary)."""

from __future__ import annotations

import pytest

from router import Router
from router.backends.http import OpenAICompatibleBackend
from router.backends.llama_cpp import LlamaCppBackend
from router.backends.proprietary import OpenAIBackend
from router.config import Capabilities
from tests.fixtures_backends import (
    STUB_KEY,
    STUB_REPLY,
    server_spec,
    start_llama_server,
    stub_spec,
    tiny_spec,
)
from tests.helpers import FixedScorer

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow
PHONE = "Call me at +1 415 555 0134 please."


@pytest.fixture(scope="module")
def small(tiny_models):
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.dense, name="small"))
    yield b
    b.close()


def make_router(small, large, cloud, score: float, **kw) -> Router:
    return Router([small, large, cloud], scorer=FixedScorer(score), telemetry=False, **kw)


@pytest.fixture
def tiers(small, llama_server, openai_stub):
    large = OpenAICompatibleBackend.from_spec(server_spec(llama_server, name="large"))
    cloud = OpenAIBackend.from_spec(stub_spec(openai_stub, name="cloud"))
    yield small, large, cloud
    large.close()
    cloud.close()


@pytest.mark.parametrize(("score", "backend"), [(0.1, "small"), (0.6, "large"), (0.95, "cloud")])
def test_each_tier_serves_what_the_policy_requires(tiers, score, backend) -> None:
    r = make_router(*tiers, score)
    resp = r.chat("Tell me something.", max_tokens=8)
    assert resp.route.backend == backend
    assert resp.usage.completion_tokens > 0
    assert [a.backend for a in resp.route.attempts] == [backend]
    if backend == "cloud":
        assert resp.text == STUB_REPLY


def test_personal_data_never_reaches_the_proprietary_tier(tiers, openai_stub) -> None:
    r = make_router(*tiers, 0.95)
    resp = r.chat(PHONE, max_tokens=8)
    assert resp.route.backend in ("small", "large")
    cloud = next(c for c in resp.route.candidates if c.backend == "cloud")
    assert not cloud.eligible and any("phone" in why for why in cloud.reasons)
    assert not openai_stub.records  # nothing was sent


def test_a_provider_failure_falls_back_to_the_next_candidate(tiers, openai_stub) -> None:
    for _ in range(4):
        openai_stub.script.append({"status": 503, "body": {"error": {"type": "overloaded"}}})
    r = make_router(*tiers, 0.95)
    resp = r.chat("Tell me something.", max_tokens=8)
    assert resp.route.backend != "cloud"
    failed = [a for a in resp.route.attempts if a.outcome == "error"]
    assert failed and all(a.error_type == "ServerError" for a in failed)
    assert resp.route.fallbacks >= 1


def test_a_stopped_server_is_routed_around(tiny_models, small, openai_stub) -> None:
    server = start_llama_server(tiny_models.moe)
    large = OpenAICompatibleBackend.from_spec(server_spec(server, name="large"))
    cloud = OpenAIBackend.from_spec(stub_spec(openai_stub, name="cloud"))
    r = make_router(small, large, cloud, 0.6)
    try:
        assert r.chat("first", max_tokens=4).route.backend == "large"
        server.stop()
        resp = r.chat("second", max_tokens=4)
        assert resp.route.backend in ("cloud", "small")
        assert resp.route.attempts[0].backend == "large"
        assert resp.route.attempts[0].error_type == "BackendUnavailable"
    finally:
        server.stop()
        large.close()
        cloud.close()


def test_context_too_long_moves_to_a_larger_window(tiers, openai_stub) -> None:
    # The router's estimate (4 characters a token) lets this through; the byte-level
    # tokenizer counts one token a character, so the small model's real check refuses it.
    r = make_router(*tiers, 0.1)
    resp = r.chat("y" * 460, max_tokens=64)
    first = resp.route.attempts[0]
    assert (first.backend, first.error_type) == ("small", "ContextTooLong")
    assert resp.route.backend == "cloud"  # the only window larger than 512


def test_streaming_through_the_router_on_every_tier(tiers) -> None:
    for score, backend in ((0.1, "small"), (0.6, "large"), (0.95, "cloud")):
        r = make_router(*tiers, score)
        chunks = list(r.stream("Stream something.", max_tokens=8))
        final = chunks[-1]
        assert final.route.backend == backend
        assert final.usage is not None and final.usage.completion_tokens > 0
        assert "".join(c.text for c in chunks)


async def test_async_routing_and_streaming(tiers) -> None:
    r = make_router(*tiers, 0.6)
    resp = await r.achat("Async please.", max_tokens=6)
    assert resp.route.backend == "large"
    r = make_router(*tiers, 0.1)
    chunks = [c async for c in r.astream("Async stream.", max_tokens=6)]
    assert chunks[-1].route.backend == "small"
    assert chunks[-1].usage.completion_tokens == 6


def test_trace_context_reaches_the_provider(small, llama_server, openai_stub) -> None:
    sdk = pytest.importorskip("opentelemetry.sdk.trace")
    pytest.importorskip("router.telemetry")
    provider = sdk.TracerProvider()
    large = OpenAICompatibleBackend.from_spec(server_spec(llama_server, name="large"))
    caps = Capabilities(streaming_usage=True)
    cloud = OpenAIBackend.from_spec(stub_spec(openai_stub, name="cloud", capabilities=caps))
    r = Router([small, large, cloud], scorer=FixedScorer(0.95), tracer_provider=provider)
    r.chat("Trace me.", max_tokens=4)
    sent = openai_stub.records[-1]["headers"]
    assert sent["traceparent"].startswith("00-")
    assert sent["authorization"] == f"Bearer {STUB_KEY}"
    large.close()
    cloud.close()
