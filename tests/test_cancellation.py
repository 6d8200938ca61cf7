"""A caller that goes away (a cancelled task) ends the request: no fallback, no failure
counted against a healthy backend, and what the attempt held is given back."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from router import FakeBackend, Router
from router.backends.base import Backend
from tests.helpers import policy, router_with


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


async def test_an_async_stream_closed_from_another_task_ends_at_its_next_chunk() -> None:
    """The async "stop" button: one task reads the stream, another awaits aclose()."""
    slow = FakeBackend("slow", latency_ms=300, reply="x" * 64)
    r = router_with([slow])
    stream = r.astream("hi")

    async def read() -> list[object]:
        return [chunk async for chunk in stream]

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.1)  # the reader is inside __anext__, waiting for the backend
    await stream.aclose()  # used to raise RuntimeError and leave the stream running
    got = await asyncio.wait_for(reader, 10)
    assert len(got) <= 1  # at most the chunk in flight, then a normal end
    assert r.health.latency["slow"].in_flight == 0


def test_a_long_achat_request_is_classified_off_the_event_loop() -> None:
    """A request of hundreds of kilobytes takes tens of milliseconds to classify; on the
    loop that would stall every other task. A caller cancelled while the worker thread
    classifies still gets its request ended for observers."""
    from router import Observer
    from router.core import OFF_LOOP_CHARS

    started = threading.Event()

    class Seen(Observer):
        def __init__(self) -> None:
            self.started_in: list[threading.Thread] = []
            self.finished: list[BaseException | None] = []

        def request_started(self, ctx):  # type: ignore[no-untyped-def]
            self.started_in.append(threading.current_thread())
            started.set()
            return True

        def request_finished(self, ctx, error):  # type: ignore[no-untyped-def]
            self.finished.append(error)

    class SlowScorer:  # classifying takes a while: time for the caller to go away
        name = "slow"

        def score(self, turns):  # type: ignore[no-untyped-def]
            time.sleep(0.2 if len(turns[-1]) > OFF_LOOP_CHARS else 0)
            return 0.1

    seen = Seen()
    backend = FakeBackend("a", reply="ok", context_window=10**7)
    default = policy("extends: default\n", team="default")
    r = Router([backend], [default], scorer=SlowScorer(), observer=seen, telemetry=False)
    big = "Please summarise this. " * (OFF_LOOP_CHARS // 20)

    async def main() -> threading.Thread:
        assert (await r.achat(big)).text == "ok"
        assert (await r.achat("short")).text == "ok"
        started.clear()
        task = asyncio.ensure_future(r.achat(big))
        await asyncio.to_thread(started.wait, 10)  # the worker thread has the request
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return threading.current_thread()  # the loop shuts down while the thread works

    loop_thread = asyncio.run(main())
    assert seen.started_in[0] is not loop_thread and seen.started_in[1] is loop_thread
    assert len(seen.finished) == 3 and isinstance(seen.finished[2], asyncio.CancelledError)
    assert backend.calls == 2  # the cancelled request was never sent


def test_closing_a_stream_while_its_reader_reads_never_raises_in_either_thread() -> None:
    """close() and the reader's next() race for the generator: exactly one closes it. A
    slow observer widens the window in which both used to close it at once."""
    import random
    import sys

    from router import Observer

    class Slow(Observer):
        def request_finished(self, ctx, error):  # type: ignore[no-untyped-def]
            time.sleep(0.002)

    errors: list[BaseException] = []
    r = router_with([FakeBackend("a", reply="x" * 2000, chunk_chars=1)], observer=Slow())
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(300):
            stream = r.stream("hi")

            def read(s=stream) -> None:
                try:
                    for _ in s:
                        pass
                except BaseException as exc:  # the test fails on any
                    errors.append(exc)

            reader = threading.Thread(target=read)
            reader.start()
            time.sleep(random.random() * 0.002)
            try:
                stream.close()
            except BaseException as exc:
                errors.append(exc)
            reader.join(timeout=10)
    finally:
        sys.setswitchinterval(switch)
    assert errors == []
