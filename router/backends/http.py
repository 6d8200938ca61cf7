"""One backend for every OpenAI-compatible server: llama.cpp's ``llama-server``, vLLM,
Ollama and llama-cpp-python's server. Only the health probe differs between them.

.. code-block:: yaml

    - name: big-moe
      tier: large
      zone: local
      kind: openai_compatible
      model: qwen3-30b-a3b            # the model name the server knows
      context_window: 32768
      capabilities: {streaming_usage: true}
      api_key_env: BIG_MOE_KEY        # optional
      options: {base_url: "http://127.0.0.1:8080/v1", server: llama_server}

Pooled sync and async ``httpx`` clients; connect, read, write and pool timeouts from the
options, and the router's per-attempt ``timeout`` caps each of them and bounds the whole
call, stream or not: every connect, read and write waits at most until the attempt's
deadline, and the clock is read at every piece that arrives.
Server-sent events are decoded as UTF-8 (whatever charset the header names) and parsed
line by line as they arrive. ``stream_options.include_usage``
is sent only when the spec declares ``capabilities.streaming_usage``; when a stream
finishes without usage, the backend adds an estimate marked ``estimated: true`` (see
:class:`~router.backends.openai_wire.StreamUsage`). The W3C ``traceparent`` header the router
passes in ``headers`` is sent with each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Literal, TypeVar

import httpcore
import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from router import __version__, errors
from router.backends import openai_wire as wire
from router.backends.base import Backend, Health, LoopClient, options_from_spec
from router.completion import ChatCompletion, ChatCompletionChunk
from router.config import BackendSpec, check_url_has_no_secret
from router.messages import ChatRequest

Server = Literal["generic", "llama_server", "vllm", "ollama", "llama_cpp_python"]
# Where each server answers a health probe, relative to its root (base URL minus "/v1").
_HEALTH = {"llama_server": "/health", "vllm": "/health", "ollama": "/"}


class HTTPOptions(BaseModel):
    """``options`` of ``kind: openai_compatible``."""

    model_config = ConfigDict(extra="forbid")
    base_url: str = Field(pattern=r"^https?://", description="e.g. http://127.0.0.1:8080/v1")

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, url: str | None) -> str | None:
        return check_url_has_no_secret(url)

    server: Server = "generic"
    health_path: str | None = Field(default=None, description="Overrides the server's probe.")
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=120.0, gt=0)
    write_timeout: float = Field(default=30.0, gt=0)
    pool_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=32, ge=1)


class OpenAICompatibleBackend(Backend):
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, spec: BackendSpec, options: HTTPOptions) -> None:
        super().__init__(spec)
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        self.health_url = _health_url(self.base_url, options)
        self._limits = limits = httpx.Limits(max_connections=options.max_connections)
        self._client = _bounded(httpx.Client(timeout=self._timeout(None), limits=limits), _Network)
        self._aclients: LoopClient[httpx.AsyncClient] = LoopClient(
            lambda: _bounded(
                httpx.AsyncClient(timeout=self._timeout(None), limits=limits), _AsyncNetwork
            )
        )
        self._closed = False

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> OpenAICompatibleBackend:
        """Build from a configuration entry; bad options raise :class:`ConfigError`."""
        return cls(spec, options_from_spec(HTTPOptions, spec))

    @classmethod
    def check_options(cls, spec: BackendSpec) -> None:
        options_from_spec(HTTPOptions, spec)

    @classmethod
    def describe(cls, spec: BackendSpec) -> dict[str, Any]:
        """:meth:`metadata` without building the backend."""
        o = options_from_spec(HTTPOptions, spec)
        return _describe(spec, o, o.base_url.rstrip("/"))

    # --- plumbing -------------------------------------------------------------------

    def _timeout(self, total: float | None) -> httpx.Timeout:
        o = self.options

        def cap(x: float) -> float:
            return min(x, total) if total else x

        return httpx.Timeout(
            connect=cap(o.connect_timeout),
            read=cap(o.read_timeout),
            write=cap(o.write_timeout),
            pool=cap(o.pool_timeout),
        )

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        h = {"User-Agent": f"hybrid-router/{__version__}", "Accept": "application/json"}
        if self.spec.api_key_env is not None:
            key = self.spec.api_key()
            if key is None:
                raise errors.AuthenticationFailed(
                    f"environment variable {self.spec.api_key_env} is not set", backend=self.name
                )
            h["Authorization"] = f"Bearer {key}"
        if extra:
            h.update(extra)
        return h

    def _aclient(self) -> httpx.AsyncClient:
        client = self._aclients.get()  # one pool per event loop
        if client is None:  # closed after the call's closed check
            raise self._closed_error()
        return client

    def _url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        usage = self.spec.capabilities.streaming_usage
        return wire.request_body(request, self.spec.model, stream=stream, include_usage=usage)

    def _error(self, exc: Exception) -> errors.BackendError:
        return _transport_error(exc, self.name)

    def _completion(
        self, request: ChatRequest, status: int, headers: Any, body: bytes
    ) -> ChatCompletion:
        if status != 200:
            raise wire.error_from_status(status, backend=self.name, headers=headers, body=body)
        data = wire.parse_json(body, backend=self.name)
        completion = wire.parse_completion(data, backend=self.name, status=status)
        if completion.usage is None:
            counter = wire.StreamUsage(request)
            counter.add_completion(completion)
            completion.usage = counter.usage()
        return completion

    def _open(self) -> None:
        if self._closed:
            raise self._closed_error()

    def _closed_error(self) -> errors.BackendError:
        return errors.BackendUnavailable("backend is closed", backend=self.name)

    def _failure(self, exc: Exception) -> errors.BackendError:
        """The typed error for what httpx raised: a transport error, or its RuntimeError
        for a pool that :meth:`close` (or :meth:`aclose`) shut after the call's closed
        check. Any other RuntimeError is not ours to type and is raised again."""
        if isinstance(exc, httpx.HTTPError):
            return errors.translated(self._error(exc), exc)
        if self._closed and "client has been closed" in str(exc):
            return self._closed_error()
        raise exc

    # --- the Backend interface ------------------------------------------------------

    def chat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        self._open()
        body, h = self._body(request, False), self._headers(headers)
        deadline = time.monotonic() + timeout if timeout else None
        try:
            with (
                _until(deadline),
                self._client.stream(
                    "POST", self._url(), json=body, headers=h, timeout=self._timeout(timeout)
                ) as resp,
            ):
                # No read waits past the deadline, and the clock between pieces bounds
                # the whole call, so a server trickling its answer cannot hold it longer.
                pieces = []
                for piece in resp.iter_bytes():
                    pieces.append(piece)
                    _check(deadline, self.name)
                status, resp_headers = resp.status_code, resp.headers
        except (httpx.HTTPError, RuntimeError) as exc:
            failure = self._failure(exc)
        else:
            return self._completion(request, status, resp_headers, b"".join(pieces))
        # Outside the handler: httpx's exception, whose request holds the bearer key, is
        # not the error's __context__.
        raise failure

    async def achat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        self._open()
        body, h = self._body(request, False), self._headers(headers)
        client = self._aclient()
        try:
            resp = await asyncio.wait_for(
                client.post(self._url(), json=body, headers=h, timeout=self._timeout(timeout)),
                timeout,
            )
        except asyncio.TimeoutError:
            failure: errors.BackendError = errors.BackendTimeout("timed out", backend=self.name)
        except (httpx.HTTPError, RuntimeError) as exc:
            failure = self._failure(exc)
        else:
            return self._completion(request, resp.status_code, resp.headers, resp.content)
        raise failure  # outside the handlers, as in chat

    def stream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[ChatCompletionChunk]:
        self._open()
        body, h = self._body(request, True), self._headers(headers)
        events = _Events(self.name, request, timeout)
        send = self._client.build_request(
            "POST", self._url(), json=body, headers=h, timeout=self._timeout(timeout)
        )
        try:
            # The deadline is set around each step that waits for the server, never across
            # a yield: the time the caller holds a chunk is not the server's.
            with _until(events.deadline):
                resp = self._client.send(send, stream=True)
            try:
                if resp.status_code != 200:
                    with _until(events.deadline):
                        raw = resp.read()
                    raise wire.error_from_status(
                        resp.status_code, backend=self.name, headers=resp.headers, body=raw
                    )
                events.start(resp.headers)  # a JSON or HTML body is raised at finish
                for data in _each_until(resp.iter_bytes(), events):
                    for chunk in events.feed(data):
                        held = time.monotonic()
                        yield chunk
                        events.resume(held)
                    if events.done:
                        break
            finally:
                resp.close()
        except (httpx.HTTPError, RuntimeError) as exc:
            failure = self._failure(exc)
        else:
            yield from events.finish()
            return
        raise failure  # outside the handler, as in chat

    async def astream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatCompletionChunk]:
        self._open()
        body, h = self._body(request, True), self._headers(headers)
        events = _Events(self.name, request, timeout)
        client = self._aclient()
        send = client.build_request(
            "POST", self._url(), json=body, headers=h, timeout=self._timeout(timeout)
        )
        try:
            with _until(events.deadline):  # around each wait for the server, as in stream
                resp = await client.send(send, stream=True)
            try:
                if resp.status_code != 200:
                    with _until(events.deadline):
                        raw = await resp.aread()
                    raise wire.error_from_status(
                        resp.status_code, backend=self.name, headers=resp.headers, body=raw
                    )
                events.start(resp.headers)
                pieces = resp.aiter_bytes()
                while True:
                    with _until(events.deadline):
                        data = await anext(pieces, None)
                    if data is None:
                        break
                    for chunk in events.feed(data):
                        held = time.monotonic()
                        yield chunk
                        events.resume(held)
                    if events.done:
                        break
            finally:
                await resp.aclose()
        except (httpx.HTTPError, RuntimeError) as exc:
            failure = self._failure(exc)
        else:
            for chunk in events.finish():
                yield chunk
            return
        raise failure  # outside the handler, as in chat

    def health(self) -> Health:
        """Probes the server; failures are described, never raised. A closed backend says
        so without a request."""
        if self._closed:
            return _CLOSED
        t0 = time.perf_counter()
        try:
            resp = self._client.get(self.health_url, headers=self._probe_headers(), timeout=5.0)
        except (httpx.HTTPError, errors.AuthenticationFailed) as exc:
            return Health(ok=False, detail=_probe_failure(exc))
        except RuntimeError:  # httpx's "client has been closed": close() ran meanwhile
            if not self._closed:
                raise
            return _CLOSED
        return _health(resp, t0)

    async def ahealth(self) -> Health:
        """:meth:`health` on the event loop's pool; a closed backend opens none."""
        if self._closed:
            return _CLOSED
        t0 = time.perf_counter()
        try:
            resp = await self._aclient().get(
                self.health_url, headers=self._probe_headers(), timeout=5.0
            )
        except (httpx.HTTPError, errors.AuthenticationFailed) as exc:
            return Health(ok=False, detail=_probe_failure(exc))
        except RuntimeError:
            if not self._closed:
                raise
            return _CLOSED
        return _health(resp, t0)

    def _probe_headers(self) -> dict[str, str]:
        return self._headers(None) if self.spec.api_key() is not None else {}

    def metadata(self) -> dict[str, Any]:
        return _describe(self.spec, self.options, self.base_url)

    def close(self) -> None:
        """Close the sync pool. Async pools belong to their event loop: close them with
        :meth:`aclose` from that loop; here they are only dropped. A closed backend raises
        :class:`~router.errors.BackendUnavailable`."""
        self._closed = True
        self._client.close()
        self._aclients.take()

    async def aclose(self) -> None:
        self._closed = True
        self._client.close()
        client = self._aclients.take()
        if client is not None:
            await client.aclose()


