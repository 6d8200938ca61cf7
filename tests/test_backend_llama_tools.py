"""Tool calls on the in-process llama.cpp backend, on a tiny random-weight GGUF model: the
streamed shape OpenAI clients expect, and ``tool_choice``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from router import FakeBackend, Observer, Router, errors
from router.backends.llama_cpp import LlamaCppBackend
from router.completion import ChatCompletion, ChatCompletionChunk
from router.config import Capabilities
from router.messages import ChatRequest, parse_request
from tests.fixtures_backends import tiny_spec
from tests.helpers import FixedScorer

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
NAMED = {"type": "function", "function": {"name": "get_weather"}}


@pytest.fixture(scope="module")
def tiny(tiny_models):
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))
    yield b
    b.close()


QUESTION = "What is the weather in Paris?"


def weather_request(**kw: Any) -> ChatRequest:
    return parse_request(QUESTION, **{**TOOL_PARAMS, **kw})


TOOL_PARAMS: dict[str, Any] = {
    "max_tokens": 12,
    "temperature": 0,
    "tools": [WEATHER],
    "tool_choice": NAMED,
}


def accumulate(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, str]]:
    """Tool calls put together the way the openai SDK and LangChain do: per index, the
    first id, and the concatenation of every name piece and every arguments piece."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or ():
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = entry["id"] or (call.id or "")
                if call.function is not None:
                    entry["name"] += call.function.name or ""
                    entry["arguments"] += call.function.arguments or ""
    return calls


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_streamed_tool_call_assembles_to_the_whole_answer(tiny, mode) -> None:
    request = weather_request()
    whole = tiny.chat(request).choices[0].message.tool_calls
    assert whole is not None and len(whole) == 1

    async def read_async() -> list[ChatCompletionChunk]:
        return [c async for c in tiny.astream(request)]

    chunks = list(tiny.stream(request)) if mode == "sync" else asyncio.run(read_async())
    deltas = [d for c in chunks for ch in c.choices for d in ch.delta.tool_calls or ()]
    assert len(deltas) > 2  # the arguments come in pieces
    # OpenAI's shape: id, type and name in the first delta of the call, then arguments only.
    assert deltas[0].id and deltas[0].type == "function" and deltas[0].function.name
    assert [(d.id, d.type, d.function.name) for d in deltas[1:]] == [(None, None, None)] * (
        len(deltas) - 1
    )
    calls = accumulate(chunks)
    assert list(calls) == [0]
    assert calls[0]["name"] == whole[0].function.name == "get_weather"
    assert calls[0]["arguments"] == whole[0].function.arguments
    assert calls[0]["id"].startswith("call_")


def test_the_router_assembles_a_streamed_tool_call_with_its_name_once(tiny_models) -> None:
    answers: list[ChatCompletion] = []

    class Keep(Observer):
        def attempt_finished(self, ctx, spec, token, attempt, response, error) -> None:  # type: ignore[no-untyped-def]
            if response is not None:
                answers.append(response)

    spec = tiny_spec(tiny_models.moe).model_copy(update={"capabilities": Capabilities(tools=True)})
    router = Router(
        [LlamaCppBackend.from_spec(spec)], scorer=FixedScorer(0.1), observer=Keep(), telemetry=False
    )
    chunks = list(router.stream(QUESTION, **TOOL_PARAMS))
    router.close()
    assert accumulate(chunks)[0]["name"] == "get_weather"
    (answer,) = answers
    (call,) = answer.choices[0].message.tool_calls or ()
    assert call.function.name == "get_weather"


NEWS = {
    "type": "function",
    "function": {"name": "get_news", "parameters": {"type": "object", "properties": {}}},
}


@pytest.mark.parametrize("mode", ["whole", "stream"])
def test_tool_choice_required_with_one_tool_forces_a_call_to_it(tiny, mode) -> None:
    request = weather_request(tool_choice="required")
    if mode == "whole":
        answer = tiny.chat(request)
        calls = answer.choices[0].message.tool_calls or []
        assert answer.choices[0].finish_reason == "tool_calls"
        assert [c.function.name for c in calls] == ["get_weather"]
        assert calls[0].function.arguments.startswith("{")
    else:
        chunks = list(tiny.stream(request))
        assert [c["name"] for c in accumulate(chunks).values()] == ["get_weather"]
        finish = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
        assert finish == ["tool_calls"]


@pytest.mark.parametrize("tools", [[WEATHER, NEWS], []], ids=["several tools", "no tools"])
def test_tool_choice_required_that_cannot_be_enforced_is_a_bad_request(tiny, tools) -> None:
    request = weather_request(tools=tools, tool_choice="required")
    why = "several tools" if tools else "without tools"
    with pytest.raises(errors.BadRequest, match=f'tool_choice "required" .*{why}'):
        tiny.chat(request)
    with pytest.raises(errors.BadRequest, match="required"):
        list(tiny.stream(request))

    async def both_async() -> None:
        with pytest.raises(errors.BadRequest):
            await tiny.achat(request)
        with pytest.raises(errors.BadRequest):
            [c async for c in tiny.astream(request)]

    asyncio.run(both_async())
    assert tiny.queue_depth() == 0


def test_the_router_moves_on_when_tool_choice_required_cannot_be_enforced(tiny_models) -> None:
    spec = tiny_spec(tiny_models.moe).model_copy(update={"capabilities": Capabilities(tools=True)})
    local = LlamaCppBackend.from_spec(spec)
    other = FakeBackend("other", tier="large", reply="from the other backend")
    router = Router([local, other], scorer=FixedScorer(0.1), telemetry=False)
    params = {**TOOL_PARAMS, "tools": [WEATHER, NEWS], "tool_choice": "required"}
    answer = router.chat(QUESTION, **params)
    router.close()
    assert answer.route.backend == "other"
    assert [(a.backend, a.error_type) for a in answer.route.attempts] == [
        ("tiny", "BadRequest"),
        ("other", None),
    ]


def test_a_tool_call_stream_stopped_by_its_timeout_shows_no_finish_reason(tiny) -> None:
    got: list[ChatCompletionChunk] = []
    with pytest.raises(errors.BackendTimeout):
        for c in tiny.stream(weather_request(max_tokens=440), timeout=0.05):
            got.append(c)
    assert not [c for c in got if c.choices and c.choices[0].finish_reason]
