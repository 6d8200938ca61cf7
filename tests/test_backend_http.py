"""The OpenAI-compatible HTTP backend against a real ``llama_cpp.server`` on loopback (the
tiny mixture-of-experts model), plus wire-format details against the loopback stub."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from router import errors
from router.backends import openai_wire as wire
from router.backends.http import OpenAICompatibleBackend
from router.config import BackendSpec, Capabilities
from router.messages import parse_request
from tests.fixtures_backends import STUB_REPLY, free_port, server_spec, stub_http_spec

pytestmark = pytest.mark.slow
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def req(text: str = "hello", n: int = 8):
    return parse_request(text, max_tokens=n, temperature=0)


@pytest.fixture
def server_backend(llama_server):
    b = OpenAICompatibleBackend.from_spec(server_spec(llama_server))
    yield b
    b.close()


# --- a real llama-cpp-python server ---------------------------------------------------------


def test_chat_against_a_real_server(server_backend) -> None:
    done = server_backend.chat(req())
    assert done.text
    assert done.usage.completion_tokens == 8
    assert done.usage.prompt_tokens > 8
    assert done.choices[0].finish_reason == "length"


def test_stream_against_a_real_server_ends_with_counted_usage(server_backend) -> None:
    chunks = list(server_backend.stream(req()))
    assert [c for c in chunks if c.choices and c.choices[0].finish_reason == "length"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    # This server sends no usage in streams, so the backend estimates and says so.
    assert usage.model_extra.get("estimated") is True
    assert usage.completion_tokens >= 8
    assert "".join(c.text for c in chunks) == server_backend.chat(req()).text


async def test_async_chat_and_stream_against_a_real_server(server_backend) -> None:
    done = await server_backend.achat(req())
    chunks = [c async for c in server_backend.astream(req())]
    assert "".join(c.text for c in chunks) == done.text
    assert (await server_backend.ahealth()).ok
    await server_backend.aclose()


def test_health_probes_the_models_endpoint(server_backend) -> None:
    h = server_backend.health()
    assert h.ok and h.latency_ms is not None
    assert server_backend.metadata()["health_url"].endswith("/v1/models")


def test_context_too_long_from_the_server_is_typed(server_backend) -> None:
    with pytest.raises(errors.ContextTooLong) as info:
        server_backend.chat(parse_request("x" * 600, max_tokens=8))
    assert info.value.status == 400
    assert info.value.window == 512 and info.value.needed > 512
    assert "xxxx" not in str(info.value)


def test_a_dead_server_is_unavailable() -> None:
    spec = BackendSpec(
        name="dead",
        tier="large",
        zone="local",
        kind="openai_compatible",
        model="m",
        options={"base_url": f"http://127.0.0.1:{free_port()}/v1", "connect_timeout": 2},
    )
    b = OpenAICompatibleBackend.from_spec(spec)
    with pytest.raises(errors.BackendUnavailable):
        b.chat(req())
    with pytest.raises(errors.BackendUnavailable):
        list(b.stream(req()))
    h = b.health()
    assert not h.ok and "refused" in h.detail
    b.close()


# --- wire details, against the stub -------------------------------------------------------


def test_traceparent_and_key_are_sent(openai_stub) -> None:
    b = OpenAICompatibleBackend.from_spec(
        stub_http_spec(openai_stub, api_key_env="STUB_OPENAI_KEY")
    )
    assert b.chat(req(), headers={"traceparent": TRACEPARENT}).text == STUB_REPLY
    sent = openai_stub.records[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["traceparent"] == TRACEPARENT
    assert sent["headers"]["authorization"] == "Bearer sk-test-SECRET-0123456789abcdef"
    assert sent["body"]["model"] == "stub-model"
    assert "stream" not in sent["body"]
    assert "SECRET" not in repr(b) + str(b.metadata())


def test_include_usage_is_asked_only_when_declared(openai_stub) -> None:
    plain = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))
    chunks = list(plain.stream(req()))
    assert "stream_options" not in openai_stub.records[-1]["body"]
    assert chunks[-1].usage.model_extra.get("estimated") is True
    caps = Capabilities(streaming_usage=True)
    counted = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub, capabilities=caps))
    chunks = list(counted.stream(req()))
    assert openai_stub.records[-1]["body"]["stream_options"] == {"include_usage": True}
    assert chunks[-1].usage.completion_tokens == 5
    assert not (chunks[-1].usage.model_extra or {}).get("estimated")


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"status": 429, "headers": {"Retry-After": "3"}, "body": {}}, errors.RateLimited),
        ({"status": 503, "body": {"error": {"message": "loading"}}}, errors.ServerError),
        (
            {"status": 401, "body": {"error": {"code": "invalid_api_key"}}},
            errors.AuthenticationFailed,
        ),
        ({"status": 404, "body": {"error": {"code": "model_not_found"}}}, errors.BadRequest),
        ({"raw": b"{not json"}, errors.MalformedResponse),
        ({"raw": b'{"choices": "nope"}'}, errors.MalformedResponse),
        ({"drop": True}, errors.BackendUnavailable),
    ],
)
def test_http_errors_are_typed(openai_stub, step, expected) -> None:
    b = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))
    openai_stub.script.append(step)
    with pytest.raises(expected) as info:
        b.chat(req())
    assert info.value.backend == "stub-http"
    if expected is errors.RateLimited:
        assert info.value.retry_after == 3.0


def test_error_events_inside_a_stream_are_typed(openai_stub) -> None:
    b = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))
    openai_stub.script.append({"status": 500, "body": {"error": {"type": "server_error"}}})
    with pytest.raises(errors.ServerError):
        list(b.stream(req()))


def test_a_missing_key_variable_is_an_authentication_failure(openai_stub, monkeypatch) -> None:
    monkeypatch.delenv("STUB_OPENAI_KEY")
    b = OpenAICompatibleBackend.from_spec(
        stub_http_spec(openai_stub, api_key_env="STUB_OPENAI_KEY")
    )
    with pytest.raises(errors.AuthenticationFailed, match="STUB_OPENAI_KEY is not set"):
        b.chat(req())


def test_bad_options_name_the_option() -> None:
    spec = BackendSpec(
        name="x", tier="large", zone="local", kind="openai_compatible", model="m",
        options={"base_url": "http://127.0.0.1:1/v1", "read_timeot": 3},
    )  # fmt: skip
    with pytest.raises(errors.ConfigError, match="read_timeot: unknown option"):
        OpenAICompatibleBackend.from_spec(spec)


# --- the wire module ------------------------------------------------------------------------


def test_sse_decoder_handles_comments_multiline_data_and_a_missing_blank_line() -> None:
    d = wire.SSEDecoder()
    lines = [": keep-alive", "event: message", 'data: {"a":', "data: 1}", "", "data:[DONE]"]
    out = [x for x in (d.feed(line) for line in lines) if x is not None]
    assert out == ['{"a":\n1}']
    assert d.flush() == "[DONE]"


def test_line_splitter_handles_line_ends_split_across_pieces() -> None:
    s = wire.LineSplitter()
    pieces = ["da", "ta: 1\r", "\nda", "ta: 2\r", "\r", "\n", "x", "y\n", "\n", "tail\r"]
    lines = [line for piece in pieces for line in s.feed(piece)]
    assert lines + s.flush() == ["data: 1", "data: 2", "", "xy", "", "tail"]


def test_one_large_event_is_split_in_linear_time(monkeypatch) -> None:
    """A big tool-call argument or inline payload arrives in many pieces; each character
    is looked at for a line break about once, not once per piece (quadratic: an 8 MB
    event took seconds)."""
    scanned = []

    class Counting:
        def __init__(self, pattern) -> None:  # type: ignore[no-untyped-def]
            self.pattern = pattern

        def split(self, text: str) -> list[str]:
            scanned.append(len(text))
            return self.pattern.split(text)

    monkeypatch.setattr(wire, "_EOL", Counting(wire._EOL))
    event = "data: " + "x" * 256_000 + "\n\n"
    s = wire.LineSplitter()
    lines = [line for i in range(0, len(event), 1000) for line in s.feed(event[i : i + 1000])]
    assert lines == [event[:-2], ""]
    assert sum(scanned) <= 2 * len(event)  # was about 130 times the event


def test_retry_after_in_seconds_milliseconds_and_http_dates() -> None:
    assert wire.parse_retry_after({"Retry-After": "2"}) == 2.0
    assert wire.parse_retry_after({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= wire.parse_retry_after({"Retry-After": later}) <= 31
    assert wire.parse_retry_after({"Retry-After": "soon"}) is None
    assert wire.parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": {"code": "context_length_exceeded"}}, errors.ContextTooLong),
        (400, {"error": {"type": "exceed_context_size_error", "n_ctx": 8, "n_prompt_tokens": 9}},
         errors.ContextTooLong),
        (400, b"This model's maximum context length is 4096 tokens", errors.ContextTooLong),
        (400, {"error": {"code": "content_policy_violation"}}, errors.ContentRefused),
        (400, {"error": {"code": "content_filter"}}, errors.ContentRefused),
        (400, {"error": {"message": "bad"}}, errors.BadRequest),
        (403, {}, errors.AuthenticationFailed),
        (408, {}, errors.BackendTimeout),
        (422, {"detail": "x"}, errors.BadRequest),
        (502, b"<html>bad gateway</html>", errors.ServerError),
    ],
)  # fmt: skip
def test_error_mapping_by_status_and_body(status, body, expected) -> None:
    err = wire.error_from_status(status, backend="b", body=body)
    assert type(err) is expected
    assert err.status == status or expected is errors.RateLimited


def test_error_messages_never_repeat_the_server_text() -> None:
    body = {"error": {"message": "Invalid value in messages[0]: 'my secret diary'", "code": "bad"}}
    err = wire.error_from_status(400, backend="b", body=body)
    assert "diary" not in str(err)
    assert "code=bad" in str(err)


# --- one async pool per event loop ----------------------------------------------------------


def test_loop_client_keeps_one_client_per_running_loop() -> None:
    import asyncio

    from router.backends.base import LoopClient

    made: list[object] = []
    cache = LoopClient(lambda: made.append(object()) or made[-1])

    async def twice() -> tuple[object, object]:
        return cache.get(), cache.get()

    a, b = asyncio.run(twice())
    assert a is b and made == [a]
    c, _ = asyncio.run(twice())  # another loop: a fresh client, never the old loop's
    assert c is not a and len(made) == 2
    assert cache.take() is None  # outside a loop: no pool to close here, all forgotten

    async def after_take() -> object | None:
        return cache.get()

    assert asyncio.run(after_take()) is None and len(made) == 2  # closed: no new pool
    cache = LoopClient(lambda: made.append(object()) or made[-1])

    async def take_own() -> tuple[object, object | None]:
        own = cache.get()
        return own, cache.take()  # in a loop: its own pool, to close there

    own, taken = asyncio.run(take_own())
    assert taken is own and own not in (a, c) and len(made) == 3
    with pytest.raises(RuntimeError):
        cache.get()  # outside a running loop there is no pool to hand out


def test_async_calls_work_from_one_event_loop_after_another(openai_stub) -> None:
    import asyncio

    b = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))

    async def call(close: bool = False) -> tuple[str, object]:
        done = await b.achat(req())
        pool = b._aclient()
        assert pool is b._aclient()
        if close:
            await b.aclose()  # from the loop that owns the pool
        return done.text, pool

    first, pool = asyncio.run(call())
    second, other = asyncio.run(call(close=True))  # the first loop is closed: a new pool
    assert first == second == STUB_REPLY and other is not pool
    assert other.is_closed
    b.close()  # safe after aclose


def test_a_slow_reader_is_not_timed_out_for_the_servers_speed(openai_stub) -> None:
    """The attempt timeout bounds the server's time. A caller that takes 0.1 s over each
    chunk (rendering it, forwarding it) reads past a 0.25 s timeout the server never used."""
    b = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))
    openai_stub.script += [{"stream_gap_s": 0.02}, {"stream_gap_s": 0.02}]
    text = []
    for chunk in b.stream(req(), timeout=0.25):
        time.sleep(0.1)
        text.append(chunk.text or "")
    assert "".join(text) == STUB_REPLY

    async def read() -> str:
        out = []
        async for chunk in b.astream(req(), timeout=0.25):
            await asyncio.sleep(0.1)
            out.append(chunk.text or "")
        return "".join(out)

    assert asyncio.run(read()) == STUB_REPLY
