"""The OpenAI chat wire format, shared by the HTTP and proprietary backends.

Three jobs, each written once:

* requests: :func:`request_body` turns a :class:`~router.messages.ChatRequest` into the JSON
  body of ``POST /chat/completions``;
* responses: :func:`parse_completion` and :func:`parse_chunk` validate what a server sent
  into our types, and :class:`SSEDecoder` splits a server-sent-event stream incrementally;
* errors: :func:`error_from_status` maps an HTTP status, its headers and its body to the
  typed tree in :mod:`router.errors`.

Error messages built here hold the status, the server's error ``type``/``code`` and token
counts, never the server's free-text message: servers echo request content in it.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import ValidationError

from router import errors
from router.backends.base import make_chunk
from router.classify.classifier import estimate_tokens
from router.completion import ChatCompletion, ChatCompletionChunk, Usage
from router.messages import ChatRequest

_CONTEXT_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "string_above_max_length"}
)
_CONTEXT_WORDS = (
    "context length",
    "context_length",
    "context window",
    "context size",
    "maximum context",
    "prompt is too long",
    "too many tokens",
    "exceed context",
)
_REFUSAL_CODES = frozenset({"content_filter", "content_policy_violation"})
_WINDOW = re.compile(r"(?:maximum context length|context window|n_ctx)\D{0,20}(\d+)", re.I)
_NEEDED = re.compile(r"(?:requested|resulted in|n_prompt_tokens)\D{0,20}(\d+)", re.I)


# --- configuration ---------------------------------------------------------------------


# --- requests ------------------------------------------------------------------------


def request_body(
    request: ChatRequest, model: str, *, stream: bool, include_usage: bool = False
) -> dict[str, Any]:
    """The JSON body for ``POST {base_url}/chat/completions``."""
    body: dict[str, Any] = {"model": model, "messages": request.wire_messages()}
    body.update(request.generation_params())
    body.pop("stream_options", None)
    body["stream"] = stream
    if stream and include_usage:
        body["stream_options"] = {"include_usage": True}
    elif not stream:
        body.pop("stream", None)
    return body


# --- responses -----------------------------------------------------------------------


def _strip_ours(data: Mapping[str, Any]) -> dict[str, Any]:
    # ``route`` and ``event`` are the router's own fields; a server never sets them.
    return {k: v for k, v in data.items() if k not in ("route", "event")}


def error_status(data: Mapping[str, Any], status: int | None = None) -> int:
    """The HTTP status an ``{"error": ...}`` body stands for. A real error status wins;
    a body sent with 200 (or as a stream event) is read: an integer ``code`` in 400-599,
    else 400 for a context or content-filter error (so it is typed as one), else 500."""
    if status is not None and 400 <= status < 600:
        return status
    kind, code, text, err = _error_fields(data)
    number = err.get("code") if isinstance(err, Mapping) else None
    if isinstance(number, int) and 400 <= number < 600:
        return number
    named = {kind, code} & (_CONTEXT_CODES | _REFUSAL_CODES)
    if named or any(w in text for w in _CONTEXT_WORDS):
        return 400
    return 500


def parse_completion(data: Any, *, backend: str, status: int | None = None) -> ChatCompletion:
    """Validate a chat completion body. Raises :class:`~router.errors.MalformedResponse`,
    or :class:`~router.errors.ContentRefused` when the provider filtered the whole answer."""
    if isinstance(data, Mapping) and "error" in data and "choices" not in data:
        raise error_from_status(error_status(data, status), backend=backend, body=data)
    if not isinstance(data, Mapping):
        raise errors.MalformedResponse("response is not a JSON object", backend=backend)
    try:
        completion = ChatCompletion.model_validate(_strip_ours(data))
    except ValidationError as exc:
        raise errors.MalformedResponse(
            f"response is not a chat completion ({_first_problem(exc)})", backend=backend
        ) from None
    if not completion.choices:
        raise errors.MalformedResponse("response has no choices", backend=backend)
    choice = completion.choices[0]
    if (
        choice.finish_reason == "content_filter"
        and not choice.message.content
        and not choice.message.tool_calls
    ):
        raise errors.ContentRefused("the provider filtered the answer", backend=backend)
    return completion


def parse_chunk(data: Any, *, backend: str) -> ChatCompletionChunk:
    """Validate one streamed chunk. An ``{"error": ...}`` event raises its typed error."""
    if isinstance(data, Mapping) and "error" in data and "choices" not in data:
        raise error_from_status(error_status(data), backend=backend, body=data)
    if not isinstance(data, Mapping):
        raise errors.MalformedResponse("stream event is not a JSON object", backend=backend)
    try:
        return ChatCompletionChunk.model_validate(_strip_ours(data))
    except ValidationError as exc:
        raise errors.MalformedResponse(
            f"stream event is not a chat completion chunk ({_first_problem(exc)})",
            backend=backend,
        ) from None


def parse_json(raw: bytes | str, *, backend: str) -> Any:
    """JSON from a response body, or :class:`~router.errors.MalformedResponse`."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.MalformedResponse("response is not valid JSON", backend=backend) from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['type']}" if loc else err["type"]


