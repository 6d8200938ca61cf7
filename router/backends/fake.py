"""A scripted backend for tests, examples, docs and policy dry runs. No model, no network.

>>> from router.backends.fake import FakeBackend
>>> from router.messages import parse_request
>>> fb = FakeBackend("local-small", reply="Paris.")
>>> fb.chat(parse_request("Capital of France?")).choices[0].message.content
'Paris.'

Scripts make failures reproducible: each call takes the next step of ``script``; when the
script is used up, calls succeed with ``reply``. A step is ``"ok"``, an error name
(``"timeout"``, ``"unavailable"``, ``"rate_limited"``, ``"server_error"``, ``"bad_request"``,
``"context_too_long"``, ``"refused"``, ``"auth"``, ``"malformed"``), an exception instance, or
a mapping such as ``{"error": "rate_limited", "retry_after": 1.5}``,
``{"reply": "...", "latency_ms": 20}`` or, for streams, ``{"cut_after": 2}`` (the stream
breaks after two content chunks).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router import errors
from router.backends.base import (
    Backend,
    Health,
    completion_id,
    first_problem,
    make_chunk,
    make_completion,
    options_from_spec,
)
from router.classify.classifier import estimate_tokens
from router.completion import ChatCompletion, ChatCompletionChunk, Usage
from router.config import BackendSpec, Capabilities, Price
from router.messages import ChatRequest

Reply = str | Callable[[ChatRequest], str]

_ERRORS: dict[str, Callable[[str], errors.BackendError]] = {
    "timeout": lambda n: errors.BackendTimeout("scripted timeout", backend=n),
    "unavailable": lambda n: errors.BackendUnavailable("scripted connection refused", backend=n),
    "rate_limited": lambda n: errors.RateLimited("scripted rate limit", backend=n),
    "server_error": lambda n: errors.ServerError("scripted server error", backend=n, status=500),
    "bad_request": lambda n: errors.BadRequest("scripted bad request", backend=n, status=400),
    "context_too_long": lambda n: errors.ContextTooLong("scripted context too long", backend=n),
    "refused": lambda n: errors.ContentRefused("scripted content refusal", backend=n, status=400),
    "auth": lambda n: errors.AuthenticationFailed("scripted auth failure", backend=n, status=401),
    "malformed": lambda n: errors.MalformedResponse("scripted malformed response", backend=n),
}
ERROR_NAMES: tuple[str, ...] = tuple(sorted(_ERRORS))


class FakeOptions(BaseModel):
    """Options of ``kind: fake`` in a configuration file."""

    model_config = ConfigDict(extra="forbid")
    reply: str = "This is a scripted answer."
    replies: list[str] | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    chunk_chars: int = Field(default=8, ge=1)
    script: list[Any] = Field(default_factory=list)
    record: bool = True


def _error(step: Any, name: str) -> errors.BackendError | None:
    if isinstance(step, errors.BackendError):
        return step
    if isinstance(step, str):
        if step == "ok":
            return None
        if step not in _ERRORS:
            raise errors.ConfigError(
                f"unknown fake script step {step!r}; known: {', '.join(ERROR_NAMES)}"
            )
        return _ERRORS[step](name)
    if isinstance(step, Mapping) and "error" in step:
        err = _error(step["error"], name)
        if isinstance(err, errors.RateLimited) and "retry_after" in step:
            err.retry_after = float(step["retry_after"])
        return err
    return None


class FakeBackend(Backend):
    """A backend that answers from a script. Thread-safe; records what it was sent."""

    def __init__(
        self,
        name: str = "fake",
        *,
        tier: str = "small",
        zone: str = "local",
        model: str = "fake-model",
        reply: Reply = "This is a scripted answer.",
        replies: Sequence[str] | None = None,
        latency_ms: float = 0.0,
        chunk_chars: int = 8,
        script: Sequence[Any] = (),
        record: bool = True,
        price: Price | None = None,
        context_window: int = 8192,
        capabilities: Capabilities | None = None,
        spec: BackendSpec | None = None,
    ) -> None:
        if spec is None:
            try:
                spec = BackendSpec(
                    name=name,
                    tier=tier,  # type: ignore[arg-type]
                    zone=zone,  # type: ignore[arg-type]
                    kind="fake",
                    model=model,
                    price=price or Price(),
                    context_window=context_window,
                    capabilities=capabilities or Capabilities(tools=True, images=True),
                )
            except ValidationError as exc:
                where, msg = first_problem(exc)
                raise errors.ConfigError(
                    f"fake backend {name!r}: {where + ': ' if where else ''}{msg}"
                ) from None
        super().__init__(spec)
        self.reply = reply
        self.replies = list(replies) if replies else None
        self.latency_ms = latency_ms
        self.chunk_chars = chunk_chars
        self.script = list(script)
        for step in self.script:
            _error(step, spec.name)  # fail early on typos in a script
        self.record = record
        self.requests: list[ChatRequest] = []
        self.calls = 0
        self.closed = False
        self._lock = threading.Lock()

    @classmethod
    def check_options(cls, spec: BackendSpec) -> None:
        """Validate ``options`` of a ``kind: fake`` backend (script steps included)."""
        o = options_from_spec(FakeOptions, spec)
        for step in o.script:
            try:
                _error(step, spec.name)
            except ValueError as exc:
                raise errors.ConfigError(f"backend {spec.name}: options.script: {exc}") from None

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> FakeBackend:
        """Build a fake backend from a configuration entry."""
        cls.check_options(spec)
        o = options_from_spec(FakeOptions, spec)
        return cls(
            spec=spec,
            reply=o.reply,
            replies=o.replies,
            latency_ms=o.latency_ms,
            chunk_chars=o.chunk_chars,
            script=o.script,
            record=o.record,
        )

    def _next(
        self, request: ChatRequest, timeout: float | None
    ) -> tuple[Any, str, float, errors.BackendError | None]:
        """The script's next step, the reply text, how long to wait before answering, and
        the error to raise after that wait: a timeout when the scripted latency passes
        ``timeout`` (the wait is then the timeout), else the step's own error, if any."""
        with self._lock:
            if self.closed:
                raise errors.BackendUnavailable("backend is closed", backend=self.spec.name)
            n = self.calls
            self.calls += 1
            if self.record:
                self.requests.append(request)
            step = self.script[n] if n < len(self.script) else "ok"
        latency = self.latency_ms
        if isinstance(step, Mapping):
            latency = float(step.get("latency_ms", latency))
        if isinstance(step, Mapping) and "reply" in step:
            text = str(step["reply"])
        elif self.replies:
            text = self.replies[n % len(self.replies)]
        elif callable(self.reply):
            text = self.reply(request)
        else:
            text = self.reply
        wait = latency / 1000.0
        if timeout is not None and wait > timeout:
            return step, text, timeout, errors.BackendTimeout("timed out", backend=self.spec.name)
        return step, text, wait, _error(step, self.spec.name)

    def _complete(self, request: ChatRequest, text: str) -> ChatCompletion:
        prompt = 3 + sum(len(m.text()) // 4 + 5 for m in request.messages)
        out = estimate_tokens(text)
        finish = "stop"
        if request.max_tokens is not None and out > request.max_tokens:
            text = text[: request.max_tokens * 4]
            out, finish = request.max_tokens, "length"
        return make_completion(
            self.spec.model,
            text,
            prompt_tokens=prompt,
            completion_tokens=out,
            finish_reason=finish,
        )

    def chat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        _, text, wait, err = self._next(request, timeout)
        if wait:
            time.sleep(wait)
        if err is not None:
            raise err
        return self._complete(request, text)

    async def achat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        _, text, wait, err = self._next(request, timeout)
        if wait:
            await asyncio.sleep(wait)
        if err is not None:
            raise err
        return self._complete(request, text)

    def _pieces(self, request: ChatRequest, step: Any, text: str) -> Iterator[Any]:
        """Chunks to emit, then a BackendError to raise if the script cuts the stream."""
        done = self._complete(request, text)
        text = done.choices[0].message.content or ""
        cut = step.get("cut_after") if isinstance(step, Mapping) else None
        cid, created = completion_id(), int(time.time())
        model = self.spec.model
        yield make_chunk(cid, model, role="assistant", content="", created=created)
        pieces = [text[i : i + self.chunk_chars] for i in range(0, len(text), self.chunk_chars)]
        for i, piece in enumerate(pieces):
            if cut is not None and i >= int(cut):
                yield errors.BackendUnavailable("scripted stream cut", backend=self.spec.name)
                return
            yield make_chunk(cid, model, piece, created=created)
        usage: Usage | None = done.usage
        finish = done.choices[0].finish_reason
        yield make_chunk(cid, model, finish_reason=finish, created=created)
        yield make_chunk(cid, model, usage=usage, created=created)

    def stream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[ChatCompletionChunk]:
        step, text, wait, err = self._next(request, timeout)
        if wait:
            time.sleep(wait)
        if err is not None:
            raise err
        for piece in self._pieces(request, step, text):
            if isinstance(piece, errors.BackendError):
                raise piece
            yield piece

    async def astream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatCompletionChunk]:
        step, text, wait, err = self._next(request, timeout)
        if wait:
            await asyncio.sleep(wait)
        if err is not None:
            raise err
        for piece in self._pieces(request, step, text):
            if isinstance(piece, errors.BackendError):
                raise piece
            yield piece

    def health(self) -> Health:
        return Health(ok=not self.closed, detail="closed" if self.closed else "scripted")

    def close(self) -> None:
        self.closed = True
