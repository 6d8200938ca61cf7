"""Serving a model that lives in this process: one bounded FIFO queue, one worker per copy.

A model object loaded in process (a llama.cpp ``Llama``, say) is usually not thread-safe, so
:class:`InProcessBackend` drives each loaded copy ("slot") with one worker thread, all of
them pulling from one bounded queue shared by every caller in every thread and event loop:

* **Admission.** At most one running job per copy plus ``max_queue`` waiting; one more
  fails at once with :class:`~router.errors.BackendUnavailable` ("queue full").
  :meth:`InProcessBackend.queue_depth` (waiting + running) tells latency-aware routing how
  busy the model is.
* **Sync callers** (``chat``, ``stream``) are handed the model: the worker that dequeues
  their job sets ``Job.turn`` and the caller runs the job in its own thread (so a stream
  yields tokens with no hand-off between threads), then releases the copy. A sync caller
  that arrives while nobody waits and a copy is idle claims it at once, without waking a
  worker.
* **Async callers** (``achat``, ``astream``) never block their event loop: the worker runs
  their job and feeds the result through a :class:`concurrent.futures.Future` (whole
  completions) or, chunk by chunk, into an :class:`asyncio.Queue` on the caller's loop.
* **Deadlines and cancellation.** A job past its deadline or given up by its caller is
  ``stopped()``; the model-specific code checks it between tokens.
* **Close** fails every waiting job, cancels running ones, joins the workers and unloads
  each copy no one is still using; a copy still in use is unloaded when its job ends.
* **A backend dropped without close** is garbage-collected like any object: the workers
  hold only the queue's state (:class:`_Queue`, no model) and a weak reference to the
  backend, which they make strong only while they run a job. A finalizer then stops the
  workers and unloads the models, with a :class:`ResourceWarning` as an unclosed file
  gives: ``close()`` is how to say when.

A subclass supplies the model-specific parts: :meth:`~InProcessBackend._slot` (load or
return copy ``i``), :meth:`~InProcessBackend._generate` and :meth:`~InProcessBackend._chunks`
(run a job on a copy), :meth:`~InProcessBackend._translate` (an exception into the
:mod:`router.errors` tree), :meth:`~InProcessBackend._unload` (free a copy), and optionally
:meth:`~InProcessBackend._check_request` (refuse a request before it is queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from router import errors
from router.backends.base import Backend
from router.completion import ChatCompletion, ChatCompletionChunk
from router.config import BackendSpec
from router.messages import ChatRequest

_END = object()


class Job:
    """One request in the queue. A job with a ``sink`` (async callers) is run by the worker,
    which pushes chunks (or a completion into ``future``); one without is run by its caller's
    own thread once the worker hands it the model (``turn``), and releases it after."""

    __slots__ = (
        "backend",
        "cancelled",
        "counted",
        "deadline",
        "future",
        "request",
        "sink",
        "slot",
        "turn",
    )

    def __init__(self, backend: str, request: ChatRequest, timeout: float | None, sink: Any):
        self.backend = backend
        self.request = request
        self.deadline = time.monotonic() + timeout if timeout else None
        self.sink: Callable[[Any], None] | None = sink
        self.future: Future[ChatCompletion] = Future()
        self.cancelled = False
        self.turn = threading.Event()
        self.slot = 0
        self.counted = False  # in the backend's running count

    def stopped(self) -> bool:
        """Whether the job should stop: its caller gave up, or its deadline has passed."""
        return self.cancelled or (self.deadline is not None and time.monotonic() > self.deadline)


class _Queue:
    """What the worker threads share with their backend: the waiting jobs, which copies are
    busy, whether the backend is closed. It holds neither the backend nor its models, so a
    backend nobody uses any more can be collected while its workers wait on ``cond``."""

    __slots__ = ("busy", "closed", "cond", "pending", "running", "threads")

    def __init__(self, instances: int) -> None:
        self.cond = threading.Condition()
        self.pending: deque[Job] = deque()
        self.running = 0  # jobs holding a copy
        self.busy = [False] * instances
        self.closed = False
        self.threads: list[threading.Thread] = []

    def claim(self, job: Job, i: int) -> None:
        """Mark copy ``i`` busy with ``job`` (``cond``'s lock is held)."""
        self.busy[i] = True
        self.running += 1
        job.counted, job.slot = True, i

    def shut(self) -> list[Job] | None:
        """Mark the backend closed, wake the workers (they exit) and return the jobs that
        were waiting, for the caller to fail; ``None`` if it was closed already."""
        with self.cond:
            if self.closed:
                return None
            self.closed = True
            pending, self.pending = list(self.pending), deque()
            self.cond.notify_all()
        return pending


class ModelSlot(Protocol):
    """One loaded copy of a model; ``job`` is the job running on it, if any."""

    job: Job | None


SlotT = TypeVar("SlotT", bound=ModelSlot)


class InProcessBackend(Backend, Generic[SlotT]):
    """A backend whose model copies run in this process. See the module docstring."""

    worker_prefix: ClassVar[str] = "inprocess"
    """Worker threads are named ``{worker_prefix}-{backend name}-{copy index}``."""

    def __init__(self, spec: BackendSpec, *, instances: int, max_queue: int) -> None:
        super().__init__(spec)
        self._max_queue = max_queue
        self._slots: list[SlotT | None] = [None] * instances
        self._q = _Queue(instances)
        # Run when the backend is collected without close(); not at interpreter exit, where
        # the daemon workers simply stop with the process.
        self._finalizer = weakref.finalize(
            self, _collected, self._q, self._slots, type(self)._unload, self.name
        )
        self._finalizer.atexit = False

    @property
    def _closed(self) -> bool:
        """Whether :meth:`close` has run (or the backend was collected)."""
        return self._q.closed

    # --- what a subclass supplies -----------------------------------------------------

    def _slot(self, i: int) -> SlotT:
        """Copy ``i`` of the model, loading it first if need be (called from any thread)."""
        raise NotImplementedError

    def _generate(self, slot: SlotT, job: Job) -> ChatCompletion:
        """Run a non-streamed job on ``slot``."""
        raise NotImplementedError

    def _chunks(self, slot: SlotT, job: Job) -> Iterator[ChatCompletionChunk]:
        """Run a streamed job on ``slot``; the last chunk carries ``usage``."""
        raise NotImplementedError

    def _translate(self, exc: BaseException, job: Job) -> errors.BackendError:
        """``exc``, raised running ``job``, as a :class:`~router.errors.BackendError`."""
        raise NotImplementedError

    @classmethod
    def _unload(cls, slot: SlotT) -> None:
        """Free a copy no one uses any more (at close, when the last job on a closed backend
        ends, or after the backend was collected: hence a class method)."""

    def _check_request(self, request: ChatRequest) -> None:
        """Refuse a request this model cannot serve, before it is queued."""

    # --- the queue and its workers ----------------------------------------------------

    def _start_workers(self) -> None:
        q = self._q
        with q.cond:
            if q.threads or q.closed:
                return
            me = weakref.ref(self)  # a worker must not keep its backend alive
            for i in range(len(self._slots)):
                name = f"{self.worker_prefix}-{self.name}-{i}"
                t = threading.Thread(target=_work, args=(me, q, i), name=name, daemon=True)
                q.threads.append(t)
                t.start()

    def _submit(self, request: ChatRequest, timeout: float | None, sink: Any = None) -> Job:
        self._check_request(request)
        job = Job(self.name, request, timeout, sink)
        self._start_workers()
        q = self._q
        with q.cond:
            if q.closed:
                raise errors.BackendUnavailable("backend is closed", backend=self.name)
            # One running job per instance, plus ``max_queue`` waiting.
            if len(q.pending) + q.running >= self._max_queue + len(self._slots):
                raise _busy(errors.BackendUnavailable("queue full", backend=self.name))
            idle = [i for i, busy in enumerate(q.busy) if not busy]
            if sink is None and idle and not q.pending:
                # Nobody is waiting and a copy is idle: a sync caller takes it at once,
                # without waking the worker (two thread switches saved per request).
                q.claim(job, idle[0])
                job.turn.set()
            else:
                q.pending.append(job)
                q.cond.notify_all()
        return job

    def queue_depth(self) -> int:
        """Requests queued or running on this model in this process."""
        return len(self._q.pending) + self._q.running

    def _serve(self, i: int, job: Job) -> Callable[[], None] | None:
        """Serve ``job``, just taken from the queue by worker ``i`` (which claimed copy
        ``i``); returns how to hand an async caller its end, which the worker does once it
        has let go of the backend."""
        if job.sink is None:  # a sync caller runs it in its own thread
            if job.cancelled:  # it gave up waiting before its turn came
                self._release(job)
            else:
                job.turn.set()  # it holds the copy now, and releases it when done
            return None
        try:
            return self._run(i, job, job.sink)
        finally:
            # Before the hand-over: depth is 0 once a caller has its answer.
            self._release(job)

    def _release(self, job: Job) -> None:
        """Take a finished job out of the running count (once). On a closed backend the copy
        it ran on is freed now: :meth:`close` had to leave it loaded while the job used it."""
        freed: SlotT | None = None
        q = self._q
        with q.cond:
            if job.counted:
                job.counted = False
                q.running -= 1
                q.busy[job.slot] = False
                if q.closed:
                    freed, self._slots[job.slot] = self._slots[job.slot], None
                q.cond.notify_all()
        if freed is not None:
            self._unload(freed)

    def _run(self, i: int, job: Job, sink: Callable[[Any], None]) -> Callable[[], None] | None:
        """Run an async caller's job here; returns how to hand over its end."""
        if not job.future.set_running_or_notify_cancel():
            return None  # the caller gave up while the job waited
        try:
            if job.stopped():
                raise _busy(errors.BackendTimeout("timed out in the queue", backend=self.name))
            slot = self._open_slot(i)
            slot.job = job
            try:
                if not job.request.stream:
                    result = self._generate(slot, job)
                    return lambda: job.future.set_result(result)
                for chunk in self._chunks(slot, job):
                    sink(chunk)
                return lambda: sink(_END)
            finally:
                slot.job = None
        except Exception as exc:
            err = self._translate(exc, job)

            def fail() -> None:
                sink(err)
                job.future.set_exception(err)

            return fail

    def _open_slot(self, i: int) -> SlotT:
        """Copy ``i``, loaded if need be, for a job about to run on it. Nothing runs on a
        backend closed before the load or during it (seconds, for a large model)."""
        if not self._closed:
            slot = self._slot(i)
            if not self._closed:
                return slot
        raise errors.BackendUnavailable("backend closed", backend=self.name)

    def _inline(self, request: ChatRequest, timeout: float | None) -> tuple[Job, SlotT]:
        """Wait for this thread's turn on the model: FIFO with every other caller."""
        job = self._submit(request, timeout)
        if not job.turn.wait(_left(job)):
            job.cancelled = True
            self._release(job)
            raise _busy(errors.BackendTimeout("timed out in the queue", backend=self.name))
        try:
            slot = self._open_slot(job.slot)
        except BaseException:
            self._release(job)
            raise
        slot.job = job
        return job, slot

    # --- the Backend interface --------------------------------------------------------

    def chat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        """Wait for a copy in this thread, then run the request on it."""
        job, slot = self._inline(request, timeout)
        try:
            return self._generate(slot, job)
        except errors.BackendError:
            raise
        except Exception as exc:
            raise self._translate(exc, job) from None
        finally:
            slot.job = None
            self._release(job)

    async def achat(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatCompletion:
        """Queue the request for a worker and await its future, never blocking the loop."""
        job = self._submit(request.model_copy(update={"stream": False}), timeout, _ignore)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job.future), timeout)
        except asyncio.TimeoutError:
            raise self._timed_out(job) from None
        finally:
            job.cancelled = job.cancelled or not job.future.done()

    def stream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[ChatCompletionChunk]:
        """Wait for a copy in this thread, then stream from it."""
        # Chunks go from the model to the caller in the caller's thread: no hand-off per token.
        job, slot = self._inline(request.model_copy(update={"stream": True}), timeout)
        try:
            yield from self._chunks(slot, job)
        except errors.BackendError:
            raise
        except Exception as exc:
            raise self._translate(exc, job) from None
        finally:
            slot.job = None
            self._release(job)

    async def astream(
        self,
        request: ChatRequest,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """Queue the request for a worker, which feeds its chunks to this loop's queue."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()
        gone: list[bool] = []

        def sink(item: Any) -> None:
            if gone:
                return
            try:
                loop.call_soon_threadsafe(items.put_nowait, item)
            except RuntimeError:  # the caller's loop has closed: stop feeding it
                gone.append(True)

        job = self._submit(request.model_copy(update={"stream": True}), timeout, sink)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(items.get(), _left(job))
                except asyncio.TimeoutError:
                    raise self._timed_out(job) from None
                if item is _END:
                    return
                yield _chunk(item)
        finally:
            job.cancelled = True

    def _timed_out(self, job: Job) -> errors.BackendError:
        """The timeout of an async caller: a busy model's (marked overloaded) when its job
        never left the queue, a slow answer's otherwise."""
        f = job.future  # cancelled by the timeout only while it still waited to run
        if f.cancelled() or not (f.running() or f.done()):
            return _busy(errors.BackendTimeout("timed out in the queue", backend=self.name))
        return errors.BackendTimeout("timed out", backend=self.name)

    async def aclose(self) -> None:
        """:meth:`close` in a worker thread: waiting for the model threads to stop must not
        stall the event loop."""
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop the workers (a running job stops at its next token) and free the models."""
        q = self._q
        pending = q.shut()
        if pending is None:
            return
        self._finalizer.detach()  # closed here: nothing is left for the collector to do
        for job in pending:
            _fail(job, self.name)
        for slot in self._slots:
            if slot is not None and slot.job is not None:
                slot.job.cancelled = True
        for t in q.threads:
            if t is not threading.current_thread():
                t.join(timeout=30)
        # A copy still in use (a request that has not stopped yet, a stream its caller left
        # suspended) cannot be freed under its user: the last job on it frees it when it
        # ends (see _release).
        _free_idle(q, self._slots, self._unload)


def _work(backend: weakref.ref[InProcessBackend[Any]], q: _Queue, i: int) -> None:
    """Worker ``i``: take jobs from the queue for copy ``i`` until the backend is closed or
    collected. It holds the backend only while it serves a job, never while it waits."""
    while True:
        with q.cond:
            while (not q.pending or q.busy[i]) and not q.closed:
                q.cond.wait()
            if q.closed:
                return
            serving = backend()
            if serving is None:  # collected: its finalizer fails what still waits
                return
            job = q.pending.popleft()
            q.claim(job, i)
        deliver = serving._serve(i, job)
        # Let go of the backend before its caller hears the end: a caller that drops the
        # backend then leaves nothing holding it (the last reference going runs the
        # finalizer, here).
        del serving, job
        if deliver is not None:
            # A caller whose event loop has closed cannot be told; the worker lives on.
            with contextlib.suppress(RuntimeError):
                deliver()
            del deliver


def _collected(q: _Queue, slots: list[Any], unload: Callable[[Any], None], name: str) -> None:
    """A backend was garbage-collected without :meth:`~InProcessBackend.close`: stop its
    workers, fail what still waits, free its models. Nothing runs on them: a job holds its
    backend."""
    loaded = any(slot is not None for slot in slots)
    started = bool(q.threads) or loaded
    for job in q.shut() or ():
        _fail(job, name)
    _free_idle(q, slots, unload)
    if started:
        what = "its model was freed" if loaded else "its worker was stopped"
        warnings.warn(
            f"in-process backend {name!r} was not closed; {what} when it was "
            "garbage-collected (call close(), or use the router as a context manager)",
            ResourceWarning,
            stacklevel=1,
        )


def _fail(job: Job, name: str) -> None:
    """End a job that was still waiting when its backend closed."""
    err = errors.BackendUnavailable("backend closed", backend=name)
    if job.sink is None:
        job.turn.set()  # its caller wakes, sees the backend closed, and raises
    else:
        job.sink(err)
    if job.future.set_running_or_notify_cancel():
        job.future.set_exception(err)


def _free_idle(q: _Queue, slots: list[Any], unload: Callable[[Any], None]) -> None:
    """Unload every loaded copy of a closed backend that no job holds. Taking a copy out of
    ``slots`` under the lock means exactly one of this and ``_release`` frees it."""
    with q.cond:
        freed = []
        for i, slot in enumerate(slots):
            if slot is not None and not q.busy[i]:
                freed.append(slot)
                slots[i] = None
    for slot in freed:
        unload(slot)


def _ignore(item: Any) -> None:
    """The sink of a whole (non-streamed) completion, which arrives through the future."""


def _left(job: Job) -> float | None:
    return None if job.deadline is None else max(job.deadline - time.monotonic(), 0.0)


def _chunk(item: Any) -> ChatCompletionChunk:
    if isinstance(item, BaseException):
        raise item
    return item


def _busy(exc: errors.BackendError) -> errors.BackendError:
    """``exc`` marked as backpressure: the model is busy, not broken."""
    exc.overloaded = True
    return exc