class SSEDecoder:
    """Splits a server-sent-event stream into the ``data`` of each event, line by line.

    >>> d = SSEDecoder()
    >>> [d.feed(x) for x in ['data: {"a": 1}', '']]
    [None, '{"a": 1}']
    """

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Feed one line (without its newline); returns an event's data when it ends."""
        if not line:
            if not self._data:
                return None
            out = "\n".join(self._data)
            self._data = []
            return out
        if line.startswith(":"):
            return None  # a comment, used as a keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "error":  # llama-server reports a failure as an ``error:`` line
            try:
                err: Any = json.loads(value)
            except ValueError:
                err = value
            self._data = [json.dumps({"error": err})]
        return None  # ``event``, ``id`` and ``retry`` fields carry nothing we use

    def flush(self) -> str | None:
        """The data of an event cut off without its blank line, if any."""
        return self.feed("")


DONE = "[DONE]"

_EOL = re.compile(r"\r\n|\r|\n")


class LineSplitter:
    r"""Cuts text arriving in pieces into SSE lines (ended by CR LF, LF or CR), so a
    caller can look at the clock between pieces instead of waiting for a whole line.

    >>> s = LineSplitter()
    >>> s.feed("data: 1\r"), s.feed("\ndata: 2\n"), s.flush()
    ([], ['data: 1', 'data: 2'], [])
    """

    def __init__(self) -> None:
        # The unfinished line, in the pieces it came in: joined once, when it ends, so a
        # line arriving in many pieces costs its length, not its length times the pieces.
        self._rest: list[str] = []
        self._cr = False  # the text so far ended with CR, perhaps the first half of CR LF

    def feed(self, text: str) -> list[str]:
        """The lines completed by ``text`` (only ``text`` is scanned for line breaks)."""
        if not text:
            return []
        if self._cr:  # the held CR ends a line: with this text's LF if it starts with one
            text = "\r" + text
        self._cr = text.endswith("\r")
        if self._cr:
            text = text[:-1]
        pieces = _EOL.split(text)
        if len(pieces) == 1:
            self._rest.append(text)
            return []
        pieces[0] = "".join(self._rest) + pieces[0]
        self._rest = [pieces.pop()]
        return pieces

    def flush(self) -> list[str]:
        """The last line, when the text ended without a line break."""
        rest, self._rest, self._cr = "".join(self._rest), [], False
        return [rest] if rest else []


