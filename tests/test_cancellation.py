"""A caller that goes away (a cancelled task) ends the request: no fallback, no failure
counted against a healthy backend, and what the attempt held is given back."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from router import FakeBackend
from router.backends.base import Backend
from tests.helpers import router_with


class SyncOnly(FakeBackend):
    """A backend that implements only the sync stream (the documented minimum), slowly."""

    astream = Backend.astream

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.finished = threading.Event()
        self.producing = threading.Event()

    def stream(self, request: Any, **kw: Any):
        try:
            for chunk in super().stream(request, **kw):
                self.producing.set()
                time.sleep(0.3)  # a slow model producing a token
                yield chunk
        finally:
            self.finished.set()


async def test_cancelling_a_stream_pulled_from_a_thread_cancels_the_request() -> None:
    slow = SyncOnly("slow", reply="one two three four")
    other = FakeBackend("other", tier="large", reply="the fallback")
    r = router_with([slow, other], complexity=0.0)  # slow (small) first, other after
    received: list[Any] = []

    async def consume() -> None:
        async for chunk in r.astream("hello"):
            received.append(chunk)

    task = asyncio.create_task(consume())
    # wait until the worker thread is inside next(), producing a chunk
    assert await asyncio.to_thread(slow.producing.wait, 5.0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert other.calls == 0  # no fallback after the caller left
    assert r.health.breakers["slow"].state == "closed"
    assert not any(failed for _, failed in r.health.breakers["slow"]._outcomes)
    assert await asyncio.to_thread(slow.finished.wait, 5.0)  # closed once next() returned


def test_a_stream_closed_from_another_thread_ends_at_its_next_chunk() -> None:
    """A "stop" button: one thread reads the stream, another closes it."""
    slow = FakeBackend("slow", latency_ms=300, reply="x" * 64)
    r = router_with([slow])
    stream = r.stream("hi")
    got: list[object] = []

    def read() -> None:
        try:
            got.extend(stream)
            got.append("end")
        except Exception as exc:  # the test fails on any error, below
            got.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)  # the reader is inside next(), waiting for the backend
    stream.close()  # used to raise ValueError: generator already executing
    reader.join(timeout=10)
    assert got[-1] == "end" and len(got) <= 2  # at most the chunk in flight, then the end
    assert r.health.latency["slow"].in_flight == 0
