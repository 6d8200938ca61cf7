"""A proprietary API through the ``openai`` SDK: OpenAI, or any compatible provider by
``base_url``.

.. code-block:: yaml

    - name: gpt
      tier: proprietary
      zone: remote
      kind: openai
      model: gpt-4.1-mini
      api_key_env: OPENAI_API_KEY     # the NAME of the variable; the key is never in a file
      capabilities: {tools: true, streaming_usage: true}
      price: {input_per_mtok: 0.40, output_per_mtok: 1.60}
      options: {base_url: "https://api.openai.com/v1"}

The key is read from the environment when the first request is made. It never appears in
a log line, a ``repr``, an error message or the ``metadata()`` listing; an authentication
failure drops the SDK's exception, whose text may quote part of the key. The SDK's own
retries are off (``max_retries=0``): the router alone decides about retries and fallbacks.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from router import errors
from router.backends import openai_wire as wire
from router.backends.base import Backend, Health, LoopClient, options_from_spec
from router.completion import ChatCompletion, ChatCompletionChunk
from router.config import BackendSpec, check_url_has_no_secret
from router.messages import ChatRequest

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


class OpenAIOptions(BaseModel):
    """``options`` of ``kind: openai``."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(default=None, pattern=r"^https?://")

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, url: str | None) -> str | None:
        return check_url_has_no_secret(url)

    organization: str | None = None
    project: str | None = None
    timeout: float = Field(default=120.0, gt=0, description="Total seconds per request.")
    connect_timeout: float = Field(default=5.0, gt=0)


class OpenAIBackend(Backend):
    """A chat model behind the OpenAI API (or a compatible provider)."""

    def __init__(self, spec: BackendSpec, options: OpenAIOptions) -> None:
        super().__init__(spec)
        import openai  # noqa: F401  (here, not in the first achat: the import stalls a loop)

        self.options = options
        self.key_env = spec.api_key_env or DEFAULT_KEY_ENV
        self._client: Any = None
        self._aclients: LoopClient[Any] = LoopClient(self._new_async)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> OpenAIBackend:
        """Build from a configuration entry; bad options raise :class:`ConfigError`."""
        return cls(spec, options_from_spec(OpenAIOptions, spec))

    @classmethod
    def check_options(cls, spec: BackendSpec) -> None:
        options_from_spec(OpenAIOptions, spec)

    @classmethod
    def describe(cls, spec: BackendSpec) -> dict[str, Any]:
        """:meth:`metadata` without building the backend."""
        return _describe(spec, options_from_spec(OpenAIOptions, spec))

    # --- clients --------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        import openai

        key = _env(self.key_env)
        if key is None:
            raise errors.AuthenticationFailed(
                f"environment variable {self.key_env} is not set", backend=self.name
            )
        o = self.options
        return {
            "api_key": key,
            # Explicit, so OPENAI_BASE_URL in the environment cannot send the data
            # somewhere other than where the configuration (and explain) says.
            "base_url": o.base_url or DEFAULT_BASE_URL,
            "organization": o.organization,
            "project": o.project,
            "max_retries": 0,  # the router decides about retries, never the SDK
            "timeout": openai.Timeout(o.timeout, connect=o.connect_timeout),
        }

    def _sync(self) -> Any:
        self._check_open()
        client = self._client
        if client is None:
            with self._lock:  # threads making their first call at once build one client
                self._check_open()  # close() may have run since the check above
                if self._client is None:
                    import openai

                    self._client = openai.OpenAI(**self._settings())
                client = self._client
        return client

    def _async(self) -> Any:
        self._check_open()
        client = self._aclients.get()  # one pool per event loop
        if client is None:  # closed after the check above
            raise errors.BackendUnavailable("backend is closed", backend=self.name)
        return client

    def _check_open(self) -> None:
        if self._closed:  # a closed backend does not quietly open new pools
            raise errors.BackendUnavailable("backend is closed", backend=self.name)

    def _new_async(self) -> Any:
        import openai

        return openai.AsyncOpenAI(**self._settings())

    def _args(
        self,
        request: ChatRequest,
        stream: bool,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        usage = self.spec.capabilities.streaming_usage
        args = wire.request_body(request, self.spec.model, stream=stream, include_usage=usage)
        if timeout:
            import openai

            total = min(timeout, self.options.timeout)
            args["timeout"] = openai.Timeout(
                total, connect=min(self.options.connect_timeout, total)
            )
        if headers:
            args["extra_headers"] = dict(headers)
        return args

    def _completion(self, request: ChatRequest, response: Any) -> ChatCompletion:
        # The SDK hands back a str, list or None for a body that is not a JSON object.
        to_dict = getattr(response, "to_dict", None)
        if to_dict is None:
            raise errors.MalformedResponse("response is not a chat completion", backend=self.name)
        completion = wire.parse_completion(to_dict(), backend=self.name)
        if completion.usage is None:
            counter = wire.StreamUsage(request)
            counter.add_completion(completion)
            completion.usage = counter.usage()
        return completion

    # --- the Backend interface ------------------------------------------------------

    def chat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        args = self._args(request, False, timeout, headers)
        try:
            response = self._sync().chat.completions.create(**args)
        except errors.BackendError:
            raise
        except Exception as exc:
            failure = errors.translated(_translate(exc, self.name), exc)
        else:
            return self._completion(request, response)
        raise failure  # outside the handler: the SDK's exception is not its __context__

    async def achat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        args = self._args(request, False, timeout, headers)
        try:
            response = await self._async().chat.completions.create(**args)
        except errors.BackendError:
            raise
        except Exception as exc:
            failure = errors.translated(_translate(exc, self.name), exc)
        else:
            return self._completion(request, response)
        raise failure

    def stream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[ChatCompletionChunk]:
        args = self._args(request, True, timeout, headers)
        events = wire.EventStream(self.name, request)
        failure = None
        try:
            with self._sync().chat.completions.create(**args) as chunks:
                # The SDK's own parser reads a JSON error body as an empty stream and drops
                # llama-server's ``error:`` lines: the body is read here, as the HTTP
                # backend reads it, so both raise the same typed errors.
                response = chunks.response
                events.start(response.headers)  # a JSON or HTML body is raised at finish
                for data in response.iter_bytes():  # decoded as UTF-8 by EventStream
                    yield from events.feed(data)
                    if events.done:
                        break
        except errors.BackendError:
            raise
        except Exception as exc:
            failure = errors.translated(_translate(exc, self.name), exc)
        if failure is not None:
            raise failure
        yield from events.finish()

    async def astream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatCompletionChunk]:
        args = self._args(request, True, timeout, headers)
        events = wire.EventStream(self.name, request)
        failure = None
        try:
            async with await self._async().chat.completions.create(**args) as chunks:
                response = chunks.response  # read here, as in stream
                events.start(response.headers)
                async for data in response.aiter_bytes():
                    for chunk in events.feed(data):
                        yield chunk
                    if events.done:
                        break
        except errors.BackendError:
            raise
        except Exception as exc:
            failure = errors.translated(_translate(exc, self.name), exc)
        if failure is not None:
            raise failure
        for chunk in events.finish():
            yield chunk

    def health(self) -> Health:
        """Lists the provider's models (free); failures are described, never raised."""
        t0 = time.perf_counter()
        try:
            self._sync().models.list(timeout=self.options.connect_timeout + 5)
        except Exception as exc:
            return Health(ok=False, detail=_translate(exc, "").message)
        return Health(ok=True, detail="models listed", latency_ms=(time.perf_counter() - t0) * 1e3)

    def metadata(self) -> dict[str, Any]:
        return _describe(self.spec, self.options)

    def close(self) -> None:
        """Close the sync client. Async pools belong to their event loop: close them with
        :meth:`aclose` from that loop; here they are only dropped. A closed backend raises
        :class:`~router.errors.BackendUnavailable`."""
        self._closed = True
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        self._aclients.take()

    async def aclose(self) -> None:
        self._closed = True
        client = self._aclients.take()
        try:
            if client is not None:
                await client.close()
        finally:
            self.close()


