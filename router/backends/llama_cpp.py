"""In-process llama.cpp through ``llama-cpp-python``: dense and mixture-of-experts GGUFs.

A ``Llama`` object is not thread-safe, so each loaded model is driven by one worker thread
(``instances: N`` loads N copies, one worker each) pulling from one bounded queue. Callers
in any thread or event loop hand a job to the queue and wait for it without blocking the
loop; a full queue fails at once with :class:`~router.errors.BackendUnavailable`, and
:meth:`LlamaCppBackend.queue_depth` tells latency-aware routing how busy the model is.
That machinery is shared, in :mod:`router.backends._inprocess`; this module is the
llama.cpp part: options, loading, the context check, and the chat translation.

Before any token is generated, llama-cpp-python's chat handler formats the prompt with the
model's chat template and tokenizes it (once); ``prompt + max_tokens`` is then checked
against the context window (the spec's ``context_window``, which is the ``n_ctx`` the model
is loaded with) and :class:`~router.errors.ContextTooLong` raised with the counts. A request
without ``max_tokens`` generates at most ``default_max_tokens``. Stream usage is measured:
prompt tokens as tokenized, completion tokens as generated.

The GGUF header is read when the backend is built (milliseconds, no weights), so
``metadata()`` is cheap; the weights load on the first request, at once with
``preload: true``, or with :meth:`LlamaCppBackend.load`.

Options: ``model_path`` (required; ``~`` and ``$VARS`` expanded), ``n_threads``,
``n_threads_batch``, ``n_batch``, ``n_gpu_layers``, ``chat_format`` (default: the GGUF's
template), ``instances`` (1), ``max_queue`` (16 waiting requests), ``default_max_tokens``
(512), ``seed``, ``preload`` (false), ``llama_kwargs`` (more ``Llama()`` arguments).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from router import errors
from router.backends._inprocess import InProcessBackend, Job
from router.backends.base import Health, make_chunk, options_from_spec
from router.backends.gguf_meta import GGUFInfo, read_gguf_info
from router.backends.openai_wire import parse_chunk, parse_completion
from router.completion import ChatCompletion, ChatCompletionChunk, Usage
from router.config import BackendSpec
from router.messages import ChatRequest, ImagePart

RELOAD_AFTER_S = 60.0
"""A model that failed to load is not tried again for this long (a request fails at once,
and the router moves on); after it, the next request tries again: the file may have been
completed or replaced, or memory freed."""


class LlamaCppOptions(BaseModel):
    """``options`` of ``kind: llama_cpp`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    model_path: str
    n_threads: int | None = Field(default=None, ge=1)
    n_threads_batch: int | None = Field(default=None, ge=1)
    n_batch: int = Field(default=512, ge=1)
    n_gpu_layers: int = Field(default=0, ge=-1)
    chat_format: str | None = None
    instances: int = Field(default=1, ge=1, le=16)
    max_queue: int = Field(default=16, ge=0)
    default_max_tokens: int = Field(default=512, ge=1)
    seed: int | None = None
    preload: bool = False
    llama_kwargs: dict[str, Any] = Field(default_factory=dict)


class _Slot:
    """One loaded ``Llama``, standing in for it inside llama-cpp-python's chat handler."""

    def __init__(self, llama: Any) -> None:
        import llama_cpp

        self.llama = llama
        self.job: Job | None = None
        self.prompt_tokens = self.completion_tokens = 0
        vocab = llama_cpp.llama_model_get_vocab(llama.model)
        is_eog, generate = llama_cpp.llama_vocab_is_eog, llama.generate

        # The completion loop pulls tokens from ``self.generate``: wrapping it on this one
        # instance counts generated tokens exactly (the loop stops at the first
        # end-of-generation token without counting it) and stops a cancelled or late job.
        def metered(*args: Any, **kwargs: Any) -> Iterator[int]:
            for token in generate(*args, **kwargs):
                job = self.job
                if job is not None and job.stopped():
                    return
                if not is_eog(vocab, token):
                    self.completion_tokens += 1
                yield token

        llama.generate = metered

    def __getattr__(self, name: str) -> Any:
        return getattr(self.llama, name)

    def create_completion(self, prompt: Any, **kwargs: Any) -> Any:
        """The chat handler calls this with the tokenized prompt: check it fits, then run."""
        if isinstance(prompt, str):
            prompt = self.llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        self.prompt_tokens, self.completion_tokens = len(prompt), 0
        window, out = self.llama.n_ctx(), int(kwargs.get("max_tokens") or 0)
        if len(prompt) + out > window:
            raise errors.ContextTooLong(
                f"{len(prompt)} prompt tokens + {out} max_tokens > context window {window}",
                backend=self.job.backend if self.job else "",
                needed=len(prompt) + out,
                window=window,
            )
        if self.job is not None and _reproducible(self.job.request):
            # llama-cpp-python keeps the KV cache of the previous request and evaluates
            # only what follows the longest common prefix (on an exact match, the last
            # prompt token alone). The logits then depend on how the prompt was split
            # into batches, i.e. on what ran before: a request asking for a reproducible
            # answer has its whole prompt evaluated afresh.
            self.llama.reset()
        return self.llama.create_completion(prompt=prompt, **kwargs)


class LlamaCppBackend(InProcessBackend[_Slot]):
    """A GGUF model run in this process by llama.cpp. See the module docstring."""

    worker_prefix = "llama"

    def __init__(self, spec: BackendSpec, options: LlamaCppOptions) -> None:
        super().__init__(spec, instances=options.instances, max_queue=options.max_queue)
        self.options = options
        self.model_path = _expand(options.model_path)
        self.info: GGUFInfo = _checked_info(spec, self.model_path)
        self._load_lock = threading.Lock()
        self._load_error: BaseException | None = None
        self._failed_at = 0.0  # when the model last failed to load (monotonic)
        self._library_broken = False  # the failure was importing llama-cpp-python itself
        self.load_seconds: float | None = None
        if options.preload:
            self.load()

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> LlamaCppBackend:
        """Build from a configuration entry; bad options raise :class:`ConfigError`."""
        return cls(spec, options_from_spec(LlamaCppOptions, spec))

    @classmethod
    def check_options(cls, spec: BackendSpec) -> None:
        """Validate the options, and the GGUF header when the file is on this machine (a dry
        run on a machine without the model still works; building the backend would fail)."""
        path = _expand(options_from_spec(LlamaCppOptions, spec).model_path)
        if os.path.exists(path):
            _checked_info(spec, path)

    @classmethod
    def describe(cls, spec: BackendSpec) -> dict[str, Any]:
        """:meth:`metadata` without building the backend: the GGUF header only."""
        path = _expand(options_from_spec(LlamaCppOptions, spec).model_path)
        if not os.path.exists(path):
            return {"model_path": path, "loaded": False, "note": "model file not found here"}
        return {**read_gguf_info(path).summary(), "model_path": path, "loaded": False}

    # --- loading --------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return all(s is not None for s in self._slots)

    def load(self) -> float:
        """Load every instance now (idempotent); returns the seconds loading took."""
        t0 = time.perf_counter()
        for i in range(len(self._slots)):
            self._slot(i)
        self._start_workers()
        if self.load_seconds is None:
            self.load_seconds = time.perf_counter() - t0
        return self.load_seconds

    def _slot(self, i: int) -> _Slot:
        with self._load_lock:
            slot = self._slots[i]
            if slot is not None:
                return slot
            if self._load_error is not None:
                if self._library_broken or time.monotonic() - self._failed_at < RELOAD_AFTER_S:
                    raise self._load_failed()
                self._load_error = None  # the file may have been replaced: try again
            Llama = self._library()
            o = self.options
            kwargs: dict[str, Any] = dict(
                model_path=self.model_path,
                n_ctx=self.spec.context_window,
                n_batch=o.n_batch,
                n_gpu_layers=o.n_gpu_layers,
                n_threads=o.n_threads,
                n_threads_batch=o.n_threads_batch,
                chat_format=o.chat_format,
                verbose=False,
            )
            if o.seed is not None:
                kwargs["seed"] = o.seed
            try:
                slot = self._slots[i] = _Slot(Llama(**{**kwargs, **o.llama_kwargs}))
            except Exception as exc:
                self._load_error, self._failed_at = exc, time.monotonic()
                raise self._load_failed() from exc
            return slot

    def _library(self) -> Any:
        """llama-cpp-python's ``Llama``; a library that is missing or will not load (its
        shared library raises RuntimeError on import) is remembered as a load failure."""
        try:
            from llama_cpp import Llama
        except Exception as exc:
            self._load_error, self._library_broken = exc, True
            raise self._load_failed() from None
        return Llama

    def _load_failed(self) -> errors.BackendUnavailable:
        name = type(self._load_error).__name__
        if not self._library_broken:
            why = (
                f"the model failed to load from {self.model_path} ({name}): check that the "
                "file is a complete GGUF of an architecture this llama.cpp knows, and that "
                "there is memory for it"
            )
        elif isinstance(self._load_error, ImportError):
            why = "llama-cpp-python is not installed (pip install 'hybrid-router[local]')"
        else:
            why = f"llama-cpp-python cannot be loaded ({name})"
        return errors.BackendUnavailable(why, backend=self.name)

    @classmethod
    def _unload(cls, slot: _Slot) -> None:
        slot.llama.close()

    # --- running a request ----------------------------------------------------------

    def _check_request(self, request: ChatRequest) -> None:
        for m in request.messages:
            if isinstance(m.content, list) and any(isinstance(p, ImagePart) for p in m.content):
                raise errors.BadRequest("this model reads text only", backend=self.name)
        if request.tool_choice == "required" and len(request.tools or ()) != 1:
            # llama-cpp-python ignores "required" (the model may answer in prose) and has
            # no grammar over several tools: refused here, the router moves on.
            why = "with several tools" if request.tools else "without tools"
            raise errors.BadRequest(
                f'tool_choice "required" is not supported {why} on this backend',
                backend=self.name,
            )

    def _call(self, slot: _Slot, job: Job, stream: bool) -> Any:
        from llama_cpp import Llama

        # Called unbound with the slot as ``self``: the chat handler then tokenizes through
        # the slot and calls ``slot.create_completion``, where the context check happens.
        return Llama.create_chat_completion(slot, **self._params(job.request, stream))  # type: ignore[arg-type]

    def _stop_error(self) -> errors.BackendError:
        """Why a job was stopped short: the backend was closed under it, or its time ran out."""
        if self._closed:
            return errors.BackendUnavailable("backend closed", backend=self.name)
        return errors.BackendTimeout("timed out", backend=self.name)

    def _generate(self, slot: _Slot, job: Job) -> ChatCompletion:
        out = self._call(slot, job, False)
        if job.stopped():
            raise self._stop_error()
        return parse_completion({**out, "model": self.spec.model}, backend=self.name)

    def _chunks(self, slot: _Slot, job: Job) -> Iterator[ChatCompletionChunk]:
        model, cid, created = self.spec.model, "", 0
        announced: set[int | str] = set()  # tool calls whose id and name have been sent
        for d in self._call(slot, job, True):
            if job.cancelled:
                if self._closed:  # cut by close(): never a stream that looks complete
                    raise self._stop_error()
                return  # the caller left: nobody reads what would follow
            choice, cid, created = d["choices"][0], d["id"], d["created"]
            delta, finish = choice["delta"], choice["finish_reason"]
            if finish is not None and job.stopped():
                # llama.cpp reports a generation cut by the stop as "length", and a tool
                # call cut short as "tool_calls": not an answer that ended, so no finish
                # reason reaches the caller.
                raise self._stop_error()
            if "tool_calls" in delta or "function_call" in delta:
                choice = {**choice, "delta": _announce_once(delta, announced)}
                yield parse_chunk({**d, "choices": [choice], "model": model}, backend=self.name)
                continue
            content, role = delta.get("content"), delta.get("role")
            yield make_chunk(cid, model, content, role=role, finish_reason=finish, created=created)
        if job.stopped():
            raise self._stop_error()
        p, c = slot.prompt_tokens, slot.completion_tokens
        usage = Usage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)
        yield make_chunk(cid, model, usage=usage, created=created)

    def _params(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        p: dict[str, Any] = {
            "messages": _messages(request),
            "max_tokens": request.max_tokens or self.options.default_max_tokens,
            "stream": stream,
        }
        for key in ("temperature", "top_p", "stop", "seed"):
            if (v := getattr(request, key)) is not None:
                p[key] = v
        if request.tools:
            p["tools"] = [t.model_dump(exclude_none=True) for t in request.tools]
        if (tc := request.tool_choice) is not None:
            p["tool_choice"] = tc if isinstance(tc, str) else tc.model_dump()
        if tc == "required" and request.tools:
            # One tool (see _check_request): "required" means calling it, which the chat
            # handler enforces with a grammar only for a named choice.
            p["tool_choice"] = {
                "type": "function",
                "function": {"name": request.tools[0].function.name},
            }
        if "seed" not in p and self.options.seed is not None:
            p["seed"] = self.options.seed
        if (rf := request.response_format) is not None and rf.type != "text":
            schema = (
                rf.schema_ if rf.type == "json_object" else (rf.json_schema or {}).get("schema")
            )
            p["response_format"] = {"type": "json_object", **({"schema": schema} if schema else {})}
        return p

    def _translate(self, exc: BaseException, job: Job) -> errors.BackendError:
        if isinstance(exc, errors.BackendError):
            return exc
        if isinstance(exc, errors.ConfigError):
            err: errors.BackendError = errors.BackendUnavailable(exc.message, backend=self.name)
        elif job.stopped():
            err = self._stop_error()
        elif isinstance(exc, ValueError) or type(exc).__module__.startswith("jinja2"):
            # Chat templates and handlers reject some requests (roles that do not alternate,
            # an unknown tool choice ...). Their text is not repeated: it may quote the prompt.
            why = f"the chat template or handler rejected the request ({type(exc).__name__})"
            err = errors.BadRequest(why, backend=self.name)
        else:
            err = errors.ServerError(f"llama.cpp failed ({type(exc).__name__})", backend=self.name)
        return errors.translated(err, exc)

    # --- health and metadata --------------------------------------------------------

    def health(self) -> Health:
        if self._closed:
            return Health(ok=False, detail="closed")
        if self._load_error is not None:
            return Health(ok=False, detail=self._load_failed().message)
        if not self.loaded:
            if not os.path.isfile(self.model_path):
                return Health(ok=False, detail="model file not found")
            try:
                with self._load_lock:
                    self._library()
            except errors.BackendUnavailable as exc:
                return Health(ok=False, detail=exc.message)
            return Health(ok=True, detail="not loaded yet (loads on the first request)")
        return Health(ok=True, detail=f"loaded; queue depth {self.queue_depth()}")

    def metadata(self) -> dict[str, Any]:
        """The GGUF facts read at build time, plus how the model is (or will be) run."""
        first = self._slots[0]
        return {
            **self.info.summary(),
            "model_path": self.model_path,
            "n_ctx": self.spec.context_window,
            "instances": len(self._slots),
            "max_queue": self.options.max_queue,
            "loaded": self.loaded,
            "load_seconds": None if self.load_seconds is None else round(self.load_seconds, 3),
            "chat_format": first.llama.chat_format if first else self.options.chat_format,
        }


def _expand(path: str) -> str:
    return os.path.expandvars(os.path.expanduser(path))


def _checked_info(spec: BackendSpec, path: str) -> GGUFInfo:
    info = read_gguf_info(path)
    trained = info.context_length
    if trained is not None and spec.context_window > trained:
        raise errors.ConfigError(
            f"backend {spec.name}: context_window {spec.context_window} exceeds the model's "
            f"trained context length {trained}",
            hint=f"set context_window to at most {trained}",
        )
    return info


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    """Messages as chat templates expect them: text content, ``developer`` as ``system``."""
    out = []
    for m in request.messages:
        c = m.content
        text = c if isinstance(c, str) else "\n".join(_part_text(p) for p in c or ())
        d: dict[str, Any] = {"role": "system" if m.role == "developer" else m.role, "content": text}
        if m.role == "assistant" and m.tool_calls:
            d["tool_calls"] = [call.model_dump() for call in m.tool_calls]
        if m.role == "tool":
            d["tool_call_id"] = m.tool_call_id
        if m.name:
            d["name"] = m.name
        out.append(d)
    return out


def _reproducible(request: ChatRequest) -> bool:
    """Whether the request asks for the same answer every time: it gives a ``seed``.
    Greedy decoding alone (``temperature`` 0, common in chat apps) does not: evaluating a
    whole conversation afresh at every turn would cost far more than it buys there. Nor
    does a backend's ``seed`` option."""
    return request.seed is not None


def _announce_once(delta: dict[str, Any], announced: set[int | str]) -> dict[str, Any]:
    """A streamed tool-call delta in OpenAI's shape.

    llama-cpp-python repeats a call's ``id``, ``type`` and ``function.name`` in every delta;
    OpenAI sends them once, in the first delta of each tool-call ``index``, and then only
    pieces of ``arguments``. Clients (the openai SDK, LangChain, our own
    :mod:`router.stream`) concatenate the name pieces, so the repeats would assemble as
    ``get_weatherget_weather...``. ``announced`` holds the indexes already sent (and
    ``"function_call"`` for the legacy field) across the deltas of one stream.
    """
    out = dict(delta)
    if delta.get("tool_calls") is not None:
        calls = []
        for call in delta["tool_calls"]:
            index = call.get("index", 0)
            if index in announced:
                pieces = (call.get("function") or {}).get("arguments") or ""
                call = {"index": index, "function": {"arguments": pieces}}
            announced.add(index)
            calls.append(call)
        out["tool_calls"] = calls
    if (legacy := delta.get("function_call")) is not None:
        if "function_call" in announced:
            out["function_call"] = {"arguments": legacy.get("arguments") or ""}
        announced.add("function_call")
    return out


def _part_text(part: Any) -> str:
    return getattr(part, "text", None) or getattr(part, "refusal", None) or ""
