"""When an in-process model is freed: at ``close()``, even with requests in flight, or when a
router or backend nobody closed is garbage-collected."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
import weakref
from typing import Any

import pytest

from router import Router, errors
from router.backends.llama_cpp import LlamaCppBackend
from router.messages import parse_request
from tests.fixtures_backends import tiny_spec

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow


def greedy(text: str, n: int = 8) -> Any:
    return parse_request(text, max_tokens=n, temperature=0)


def the_model(b: LlamaCppBackend) -> weakref.ref[Any]:
    """A weak reference to the backend's loaded ``Llama`` (its only copy)."""
    slot = b._slots[0]
    assert slot is not None
    return weakref.ref(slot.llama)


def freed(model: weakref.ref[Any]) -> bool:
    gc.collect()
    return model() is None


# --- close() with a request in flight -----------------------------------------------------


def test_a_copy_in_use_at_close_is_freed_when_its_stream_ends(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))
    stream = b.stream(greedy("Tell me a long story", 400))
    next(stream)  # the stream holds the model now
    model = the_model(b)
    b.close()
    assert b.metadata()["loaded"] is True  # not freed under its user
    stream.close()  # the caller leaves: the last user of the copy is gone
    assert b.metadata()["loaded"] is False
    assert freed(model)


@pytest.mark.parametrize("how", ["chat", "stream", "achat"])
def test_a_request_whose_model_is_loading_at_close_does_not_run(
    tiny_models, monkeypatch, how
) -> None:
    """close() lands while the copy loads (seconds, for a large model): the request ends
    with BackendUnavailable instead of generating a whole answer on a closed backend,
    and the copy it loaded is freed."""
    import llama_cpp

    load = llama_cpp.Llama.__init__

    def slow_load(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        loading.set()
        closed.wait(5)
        load(self, *args, **kwargs)

    monkeypatch.setattr(llama_cpp.Llama, "__init__", slow_load)
    loading, closed = threading.Event(), threading.Event()
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))

    def close_while_loading() -> None:
        loading.wait(5)
        b.close()
        closed.set()

    threading.Thread(target=close_while_loading).start()
    with pytest.raises(errors.BackendUnavailable, match="closed"):
        if how == "chat":
            b.chat(greedy("Tell me a long story", 400))
        elif how == "stream":
            list(b.stream(greedy("Tell me a long story", 400)))
        else:
            asyncio.run(b.achat(greedy("Tell me a long story", 400)))
    assert b.metadata()["loaded"] is False


def test_a_copy_in_use_at_close_is_freed_when_its_chat_ends(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, preload=True))
    model = the_model(b)
    started, go = threading.Event(), threading.Event()
    generate = b._generate

    def held(slot: Any, job: Any) -> Any:
        started.set()
        go.wait(30)
        return generate(slot, job)

    b._generate = held  # type: ignore[method-assign]
    got: list[type[BaseException]] = []  # not the error: its traceback holds the model

    def call() -> None:
        try:
            b.chat(greedy("Tell me a long story", 400))
        except errors.BackendError as exc:
            got.append(type(exc))

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(30)  # the request is running on the only copy
    b.close()
    go.set()
    caller.join(30)
    assert got == [errors.BackendUnavailable]  # cut by close
    assert b.metadata()["loaded"] is False
    assert freed(model)


def test_a_queued_stream_keeps_its_copy_through_close_and_frees_it_when_it_ends(
    tiny_models,
) -> None:
    """The copy is handed to a waiting caller by the worker: close() stops that worker,
    which must not give the copy up (and free it) while its caller still reads from it."""
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, preload=True))
    model = the_model(b)
    first = b.stream(greedy("Tell me a long story", 400))
    next(first)  # the only copy is busy: the next caller waits in the queue
    reading, leave = threading.Event(), threading.Event()
    got: list[type[BaseException]] = []

    def queued() -> None:
        second = b.stream(greedy("And another", 400))
        next(second)  # its turn came from the worker
        reading.set()
        leave.wait(30)
        try:
            next(second)
        except errors.BackendError as exc:
            got.append(type(exc))
        second.close()

    caller = threading.Thread(target=queued)
    caller.start()
    first.close()
    assert reading.wait(30)
    b.close()
    assert b.metadata()["loaded"] is True  # still in use: not freed under its reader
    leave.set()
    caller.join(30)
    assert got == [errors.BackendUnavailable]  # the stream was cut by close
    assert b.metadata()["loaded"] is False
    assert freed(model)


# --- a router or backend dropped without close() ------------------------------------------


def ask(r: Router, how: str) -> None:
    """One request through ``r``, called the way ``how`` says."""

    async def astream() -> None:
        async for _ in r.astream("Hi", max_tokens=4):
            pass

    if how == "chat":
        r.chat("Hi", max_tokens=4)
    elif how == "stream":
        list(r.stream("Hi", max_tokens=4))
    elif how == "achat":
        asyncio.run(r.achat("Hi", max_tokens=4))
    else:
        asyncio.run(astream())


@pytest.mark.parametrize("telemetry", [False, True], ids=["no-telemetry", "telemetry"])
@pytest.mark.parametrize("how", ["chat", "achat", "stream", "astream"])
def test_a_router_dropped_without_close_frees_its_model_and_its_worker(
    tiny_models, how, telemetry
) -> None:
    # With telemetry, the meter provider (the global one here) keeps the queue-depth
    # gauge's callback for good: it must not keep the router's backends.
    before = set(threading.enumerate())
    r = Router([LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))], telemetry=telemetry)
    ask(r, how)
    b = r.backends["tiny"]
    model = the_model(b)
    workers = [t for t in threading.enumerate() if t not in before and t.name == "llama-tiny-0"]
    assert len(workers) == 1
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        del r, b
        gc.collect()
        workers[0].join(10)
    assert not workers[0].is_alive()
    assert freed(model)
    said = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]
    assert any("'tiny' was not closed" in m for m in said), said  # as an unclosed file says


def test_a_closed_or_unused_backend_is_dropped_without_a_warning(tiny_models) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        unused = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))
        closed = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))
        closed.chat(greedy("Hi", 2))
        model = the_model(closed)
        closed.close()
        del unused, closed
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)]
    assert freed(model)


def test_a_dropped_backend_that_never_loaded_its_model_does_not_claim_to_free_one(
    tiny_models, monkeypatch
) -> None:
    def no_memory(**kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Failed to load model")

    monkeypatch.setattr(LlamaCppBackend, "_library", lambda self: no_memory)
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe))
    with pytest.raises(errors.BackendUnavailable, match="failed to load"):
        asyncio.run(b.achat(greedy("Hi", 2)))  # an async call starts a worker
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        del b
        gc.collect()
    said = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]
    assert said and all("worker was stopped" in m and "model" not in m for m in said), said