class StreamUsage:
    """Watches a stream and, when the server sent no usage, supplies an estimate marked
    ``estimated: true`` in a final usage-only chunk.

    Prompt tokens use the classifier's estimate (about 4 characters a token, plus 4 per
    message, which is what most chat templates add). Completion tokens are the larger of the
    number of content deltas (servers built on llama.cpp send about one per token) and the
    estimate from the text. Servers that count (``stream_options.include_usage``) are
    always preferred: their usage passes through untouched.
    """

    def __init__(self, request: ChatRequest) -> None:
        self.prompt = 3 + sum(estimate_tokens(m.text()) + 4 for m in request.messages)
        self.deltas = 0
        self.chars: list[str] = []
        self.seen = False
        self.finished = False
        self.last: ChatCompletionChunk | None = None

    def add(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
        """Note one chunk from the server and return it."""
        self.last = chunk
        if chunk.usage is not None:
            self.seen = True
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self.finished = True
            if choice.delta.content:
                self.deltas += 1
                self.chars.append(choice.delta.content)
            for call in choice.delta.tool_calls or ():
                self.deltas += 1
                if call.function is not None and call.function.arguments:
                    self.chars.append(call.function.arguments)
        return chunk

    def add_completion(self, completion: ChatCompletion) -> None:
        """Count a non-streamed answer that came without usage: its text and the names
        and arguments of its tool calls (billed as output like text)."""
        self.chars.append(completion.text or "")
        for choice in completion.choices[:1]:
            for call in choice.message.tool_calls or ():
                self.chars += [call.function.name, call.function.arguments]

    def usage(self) -> Usage:
        out = max(self.deltas, estimate_tokens("".join(self.chars)))
        return Usage(
            prompt_tokens=self.prompt,
            completion_tokens=out,
            total_tokens=self.prompt + out,
            estimated=True,
        )

    def tail(self) -> list[ChatCompletionChunk]:
        """The usage-only chunk to end the stream with, when the server sent no usage.
        None for a stream that never gave a finish reason: it was cut, and an estimate
        would make it look complete."""
        last = self.last
        if self.seen or last is None or not self.finished:
            return []
        return [make_chunk(last.id, last.model, usage=self.usage(), created=last.created)]


# How an event stream's body opens (after optional whitespace): a field, or a comment.
_EVENT_START = ("data:", "event:", ":")
# The most of a body that is not an event stream held to read the server's error from it.
_MAX_REFUSAL = 1 << 20


class EventStream:
    """Turns the bytes of an SSE response, as they arrive, into chunks: ``data`` events,
    ``[DONE]``, an ``{"error": ...}`` event or llama-server's ``error:`` line (both raise
    their typed error). :meth:`finish` adds usage when none came (:class:`StreamUsage`).

    Server-sent events are UTF-8 whatever charset the content type names (WHATWG), so the
    bytes are decoded here, not by the HTTP library: a character cut between pieces is
    joined, a byte that is not UTF-8 becomes U+FFFD, and a leading byte-order mark is
    dropped.

    :meth:`start` reads the response's headers first. Servers that get an error they
    cannot stream answer with JSON (or an HTML page) instead, but gateways also label
    real event streams ``application/json``: a body labelled JSON is read as events when
    it opens like them, else held (up to 1 MiB, then it is malformed) and raised at
    :meth:`finish` as the error it holds (:func:`not_event_stream`). A response without
    a content type is given the benefit of the doubt."""

    def __init__(self, backend: str, request: ChatRequest) -> None:
        self.backend = backend
        self.text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self.lines = LineSplitter()
        self.sse = SSEDecoder()
        self.usage = StreamUsage(request)
        self.done = False  # ``[DONE]`` came: nothing after it is read
        self.headers: Mapping[str, str] = {}
        # The body so far while it may not be an event stream, else None.
        self._held: list[bytes] | None = None
        self._held_size = 0
        # The text after leading whitespace while it is too short to tell whether it
        # opens an event stream, else None.
        self._opening: str | None = None

    def start(self, headers: Mapping[str, str]) -> None:
        """Take the headers of a 200 answer, before its body."""
        self.headers = headers
        kind = headers.get("content-type", "").lower()
        if "json" in kind or "html" in kind:
            self._held = []
            self._opening = "" if "json" in kind else None

    def feed(self, data: bytes) -> list[ChatCompletionChunk]:
        """The chunks completed by ``data``, the next bytes of the body."""
        if self._held is not None:
            return self._hold(self._held, data)
        return self._lines(self.lines.feed(self.text.decode(data)))

    def _hold(self, held: list[bytes], data: bytes) -> list[ChatCompletionChunk]:
        held.append(data)
        self._held_size += len(data)
        if self._opening is not None:
            self._opening = (self._opening + self.text.decode(data)).lstrip()
            opens = _opens_event_stream(self._opening)
            if opens:  # read as events from here: nothing more is held
                text, self._opening, self._held = self._opening, None, None
                return self._lines(self.lines.feed(text))
            if opens is False:
                self._opening = None
        if self._held_size > _MAX_REFUSAL:
            raise self._refused()
        return []

    def _refused(self) -> errors.BackendError:
        body = b"".join(self._held or ())
        kind = self.headers.get("content-type", "")
        return not_event_stream(kind, body, backend=self.backend, headers=self.headers)

    def _lines(self, lines: list[str]) -> list[ChatCompletionChunk]:
        out: list[ChatCompletionChunk] = []
        for line in lines:
            data = self.sse.feed(line)
            if data is not None:
                out += self._event(data)
                if self.done:
                    break
        return out

    def _event(self, data: str) -> list[ChatCompletionChunk]:
        if data.strip() == DONE:
            self.done = True
            return []
        raw = parse_json(data, backend=self.backend)
        return [self.usage.add(parse_chunk(raw, backend=self.backend))]

    def finish(self) -> list[ChatCompletionChunk]:
        """The chunks of an event cut off at the end, then the usage estimate, if any.
        A body that was not an event stream raises the error it holds."""
        if self._held is not None:
            raise self._refused()
        if self.done:
            out = []
        else:  # the bytes of a character cut off at the end become U+FFFD
            tail = self.lines.feed(self.text.decode(b"", final=True))
            out = self._lines(tail + self.lines.flush())
        rest = None if self.done else self.sse.flush()
        if rest is not None:
            out += self._event(rest)
        return out + self.usage.tail()


def _opens_event_stream(opening: str) -> bool | None:
    """Whether a body whose text after leading whitespace begins with ``opening`` is an
    event stream; None while ``opening`` is too short to tell."""
    if opening.startswith(_EVENT_START):
        return True
    if any(start.startswith(opening) for start in _EVENT_START):
        return None
    return False


def not_event_stream(
    content_type: str,
    body: bytes,
    *,
    backend: str,
    headers: Mapping[str, str] | None = None,
) -> errors.BackendError:
    """The error for a 200 answer to a stream request that is not an event stream: the
    server's typed error when the body is one (``Retry-After`` read from ``headers``),
    else a malformed response."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, Mapping) and "error" in data:
        return error_from_status(error_status(data), backend=backend, headers=headers, body=data)
    kind = content_type.split(";")[0].strip() or "no content type"
    return errors.MalformedResponse(f"expected server-sent events, got {kind}", backend=backend)


# --- errors --------------------------------------------------------------------------


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` (seconds or HTTP date)."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _error_fields(body: Any) -> tuple[str | None, str | None, str, Mapping[str, Any]]:
    """(type, code, lower-cased message for matching only, error object) from a body."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return None, None, text[:2000].lower(), {}
    if not isinstance(body, Mapping):
        return None, None, "", {}
    err: Any = body.get("error", body)
    if isinstance(err, str):
        return None, None, err.lower(), {}
    if not isinstance(err, Mapping):
        return None, None, "", {}
    detail = err.get("message", err.get("detail", ""))
    kind, code = err.get("type"), err.get("code")
    return (
        str(kind) if kind is not None else None,
        str(code) if code is not None else None,
        str(detail).lower(),
        err,
    )


def _describe(what: str, kind: str | None, code: str | None) -> str:
    """``what`` with the server's error type and code, when they look like identifiers
    (``rate_limit_exceeded``): a server that echoed the request there must not put its
    text into our errors, routes and traces."""
    extra = ", ".join(
        f"{k}={v}" for k, v in (("type", kind), ("code", code)) if v and _IDENTIFIER.fullmatch(v)
    )
    return f"{what} ({extra})" if extra else what


_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def error_from_status(
    status: int,
    *,
    backend: str,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
) -> errors.BackendError:
    """The typed error for an HTTP error response (status, headers, raw or parsed body)."""
    kind, code, text, err = _error_fields(body)
    if status == 429:
        return errors.RateLimited(
            _describe("rate limited", kind, code),
            backend=backend,
            retry_after=parse_retry_after(headers),
        )
    if status in (401, 403):
        return errors.AuthenticationFailed(
            _describe("authentication failed", kind, code), backend=backend, status=status
        )
    if status == 408:
        return errors.BackendTimeout(
            "the server timed out the request", backend=backend, status=408
        )
    if status >= 500:
        return errors.ServerError(
            _describe("server error", kind, code), backend=backend, status=status
        )
    if 400 <= status < 500:
        if code in _REFUSAL_CODES or kind in _REFUSAL_CODES:
            return errors.ContentRefused(
                _describe("the provider refused the content", kind, code),
                backend=backend,
                status=status,
            )
        if (
            code in _CONTEXT_CODES
            or kind in _CONTEXT_CODES
            or any(w in text for w in _CONTEXT_WORDS)
        ):
            window = _int(err.get("n_ctx"))
            needed = _int(err.get("n_prompt_tokens"))
            if window is None and (m := _WINDOW.search(text)):
                window = int(m.group(1))
            if needed is None and (m := _NEEDED.search(text)):
                needed = int(m.group(1))
            counts = f": {needed} tokens needed, window {window}" if needed and window else ""
            return errors.ContextTooLong(
                f"prompt and max_tokens exceed the context window{counts}",
                backend=backend,
                status=status,
                needed=needed,
                window=window,
            )
        return errors.BadRequest(
            _describe("request rejected", kind, code), backend=backend, status=status
        )
    return errors.MalformedResponse(
        f"unexpected HTTP status {status}", backend=backend, status=status
    )
