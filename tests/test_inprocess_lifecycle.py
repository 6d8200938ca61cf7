"""When an in-process model is freed: at ``close()``, even with requests in flight."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import pytest

from router import errors
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