class _Events(wire.EventStream):
    """:class:`~router.backends.openai_wire.EventStream` on the attempt's clock. The clock
    is read at every piece of the body, keep-alive comments included, so the timeout bounds
    the whole stream: the server's time, not the time the caller spends between chunks
    (:meth:`resume` moves the deadline by it)."""

    def __init__(self, backend: str, request: ChatRequest, timeout: float | None) -> None:
        super().__init__(backend, request)
        self.deadline = time.monotonic() + timeout if timeout else None

    def feed(self, data: bytes) -> list[ChatCompletionChunk]:
        _check(self.deadline, self.backend)
        return super().feed(data)

    def resume(self, held_since: float) -> None:
        """The caller held the stream from ``held_since`` until now: not the server's time."""
        if self.deadline is not None:
            self.deadline += time.monotonic() - held_since


# --- the attempt's deadline, down to each socket operation ---------------------------------
#
# httpx takes one read timeout per request and waits it afresh at every read, so a server
# that sends its headers late and then stalls would hold a call for nearly twice the
# timeout. The network streams below cut every connect, read and write to the time left
# before the deadline of the call being made in this thread or task, which the backend
# sets around each step that waits for the server (never across a yield to the caller).

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hybrid_router_http_deadline", default=None
)
_T = TypeVar("_T")