def _describe(spec: BackendSpec, o: OpenAIOptions) -> dict[str, Any]:
    env = spec.api_key_env or DEFAULT_KEY_ENV
    return {
        "provider": "openai-compatible API (openai SDK)",
        "base_url": o.base_url or DEFAULT_BASE_URL,
        "model": spec.model,
        "api_key_env": env,
        "api_key_set": _env(env) is not None,
        "sdk_retries": 0,
        "timeout_s": o.timeout,
    }


DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _translate(exc: Exception, backend: str) -> errors.BackendError:
    """Map an ``openai`` SDK exception to our errors, by type and HTTP status."""
    import openai

    if isinstance(exc, errors.BackendError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return errors.BackendTimeout("timed out", backend=backend)
    if isinstance(exc, openai.APIConnectionError):
        return errors.BackendUnavailable("connection refused or unreachable", backend=backend)
    if isinstance(exc, openai.APIStatusError):
        headers = exc.response.headers
        return wire.error_from_status(
            exc.status_code, backend=backend, headers=headers, body=exc.body
        )
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        # ValueError: an SDK decoder met a body that is not JSON.
        return errors.MalformedResponse("response is not a chat completion", backend=backend)
    if isinstance(exc, openai.APIError):  # an error the SDK read from a body
        return wire.error_from_status(500, backend=backend, body=exc.body)
    return _read_failure(exc, backend) or errors.ServerError(
        f"unexpected {type(exc).__name__} from the SDK", backend=backend
    )


def _read_failure(exc: Exception, backend: str) -> errors.BackendError | None:
    """A failure of the HTTP library while a stream's body is read: the backend reads it
    from the SDK's response itself, where the SDK does not translate. That library is
    ``httpx``, or ``httpx2`` in SDKs that moved to it; only those already loaded are
    looked at."""
    for http in (sys.modules.get("httpx"), sys.modules.get("httpx2")):
        if http is None:
            continue
        name = type(exc).__name__
        if isinstance(exc, http.TimeoutException):
            return errors.BackendTimeout(f"timed out ({name})", backend=backend)
        if isinstance(exc, http.DecodingError):
            return errors.MalformedResponse("response body could not be decoded", backend=backend)
        if isinstance(exc, http.TransportError | http.StreamError):
            return errors.BackendUnavailable(f"connection broken ({name})", backend=backend)
    return None
