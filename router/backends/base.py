"""The backend interface: a chat call, a streaming call, a health probe, close.

Retries, fallbacks, budgets, privacy checks and tracing live above this interface, in the
router, never inside a backend. A backend's only other duty is to translate its failures
into the typed tree in :mod:`router.errors` at its boundary (``raise errors.translated(X,
exc) from None``: library messages may quote the prompt, so they are not chained).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from router import errors
from router.completion import (
    AssistantOut,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
    trusted,
)
from router.config import BackendSpec
from router.messages import ChatRequest

_random = random.Random()
_M = TypeVar("_M", bound=BaseModel)
_C = TypeVar("_C")


@dataclass(frozen=True, slots=True)
class Health:
    """The result of a health probe."""

    ok: bool
    detail: str = ""
    latency_ms: float | None = None


class Backend:
    """Base class of every backend. Subclasses implement ``chat`` and ``stream`` at least.

    The async variants default to running the sync ones in a worker thread, which is right
    for in-process models; network backends override them with native async clients.
    """

    spec: BackendSpec

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The backend's configured name."""
        return self.spec.name

    def chat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        """One chat completion. Raises a :class:`~router.errors.BackendError` on failure.

        ``timeout`` bounds the whole call in seconds; ``headers`` are extra HTTP headers
        (W3C trace context) that network backends send and in-process ones ignore.
        """
        raise NotImplementedError

    async def achat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        """The async twin of :meth:`chat`; by default :meth:`chat` in a worker thread."""
        return await asyncio.to_thread(self.chat, request, timeout=timeout, headers=headers)

    def stream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[ChatCompletionChunk]:
        """Stream chunks; the last one carries ``usage``. Errors raise mid-iteration."""
        raise NotImplementedError

    async def astream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """Async streaming; the default pulls the sync stream from a worker thread.

        When the caller goes away (a cancelled task, a closed stream), the sync stream is
        closed to release its connection: at once, or, while the worker thread is still
        inside ``next()``, by that thread as soon as it returns (closing a generator that is
        running raises, which would replace the caller's ``CancelledError``).
        """
        puller = _ThreadPuller(self.stream(request, timeout=timeout, headers=headers))
        try:
            while True:
                chunk = await asyncio.to_thread(puller.pull)
                if chunk is _DONE:
                    return
                yield chunk  # type: ignore[misc]
        finally:
            puller.close()

    def health(self) -> Health:
        """Probe the backend; by default it reports no probe."""
        return Health(ok=True, detail="no probe for this backend")

    async def ahealth(self) -> Health:
        """The async twin of :meth:`health`."""
        return await asyncio.to_thread(self.health)

    def queue_depth(self) -> int:
        """Requests waiting for this backend in this process (in-process models queue)."""
        return 0

    def metadata(self) -> dict[str, Any]:
        """Facts about the model (architecture, experts, context ...), for listings."""
        return {}

    def close(self) -> None:
        """Release resources. Safe to call twice."""

    async def aclose(self) -> None:
        """The async twin of :meth:`close`."""
        self.close()

    def __repr__(self) -> str:
        s = self.spec
        return f"<{type(self).__name__} {s.name} tier={s.tier} zone={s.zone} model={s.model}>"


class LoopClient(Generic[_C]):
    """The async client of the running event loop, made by ``factory`` on first use.

    Pooled connections cannot move between event loops, so each loop gets its own client
    (a router shared by two threads, each with its loop, keeps two pools instead of
    rebuilding one on every switch). A closed loop's client is dropped the next time a
    client is made: its connections died with the loop. Network backends keep one of these
    for their async calls.
    """

    __slots__ = ("_clients", "_closed", "_factory", "_lock")

    def __init__(self, factory: Callable[[], _C]) -> None:
        self._factory = factory
        self._closed = False  # after take(): no new client is ever made
        # id(loop) -> (loop, client). Not a WeakKeyDictionary: a client's connections hold
        # their loop, so a weak key would never be freed.
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, _C]] = {}
        self._lock = threading.Lock()

    def get(self) -> _C | None:
        """The running loop's client (call from a coroutine); ``None`` once :meth:`take` has
        run (the backend was closed, perhaps after the caller checked it was open: a new
        pool made now would never be closed)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        with self._lock:  # two tasks of one loop, or two loops at once: one client each
            if self._closed:
                return None
            entry = self._clients.get(id(loop))
            if entry is not None and entry[0] is loop:
                return entry[1]
            for key, (other, _) in list(self._clients.items()):
                if other.is_closed():
                    del self._clients[key]
            client = self._factory()
            self._clients[id(loop)] = (loop, client)
            return client

    def take(self) -> _C | None:
        """Forget every client and return the running loop's (``None`` outside a loop or
        when it has none), to close it there. Other loops' pools belong to those loops and
        are only dropped. For the backend's close: no client is made after it."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._closed = True
            clients, self._clients = self._clients, {}
        entry = clients.get(id(loop)) if loop is not None else None
        return entry[1] if entry is not None and entry[0] is loop else None