@contextlib.contextmanager
def _until(deadline: float | None) -> Iterator[None]:
    """Socket operations inside the block wait at most until ``deadline`` (monotonic)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


_END: Any = object()


def _each_until(it: Iterator[_T], events: _Events) -> Iterator[_T]:
    """``it``, each item waited for until the stream's deadline as it stands then (the
    deadline moves while the caller holds a chunk)."""
    while True:
        with _until(events.deadline):
            item = next(it, _END)
        if item is _END:
            return
        yield item


def _capped(timeout: float | None) -> float | None:
    """``timeout`` cut to the time left before the current deadline. Never below a
    millisecond: a socket takes 0 as "do not wait" and fails with an error that is not a
    timeout."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.001)
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every wait is cut to the current deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _capped(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Network(httpcore.NetworkBackend):
    """Opens :class:`_Stream` connections."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.connect_tcp(host, port, _capped(timeout), local_address, socket_options)
        return _Stream(inner)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _capped(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    """The async twin of :class:`_Stream`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _capped(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _capped(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _capped(timeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncNetwork(httpcore.AsyncNetworkBackend):
    """Opens :class:`_AsyncStream` connections."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.connect_tcp(
            host, port, _capped(timeout), local_address, socket_options
        )
        return _AsyncStream(inner)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.connect_unix_socket(path, _capped(timeout), socket_options)
        return _AsyncStream(inner)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


def _bounded(client: _C, wrapper: Any) -> _C:
    """``client`` with every connection of its pools cut to the deadline: its own transport's
    and those of the proxies the environment names (``HTTPS_PROXY``, ``ALL_PROXY`` ...),
    which httpx sets up only for a client built without a transport of its own.

    httpx has no public way to hand a pool a network backend, so the ones it built are
    wrapped. Should a new httpx move them, the backend still works, bounded by the clock
    between pieces only, and the timeout tests fail."""
    mounts = getattr(client, "_mounts", {})
    for transport in (getattr(client, "_transport", None), *mounts.values()):
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if inner is not None and not isinstance(inner, (_Network, _AsyncNetwork)):
            pool._network_backend = wrapper(inner)  # type: ignore[union-attr]
    return client


def _check(deadline: float | None, backend: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise errors.BackendTimeout("timed out (the attempt's whole time)", backend=backend)


_CLOSED = Health(ok=False, detail="backend is closed")


def _health_url(base_url: str, o: HTTPOptions) -> str:
    root = base_url[:-3] if base_url.endswith("/v1") else base_url
    if o.health_path is not None:
        return root + o.health_path
    path = _HEALTH.get(o.server)
    return root + path if path else f"{base_url}/models"


def _describe(spec: BackendSpec, o: HTTPOptions, base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "server": o.server,
        "model": spec.model,
        "health_url": _health_url(base_url, o),
        "streaming_usage": spec.capabilities.streaming_usage,
        "auth": f"bearer key from ${spec.api_key_env}" if spec.api_key_env else "none",
        "timeouts_s": {
            "connect": o.connect_timeout,
            "read": o.read_timeout,
            "write": o.write_timeout,
            "pool": o.pool_timeout,
        },
    }


def _transport_error(exc: Exception, backend: str) -> errors.BackendError:
    """Map an ``httpx`` transport failure (never an HTTP status) to our errors."""
    if isinstance(exc, httpx.TimeoutException):
        return errors.BackendTimeout(f"timed out ({type(exc).__name__})", backend=backend)
    if isinstance(exc, httpx.ConnectError):
        return errors.BackendUnavailable("connection refused or unreachable", backend=backend)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return errors.BackendUnavailable(
            f"connection broken ({type(exc).__name__})", backend=backend
        )
    if isinstance(exc, httpx.DecodingError):
        return errors.MalformedResponse("response body could not be decoded", backend=backend)
    return errors.BackendUnavailable(f"transport error ({type(exc).__name__})", backend=backend)


def _probe_failure(exc: Exception) -> str:
    if isinstance(exc, errors.AuthenticationFailed):
        return exc.message
    return _transport_error(exc, "").message


def _health(resp: httpx.Response, t0: float) -> Health:
    ms = (time.perf_counter() - t0) * 1000
    if resp.status_code == 200:
        return Health(ok=True, detail="HTTP 200", latency_ms=ms)
    why = " (loading or unhealthy)" if resp.status_code == 503 else ""
    return Health(ok=False, detail=f"HTTP {resp.status_code}{why}", latency_ms=ms)
