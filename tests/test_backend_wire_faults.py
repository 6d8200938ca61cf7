"""HTTP and proprietary backends against a loopback server that misbehaves on purpose:
answers that trickle, keep-alives that never end, errors sent with status 200 or as
llama-server ``error:`` lines, tool calls without usage, a closed backend."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from router import errors
from router.backends.base import Health
from router.backends.http import OpenAICompatibleBackend
from router.backends.proprietary import DEFAULT_BASE_URL, OpenAIBackend
from router.defaults import default_setup
from router.messages import parse_request
from tests.fixtures_backends import STUB_KEY, stub_http_spec, stub_spec

Piece = tuple[bytes, float]  # bytes to send after waiting this many seconds


class ScriptedServer:
    """Answers each request on 127.0.0.1 with the next script of (bytes, delay) pieces,
    then closes the connection."""

    def __init__(self) -> None:
        self.scripts: list[list[Piece]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            f = conn.makefile("rb")
            try:
                f.readline()
                length = 0
                while (line := f.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                f.read(length)
                for piece, delay in self.scripts.pop(0):
                    time.sleep(delay)
                    conn.sendall(piece)
            except OSError:
                pass  # the client gave up: what these tests are about

    def close(self) -> None:
        self.sock.close()


def head(content_type: str = "text/event-stream", status: str = "200 OK") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()
    )


def whole(body: object, status: str = "200 OK") -> list[Piece]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    start = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    return [(f"{start}Content-Length: {len(raw)}\r\nConnection: close\r\n\r\n".encode() + raw, 0)]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.close()


def http(server: ScriptedServer) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend.from_spec(stub_http_spec(server))


def req():  # type: ignore[no-untyped-def]
    return parse_request("hello", max_tokens=8)


CONTEXT_ERROR = {"error": {"code": "context_length_exceeded", "message": "too long"}}
TOOL_ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"q": "x" * 400})},
                    }
                ],
            },
        }
    ],
}


def test_a_trickled_answer_cannot_hold_a_sync_chat_past_its_timeout(server) -> None:
    start = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    server.scripts.append([(start, 0)] + [(b"{", 0.3)] * 20)
    t0 = time.monotonic()
    with pytest.raises(errors.BackendTimeout):
        http(server).chat(req(), timeout=0.8)
    assert time.monotonic() - t0 < 2.5  # not the 6 s the trickle would take


def test_keepalives_cannot_hold_a_sync_stream_past_its_timeout(server) -> None:
    server.scripts.append([(head(), 0)] + [(b": keep-alive\n\n", 0.3)] * 20)
    t0 = time.monotonic()
    with pytest.raises(errors.BackendTimeout):
        list(http(server).stream(req(), timeout=0.8))
    assert time.monotonic() - t0 < 2.5


def _drain(b: OpenAICompatibleBackend, path: str, timeout: float) -> None:
    """Make one call the way ``path`` names it and read everything it gives."""
    if path == "chat":
        b.chat(req(), timeout=timeout)
    elif path == "stream":
        list(b.stream(req(), timeout=timeout))
    else:

        async def run() -> None:
            try:
                if path == "achat":
                    await b.achat(req(), timeout=timeout)
                else:
                    [c async for c in b.astream(req(), timeout=timeout)]
            finally:
                await b.aclose()

        asyncio.run(run())


@pytest.mark.parametrize("path", ["chat", "stream", "achat", "astream"])
def test_a_server_that_stalls_after_its_headers_is_timed_out_at_the_timeout(server, path) -> None:
    """Headers arrive 0.8 s into a 1 s attempt, then nothing: the call ends at about 1 s,
    not after a second full timeout spent waiting for the body."""
    stream = path in ("stream", "astream")
    start = (
        head()
        if stream
        else head("application/json").replace(b"\r\n\r\n", b"\r\n")
        + (b"Content-Length: 40\r\n\r\n")
    )
    server.scripts.append([(start, 0.8), (b"data: {}\n\n" if stream else b"{}", 5)])
    b = http(server)
    t0 = time.monotonic()
    with pytest.raises(errors.BackendTimeout):
        _drain(b, path, timeout=1.0)
    assert time.monotonic() - t0 < 1.6  # was 1.8 s: 0.8 s of headers and a whole 1 s read
    b.close()


@pytest.mark.parametrize("path", ["chat", "achat"])
def test_a_proxy_the_environment_names_is_used_and_bounded_by_the_timeout(
    server, monkeypatch, path
) -> None:
    """The model server is only reachable through the proxy (nothing listens at its own
    address): the answer comes back through it, and a proxy that stalls is timed out."""
    for var in ("HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.base_url.removesuffix("/v1"))
    spec = stub_http_spec(server).model_copy(
        update={"options": {"base_url": "http://127.0.0.2:9/v1"}}
    )
    b = OpenAICompatibleBackend.from_spec(spec)
    server.scripts.append(whole(TOOL_ANSWER))
    stalled = head("application/json").replace(b"\r\n\r\n", b"\r\nContent-Length: 40\r\n\r\n")
    server.scripts.append([(stalled, 0.5), (b"{}", 5)])
    try:
        if path == "chat":
            answer = b.chat(req(), timeout=5)
        else:
            answer = asyncio.run(b.achat(req(), timeout=5))
        assert answer.choices[0].message.tool_calls[0].function.name == "lookup"
        t0 = time.monotonic()
        with pytest.raises(errors.BackendTimeout):
            _drain(b, path, timeout=1.0)
        assert time.monotonic() - t0 < 1.6
    finally:
        b.close()


@pytest.mark.parametrize(
    "script",
    [
        whole(CONTEXT_ERROR),  # a JSON error answered to a stream request, with 200
        [
            (head(), 0),
            (b'error: {"code": 400, "type": "exceed_context_size_error", "message": "x"}\n\n', 0),
        ],  # llama-server's own error line
    ],
    ids=["json body", "llama-server error line"],
)
def test_stream_errors_that_are_not_data_events_are_typed(server, script) -> None:
    server.scripts.append(script)
    with pytest.raises(errors.ContextTooLong):
        list(http(server).stream(req()))


def test_an_html_page_answered_to_a_stream_request_is_malformed(server) -> None:
    server.scripts.append([(head("text/html"), 0), (b"<html>busy</html>", 0)])
    with pytest.raises(errors.MalformedResponse):
        list(http(server).stream(req()))


def test_an_error_body_sent_with_200_is_typed_by_its_code(server) -> None:
    server.scripts.append(whole(CONTEXT_ERROR))
    with pytest.raises(errors.ContextTooLong):
        http(server).chat(req())


def test_a_tool_call_answer_without_usage_counts_its_arguments(server) -> None:
    server.scripts.append(whole(TOOL_ANSWER))
    done = http(server).chat(req())
    assert done.usage.completion_tokens >= 100  # 400+ characters of arguments


def test_a_closed_backend_is_unavailable_not_a_runtime_error(server) -> None:
    b = http(server)
    b.close()
    with pytest.raises(errors.BackendUnavailable, match="closed"):
        b.chat(req())
    with pytest.raises(errors.BackendUnavailable, match="closed"):
        list(b.stream(req()))


@pytest.mark.parametrize("path", ["chat", "stream", "achat", "astream"])
def test_close_racing_a_call_is_unavailable_not_a_runtime_error(server, monkeypatch, path) -> None:
    """close() in another thread (or aclose() on the loop) can land between a call's
    closed check and its send: the caller gets BackendUnavailable, as from any closed
    backend, not httpx's untyped RuntimeError (which the router counts as a server
    error against the circuit)."""
    b = http(server)
    url = b._url

    def url_then_closed() -> str:  # called after the closed check, before the send
        b.close()
        return url()

    monkeypatch.setattr(b, "_url", url_then_closed)

    async def run() -> None:
        # aclose() on this loop closes the pool the call already took (here, before
        # the call: closing it takes an await the hook cannot make).
        await b._aclient().aclose()
        if path == "achat":
            await b.achat(req(), timeout=5)
        else:
            [c async for c in b.astream(req(), timeout=5)]

    with pytest.raises(errors.BackendUnavailable, match="backend is closed"):
        if path == "chat":
            b.chat(req(), timeout=5)
        elif path == "stream":
            list(b.stream(req(), timeout=5))
        else:
            asyncio.run(run())


@pytest.mark.parametrize("path", ["achat", "astream"])
def test_close_before_an_async_call_takes_its_pool_opens_no_new_pool(
    server, monkeypatch, path
) -> None:
    """close() lands after the call's closed check, before it takes its loop's pool: no
    new pool is made for the closed backend (it would never be closed), and the caller
    gets BackendUnavailable."""
    b = http(server)
    body = b._body

    def body_then_closed(*args):  # type: ignore[no-untyped-def]
        b.close()
        return body(*args)

    monkeypatch.setattr(b, "_body", body_then_closed)

    async def run() -> None:
        if path == "achat":
            await b.achat(req(), timeout=5)
        else:
            [c async for c in b.astream(req(), timeout=5)]

    with pytest.raises(errors.BackendUnavailable, match="backend is closed"):
        asyncio.run(run())
    assert b._aclients._clients == {}


def test_a_closed_backend_reports_itself_unhealthy_without_probing(openai_stub) -> None:
    """Health is described, never raised, and a closed backend opens no pool to probe."""
    b = OpenAICompatibleBackend.from_spec(stub_http_spec(openai_stub))
    b.close()
    closed = Health(ok=False, detail="backend is closed")
    assert b.health() == closed

    async def probe() -> tuple[Health, int]:
        return await b.ahealth(), len(b._aclients._clients)

    assert asyncio.run(probe()) == (closed, 0)
    assert openai_stub.records == []  # nothing reached the server


# --- the proprietary backend ----------------------------------------------------------


def cloud(server: ScriptedServer, monkeypatch, *, configured_url: bool = True) -> OpenAIBackend:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STUB_OPENAI_KEY", STUB_KEY)
    spec = stub_spec(server)
    if not configured_url:
        spec = spec.model_copy(update={"options": {}})
    return OpenAIBackend.from_spec(spec)


def test_the_environment_cannot_redirect_a_configured_proprietary_backend(
    server, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    b = cloud(server, monkeypatch, configured_url=False)
    assert b.metadata()["base_url"] == DEFAULT_BASE_URL
    assert str(b._sync().base_url).rstrip("/") == DEFAULT_BASE_URL  # where requests go


def test_the_default_router_states_the_endpoint_it_reads_from_the_environment() -> None:
    env = {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    openai = default_setup(env=env).specs[-1]
    assert openai.options["base_url"] == "http://127.0.0.1:9/v1"
    bad = {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "ftp://example.org"}
    with pytest.raises(errors.ConfigError, match="OPENAI_BASE_URL"):
        default_setup(env=bad)


def test_an_authentication_failure_carries_nothing_of_the_sdks_error(server, monkeypatch):
    body = {"error": {"code": "invalid_api_key", "message": "Incorrect API key sk-****7890"}}
    server.scripts.append(whole(body, "401 Unauthorized"))
    with pytest.raises(errors.AuthenticationFailed) as info:
        cloud(server, monkeypatch).chat(req())
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_a_proprietary_answer_that_is_not_json_is_malformed(server, monkeypatch) -> None:
    server.scripts.append(whole(b"not json at all"))
    with pytest.raises(errors.MalformedResponse):
        cloud(server, monkeypatch).chat(req())


def test_a_proprietary_tool_call_answer_without_usage_counts_its_arguments(
    server, monkeypatch
) -> None:
    server.scripts.append(whole(TOOL_ANSWER))
    assert cloud(server, monkeypatch).chat(req()).usage.completion_tokens >= 100


@pytest.mark.parametrize("path", ["chat", "stream", "achat", "astream"])
def test_a_transport_error_carries_no_httpx_exception_holding_the_key(
    server, monkeypatch, path
) -> None:
    """httpx's exception holds the request, and its headers the bearer key: an error
    reporter that walks ``__context__`` must not reach it."""
    monkeypatch.setenv("STUB_OPENAI_KEY", STUB_KEY)
    server.scripts.append([])  # read the request, then hang up without an answer
    b = OpenAICompatibleBackend.from_spec(stub_http_spec(server, api_key_env="STUB_OPENAI_KEY"))
    with pytest.raises(errors.BackendUnavailable) as info:
        _drain(b, path, timeout=5.0)
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert info.value.cause_type == "RemoteProtocolError"  # still says what happened
    b.close()


def event(content: str | None = None, finish: str | None = None, *, ascii: bool = True) -> bytes:
    """One ``data:`` event; ``ascii=False`` sends text as raw UTF-8, not ``\\u`` escapes."""
    delta = {} if content is None else {"content": content}
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk, ensure_ascii=ascii)}\n\n".encode()


RATE_LIMITED_200 = {"error": {"message": "slow down", "type": "rate_limit_error", "code": 429}}
SERVER_ERROR_LINE = b'error: {"code": 500, "type": "server_error", "message": "decode failed"}\n\n'
CONTEXT_ERROR_LINE = b'error: {"code": 400, "type": "exceed_context_size_error"}\n\n'


def read_stream(b, sync: bool) -> list:  # type: ignore[no-untyped-def]
    if sync:
        return list(b.stream(req(), timeout=5))

    async def run() -> list:  # type: ignore[type-arg]
        try:
            return [c async for c in b.astream(req(), timeout=5)]
        finally:
            await b.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (whole(RATE_LIMITED_200), errors.RateLimited),  # a JSON error answered with 200
        ([(head(), 0), (event("Hel") + SERVER_ERROR_LINE, 0)], errors.ServerError),
        ([(head(), 0), (CONTEXT_ERROR_LINE, 0)], errors.ContextTooLong),
    ],
    ids=["json body", "error line mid-stream", "context error line"],
)
def test_proprietary_stream_errors_that_are_not_data_events_are_typed(
    server, monkeypatch, script, expected, sync
) -> None:
    """The SDK's own parser reads a JSON error body as an empty stream and drops the
    ``error:`` line: the caller must get the same typed error as from the HTTP backend
    (a rate limit is waited out, not retried at once and counted as an outage)."""
    server.scripts.append(script)
    with pytest.raises(expected):
        read_stream(cloud(server, monkeypatch), sync)


@pytest.mark.parametrize("kind", ["http", "proprietary"])
def test_a_stream_cut_before_its_finish_reason_gets_no_usage_estimate(
    server, monkeypatch, kind
) -> None:
    """An estimated usage chunk would make a cut stream look complete."""
    server.scripts += [[(head(), 0), (event("Hel") + event("lo"), 0)]] * 2
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    for sync in (True, False):
        chunks = read_stream(b, sync)
        assert "".join(c.text for c in chunks) == "Hello"
        assert [c.usage for c in chunks] == [None, None]


@pytest.mark.parametrize("kind", ["http", "proprietary"])
def test_a_finished_stream_without_usage_still_gets_its_estimate(server, monkeypatch, kind) -> None:
    server.scripts.append([(head(), 0), (event("Hello") + event(finish="stop"), 0)])
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    chunks = read_stream(b, sync=True)
    assert chunks[-1].usage is not None and chunks[-1].usage.model_extra["estimated"] is True
    b.close()


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
def test_a_proprietary_stream_that_stalls_is_timed_out(server, monkeypatch, sync) -> None:
    """The backend reads the stream's body itself: the HTTP library's read timeout must
    still come out as a typed BackendTimeout, not an unexpected error."""
    server.scripts.append([(head(), 0), (event("Hel"), 0), (event("lo"), 3)])
    b = cloud(server, monkeypatch)
    with pytest.raises(errors.BackendTimeout):
        if sync:
            list(b.stream(req(), timeout=0.5))
        else:

            async def run() -> None:
                try:
                    [c async for c in b.astream(req(), timeout=0.5)]
                finally:
                    await b.aclose()

            asyncio.run(run())


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
@pytest.mark.parametrize("kind", ["http", "proprietary"])
def test_a_stream_is_read_as_utf8_whatever_charset_its_header_names(
    server, monkeypatch, kind, sync
) -> None:
    """Server-sent events are always UTF-8: a gateway that labels them latin-1 must not
    turn the user's text into mojibake, and a character cut between two pieces of the
    body is still one character."""
    text = "Hello w\u00f6rld \u2713"
    body = event(text, ascii=False) + event(finish="stop")
    cut = body.index("\u2713".encode()) + 1  # inside the three bytes of the check mark
    latin1 = head("text/event-stream; charset=iso-8859-1")
    server.scripts.append([(latin1, 0), (body[:cut], 0), (body[cut:], 0.05)])
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    chunks = read_stream(b, sync)
    assert "".join(c.text for c in chunks) == text


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
@pytest.mark.parametrize("kind", ["http", "proprietary"])
def test_an_event_stream_labelled_json_is_read_as_one(server, monkeypatch, kind, sync) -> None:
    """Gateways label event streams ``application/json`` (the openai SDK never looked at
    the label): the body's opening decides, even after blank lines and cut inside its
    first ``data:``."""
    body = b"\r\n " + event("Hel") + event("lo", finish="stop") + b"data: [DONE]\n\n"
    server.scripts.append([(head("application/json"), 0), (body[:5], 0), (body[5:], 0.05)])
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    chunks = read_stream(b, sync)
    assert "".join(c.text for c in chunks) == "Hello"
    assert [ch.finish_reason for c in chunks for ch in c.choices][-1] == "stop"


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
@pytest.mark.parametrize("kind", ["http", "proprietary"])
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (whole(RATE_LIMITED_200), errors.RateLimited),
        (whole(TOOL_ANSWER), errors.MalformedResponse),  # a whole answer, not a stream
        ([(head("application/json"), 0), (b"  \n", 0)], errors.MalformedResponse),
        ([(head("text/html"), 0), (b"data: <html>busy</html>", 0)], errors.MalformedResponse),
    ],
    ids=["json error", "json completion", "json blank", "html"],
)
def test_a_json_or_html_answer_to_a_stream_request_is_its_error_or_malformed(
    server, monkeypatch, kind, sync, script, expected
) -> None:
    server.scripts.append(script)
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    with pytest.raises(expected):
        read_stream(b, sync)


@pytest.mark.parametrize("kind", ["http", "proprietary"])
def test_a_long_json_answer_to_a_stream_request_is_not_held_to_its_end(
    server, monkeypatch, kind
) -> None:
    """A body labelled JSON that is not an event stream is held only to read the error in
    it: one past a megabyte is malformed at once, not held in memory until it ends."""
    server.scripts.append([(head("application/json"), 0), (b"[" + b"0," * 600_000, 0), (b"0]", 5)])
    b = http(server) if kind == "http" else cloud(server, monkeypatch)
    t0 = time.monotonic()
    with pytest.raises(errors.MalformedResponse):
        list(b.stream(req(), timeout=8))
    assert time.monotonic() - t0 < 3  # the body ends 5 s in
    b.close()
