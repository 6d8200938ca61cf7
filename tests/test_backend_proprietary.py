"""The proprietary backend with the real ``openai`` SDK against a loopback stub server."""

from __future__ import annotations

import logging

import pytest

from router import errors
from router.backends.proprietary import OpenAIBackend
from router.messages import parse_request
from tests.fixtures_backends import STUB_KEY, STUB_REPLY, free_port, stub_spec

pytest.importorskip("openai")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CONTEXT_MESSAGE = (
    "This model's maximum context length is 128000 tokens. However, your messages resulted "
    "in 130000 tokens. Please reduce the length of the messages."
)


def req(text: str = "hello"):
    return parse_request(text, max_tokens=16)


@pytest.fixture
def cloud(openai_stub):
    b = OpenAIBackend.from_spec(stub_spec(openai_stub))
    yield b
    b.close()


def test_chat_sends_the_key_the_model_and_the_trace_header(cloud, openai_stub) -> None:
    done = cloud.chat(req(), headers={"traceparent": TRACEPARENT})
    assert done.text == STUB_REPLY
    assert done.usage.prompt_tokens == 11 and done.usage.completion_tokens == 5
    sent = openai_stub.records[-1]
    assert sent["headers"]["authorization"] == f"Bearer {STUB_KEY}"
    assert sent["headers"]["traceparent"] == TRACEPARENT
    assert sent["body"]["model"] == "stub-model"
    assert sent["body"]["messages"] == [{"role": "user", "content": "hello"}]


def test_stream_asks_for_usage_and_passes_it_through(cloud, openai_stub) -> None:
    chunks = list(cloud.stream(req()))
    assert openai_stub.records[-1]["body"]["stream_options"] == {"include_usage": True}
    assert "".join(c.text for c in chunks) == STUB_REPLY
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 16


async def test_async_chat_and_stream(cloud) -> None:
    assert (await cloud.achat(req())).text == STUB_REPLY
    chunks = [c async for c in cloud.astream(req())]
    assert "".join(c.text for c in chunks) == STUB_REPLY
    await cloud.aclose()


def test_the_sdk_never_retries(cloud, openai_stub) -> None:
    openai_stub.script.append({"status": 500, "body": {"error": {"type": "server_error"}}})
    with pytest.raises(errors.ServerError):
        cloud.chat(req())
    assert len(openai_stub.records) == 1


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"status": 429, "headers": {"Retry-After": "7"}, "body": {}}, errors.RateLimited),
        (
            {"status": 429, "headers": {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}},
            errors.RateLimited,
        ),
        ({"status": 500, "body": {"error": {"type": "server_error"}}}, errors.ServerError),
        (
            {
                "status": 400,
                "body": {"error": {"code": "context_length_exceeded", "message": CONTEXT_MESSAGE}},
            },
            errors.ContextTooLong,
        ),
        (
            {
                "status": 400,
                "body": {"error": {"code": "content_policy_violation", "message": "no"}},
            },
            errors.ContentRefused,
        ),
        ({"status": 400, "body": {"error": {"code": "content_filter"}}}, errors.ContentRefused),
        ({"status": 400, "body": {"error": {"code": "invalid_value"}}}, errors.BadRequest),
        (
            {"status": 401, "body": {"error": {"code": "invalid_api_key"}}},
            errors.AuthenticationFailed,
        ),
        ({"status": 403, "body": {}}, errors.AuthenticationFailed),
        ({"raw": b"<html>this is not json</html>"}, errors.MalformedResponse),
        ({"drop": True}, errors.BackendUnavailable),
    ],
)
def test_failures_map_to_typed_errors(cloud, openai_stub, step, expected) -> None:
    openai_stub.script.append(step)
    with pytest.raises(expected) as info:
        cloud.chat(req())
    err = info.value
    assert err.backend == "cloud"
    if "status" in step:
        assert err.status == step["status"]
    if expected is errors.RateLimited:
        assert err.retry_after is not None and err.retry_after > 0
    if expected is errors.ContextTooLong:
        assert (err.needed, err.window) == (130000, 128000)