_DONE = object()


class _ThreadPuller:
    """A sync iterator pulled from worker threads, closed safely from the event loop."""

    __slots__ = ("_busy", "_close_pending", "_it", "_lock")

    def __init__(self, it: Iterator[Any]) -> None:
        self._it = it
        self._lock = threading.Lock()
        self._busy = False
        self._close_pending = False

    def pull(self) -> Any:
        """The next item, or ``_DONE`` (runs in a worker thread)."""
        with self._lock:
            if self._close_pending:
                return _DONE
            self._busy = True
        try:
            return next(self._it, _DONE)
        finally:
            with self._lock:
                self._busy = False
                close_now = self._close_pending
            if close_now:  # nobody waits for this thread any more: nothing to raise to
                with contextlib.suppress(Exception):
                    self._close()

    def close(self) -> None:
        """Close the iterator now, or when the pull in progress returns."""
        with self._lock:
            self._close_pending = True
            if self._busy:
                return  # the pulling thread closes it on its way out
        self._close()

    def _close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


def completion_id() -> str:
    """A fresh ``chatcmpl-`` id (unique, not secret)."""
    return f"chatcmpl-{_random.getrandbits(96):024x}"


def make_completion(
    model: str,
    text: str | None,
    *,
    prompt_tokens: int,
    completion_tokens: int,
    finish_reason: str = "stop",
    tool_calls: list[Any] | None = None,
    id: str | None = None,
) -> ChatCompletion:
    """Build a completion without re-validating fields we produced ourselves (hot path)."""
    msg = trusted(AssistantOut, role="assistant", content=text, tool_calls=tool_calls, refusal=None)
    usage = trusted(
        Usage,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        completion_tokens_details=None,
    )
    return trusted(
        ChatCompletion,
        id=id or completion_id(),
        object="chat.completion",
        created=int(time.time()),
        model=model,
        choices=[trusted(Choice, index=0, message=msg, finish_reason=finish_reason)],
        usage=usage,
        route=None,
    )


def make_chunk(
    id: str,
    model: str,
    content: str | None = None,
    *,
    role: str | None = None,
    finish_reason: str | None = None,
    usage: Usage | None = None,
    created: int | None = None,
) -> ChatCompletionChunk:
    choices = []
    if content is not None or role is not None or finish_reason is not None:
        delta = trusted(Delta, role=role, content=content, tool_calls=None)
        choices = [trusted(ChunkChoice, index=0, delta=delta, finish_reason=finish_reason)]
    return trusted(
        ChatCompletionChunk,
        id=id,
        object="chat.completion.chunk",
        created=created if created is not None else int(time.time()),
        model=model,
        choices=choices,
        usage=usage,
        route=None,
        event=None,
    )


def options_from_spec(model: type[_M], spec: BackendSpec) -> _M:
    """Validate ``spec.options`` with a backend's options model; a bad option raises
    :class:`~router.errors.ConfigError` naming the backend and the option."""
    try:
        return model.model_validate(spec.options)
    except ValidationError as exc:
        where, msg = first_problem(exc)
        raise errors.ConfigError(f"backend {spec.name}: options.{where}: {msg}") from None


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The first problem pydantic found: where (a dotted path, empty for the whole
    model) and what, with "unknown option" for a key the model does not have."""
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = "unknown option" if err["type"] == "extra_forbidden" else err["msg"]
    return where, msg