def test_failures_in_streams_are_typed_too(cloud, openai_stub) -> None:
    openai_stub.script.append({"status": 429, "headers": {"retry-after-ms": "250"}, "body": {}})
    with pytest.raises(errors.RateLimited) as info:
        list(cloud.stream(req()))
    assert info.value.retry_after == 0.25


def test_connection_refused_is_unavailable(monkeypatch) -> None:
    monkeypatch.setenv("STUB_OPENAI_KEY", STUB_KEY)

    class Dead:
        base_url = f"http://127.0.0.1:{free_port()}/v1"

    b = OpenAIBackend.from_spec(stub_spec(Dead()))
    with pytest.raises(errors.BackendUnavailable):
        b.chat(req())
    assert not b.health().ok


def test_the_key_never_reaches_logs_reprs_or_errors(cloud, openai_stub, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    cloud.chat(req())
    list(cloud.stream(req()))
    message = f"Incorrect API key provided: {STUB_KEY[:7]}****{STUB_KEY[-4:]}"
    openai_stub.script.append(
        {"status": 401, "body": {"error": {"code": "invalid_api_key", "message": message}}}
    )
    with pytest.raises(errors.AuthenticationFailed) as info:
        cloud.chat(req())
    err = info.value
    shown = [caplog.text, repr(cloud), str(cloud.metadata()), str(err), repr(err)]
    for text in shown:
        assert STUB_KEY not in text
        assert STUB_KEY[-4:] not in text
    assert err.__cause__ is None  # the SDK's exception quotes the key's last characters
    assert cloud.metadata()["api_key_env"] == "STUB_OPENAI_KEY"
    assert cloud.metadata()["api_key_set"] is True


def test_a_missing_key_is_an_authentication_failure(openai_stub, monkeypatch) -> None:
    monkeypatch.delenv("STUB_OPENAI_KEY")
    b = OpenAIBackend.from_spec(stub_spec(openai_stub))
    with pytest.raises(errors.AuthenticationFailed, match="STUB_OPENAI_KEY is not set"):
        b.chat(req())
    assert not openai_stub.records
    assert b.metadata()["api_key_set"] is False


def test_health_lists_models(cloud, openai_stub) -> None:
    assert cloud.health().ok
    assert openai_stub.records[-1]["path"] == "/v1/models"


def test_unknown_options_are_config_errors(openai_stub) -> None:
    spec = stub_spec(openai_stub, max_retries=3)
    with pytest.raises(errors.ConfigError, match="max_retries: unknown option"):
        OpenAIBackend.from_spec(spec)


def test_async_calls_work_from_one_event_loop_after_another(cloud) -> None:
    import asyncio

    async def call() -> tuple[str, object]:
        done = await cloud.achat(req())
        assert cloud._async() is cloud._async()
        return done.text, cloud._async()

    first, client = asyncio.run(call())
    second, other = asyncio.run(call())  # the first loop is closed: its client is not reused
    assert first == second == STUB_REPLY and other is not client


def test_a_closed_backend_raises_instead_of_reopening(cloud) -> None:
    import asyncio

    assert cloud.chat(req()).text == STUB_REPLY
    cloud.close()
    with pytest.raises(errors.BackendUnavailable, match="closed"):
        cloud.chat(req())
    with pytest.raises(errors.BackendUnavailable, match="closed"):
        asyncio.run(cloud.achat(req()))
    assert cloud._client is None  # no new client was built


def test_threads_making_their_first_call_at_once_share_one_client(openai_stub) -> None:
    import threading

    import openai

    built: list[object] = []
    real = openai.OpenAI

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **kw) -> None:
            built.append(self)
            super().__init__(*a, **kw)

    b = OpenAIBackend.from_spec(stub_spec(openai_stub))
    start = threading.Barrier(8)

    def first_call() -> None:
        start.wait()
        b._sync()

    openai.OpenAI = Counting
    try:
        threads = [threading.Thread(target=first_call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        openai.OpenAI = real
        b.close()
    assert len(built) == 1
