"""Streaming through the plan, with a commit point at the first token.

Nothing reaches the caller until a backend has produced its first content (text or a tool
call). Until then a failure switches to the next candidate silently. Once a token has been
delivered, the stream is committed: a failure then follows the policy's
``streaming.on_interrupt``: ``error`` raises :class:`~router.errors.StreamInterrupted` with
the partial text, ``restart`` yields a chunk with ``event="restart"`` and starts the answer
over on the plan's next attempt, a retry or the next candidate (announced when that
attempt's first token arrives; when no attempt gets that far, the stream raises
``StreamInterrupted`` as under ``error``). A backend stream that ends without a finish
reason counts as cut: never a clean end after a cut; one that fails after its finish
reason delivered a whole answer and ends normally.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from router import errors
from router.attempts import Call, Prepared, billed_output, bounded
from router.backends.base import make_chunk
from router.completion import (
    AssistantOut,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    Delta,
    DeltaFunction,
    DeltaToolCall,
    FunctionCallOut,
    ToolCallOut,
    Usage,
    trusted,
)
from router.plan import Step
from router.privacy.redact import StreamRestorer


class _Run:
    """One streaming attempt: restores placeholders, tracks what the caller has seen."""

    def __init__(self, step: Step, prepared: Prepared) -> None:
        self.step = step
        self.prepared = prepared
        self.redaction = prepared.redaction
        self.restorer = (
            self.redaction.stream_restorer(json_string=self.redaction.json_content)
            if self.redaction
            else None
        )
        self.arg_restorers: dict[int, StreamRestorer] = {}  # per tool-call index
        self.t0 = prepared.started
        self.ttft: float | None = None
        self.paused_s = 0.0  # time the caller held the stream between chunks
        self.held_since: float | None = None  # the caller holds a chunk since then
        self.held: list[ChatCompletionChunk] = []
        self.committed = False
        self.text: list[str] = []
        self.calls: dict[int, list[str]] = {}  # tool calls delivered: index -> [id, name, args]
        self.usage: Usage | None = None
        self.finish: str | None = None
        self.last: ChatCompletionChunk | None = None
        self.done = False  # the attempt has been recorded (success or failure)

    def feed(self, chunk: ChatCompletionChunk) -> list[ChatCompletionChunk]:
        """Chunks to hand to the caller now (none before the commit point)."""
        self.last = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
        if not chunk.choices:
            return []  # the usage-only chunk: its usage goes on the router's final chunk
        choice = chunk.choices[0]
        if choice.finish_reason is not None:
            self.finish = choice.finish_reason
        delta = choice.delta
        if self.restorer is not None:
            self._restore(delta, choice.finish_reason is not None)
        has_token = bool(delta.content) or bool(delta.tool_calls)
        if delta.content:
            self.text.append(delta.content)
        for call in delta.tool_calls or ():
            self._collect(call)
        if self.committed:
            return [chunk]
        self.held.append(chunk)
        if has_token or self.finish is not None:
            self.committed = True
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.t0
            out, self.held = self.held, []
            return out
        return []

    def _restore(self, delta: Delta, finished: bool) -> None:
        """Put redacted values back into text and tool-call arguments. Whatever a restorer
        still holds goes out with the finish chunk, never after it."""
        assert self.restorer is not None and self.redaction is not None
        if delta.content:
            delta.content = self.restorer.feed(delta.content)
        for call in delta.tool_calls or ():
            if call.function is not None and call.function.arguments:
                restorer = self.arg_restorers.get(call.index)
                if restorer is None:
                    restorer = self.redaction.stream_restorer(json_string=True)
                    self.arg_restorers[call.index] = restorer
                call.function.arguments = restorer.feed(call.function.arguments)
        if finished:
            rest = self.restorer.flush()
            if rest:
                delta.content = (delta.content or "") + rest
            for index, restorer in self.arg_restorers.items():
                rest = restorer.flush()
                if rest:
                    fn = trusted(DeltaFunction, name=None, arguments=rest)
                    late = trusted(DeltaToolCall, index=index, id=None, type=None, function=fn)
                    delta.tool_calls = [*(delta.tool_calls or ()), late]

    def resume(self) -> None:
        """The caller is back for more (or has closed the stream): the time it held the
        last chunk was its own, not the backend's."""
        if self.held_since is not None:
            self.paused_s += time.perf_counter() - self.held_since
            self.held_since = None

    def _collect(self, call: DeltaToolCall) -> None:
        entry = self.calls.setdefault(call.index, ["", "", ""])
        if call.id:
            entry[0] = call.id
        if call.function is not None:
            entry[1] += call.function.name or ""
            entry[2] += call.function.arguments or ""

    @property
    def delivered(self) -> str:
        """The text the caller has received so far."""
        return "".join(self.text)

    @property
    def output(self) -> str:
        """Everything the backend produced for the caller so far, text and tool calls:
        what a provider bills as output."""
        return billed_output(self.summary())

    def tool_calls(self) -> list[ToolCallOut] | None:
        """The tool calls delivered so far, whole or in part, in index order."""
        if not self.calls:
            return None
        return [
            trusted(
                ToolCallOut,
                id=cid,
                type="function",
                function=trusted(FunctionCallOut, name=name, arguments=args),
            )
            for _, (cid, name, args) in sorted(self.calls.items())
        ]

    def summary(self) -> ChatCompletion:
        """The streamed answer as one completion, for observers: id, model, finish reason,
        the text the caller received, and usage only if the backend sent it."""
        last = self.last
        msg = trusted(
            AssistantOut,
            role="assistant",
            content=self.delivered or None,
            tool_calls=self.tool_calls(),
            refusal=None,
        )
        return trusted(
            ChatCompletion,
            id=last.id if last else "",
            object="chat.completion",
            created=last.created if last else int(time.time()),
            model=last.model if last else self.step.spec.model,
            choices=[trusted(Choice, index=0, message=msg, finish_reason=self.finish)],
            usage=self.usage,
            route=None,
        )

    def check_complete(self) -> None:
        if self.finish is None:
            raise errors.BackendUnavailable(
                "stream ended without a finish reason", backend=self.step.spec.name
            )


class StreamDriver:
    """Runs a streaming request through its plan, sync or async."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.router = call.router
        self.ctx = call.ctx
        self.policy = call.ctx.team.policy
        # A committed run that failed under on_interrupt=restart, with its error: the
        # restart is announced only when another attempt reaches its first token.
        self._cut: tuple[_Run, BaseException] | None = None

    def _on_error(self, run: _Run, exc: BaseException) -> None:
        """Record a failed attempt. Once the caller has tokens, raise
        :class:`~router.errors.StreamInterrupted` (``error``) or keep the cut run for a
        restart (``restart``)."""
        run.done = True
        self._first_chunk(run)
        restart = self.policy.streaming.on_interrupt == "restart"
        final = run.committed and not restart
        self.call.failed(run.step, run.prepared, exc, run.output, final=final)
        if not run.committed:
            return
        if restart:
            self._cut = (run, exc)
            return
        raise self._interrupted(run, exc)

    def _interrupted(self, run: _Run, exc: BaseException) -> errors.StreamInterrupted:
        partial = run.delivered
        calls = tuple(
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in run.tool_calls() or ()
        )
        err = errors.StreamInterrupted(
            f"stream from {run.step.spec.name} failed after {len(run.output)} characters were "
            f"delivered ({type(exc).__name__})",
            backend=run.step.spec.name,
            partial_text=partial,
            cause_type=type(exc).__name__,
            partial_tool_calls=calls,
        )
        err.__suppress_context__ = True  # the cause's message may quote the request
        return err

    def _deliver(self, chunks: list[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
        """``chunks`` for the caller, after a restart chunk if this is the first token of
        an attempt that follows a cut one."""
        if not chunks or self._cut is None:
            return chunks
        cut, self._cut = self._cut[0], None
        name = cut.step.spec.name
        self.ctx.observer.stream_restarted(self.ctx, name)
        assert self.ctx.route is not None
        self.ctx.route.events.append(f"restart after {name} failed mid-stream")
        last = cut.last
        restart = make_chunk(
            last.id if last else "restart", cut.step.spec.model, created=int(time.time())
        )
        restart.event = "restart"
        return [restart, *chunks]

    def _failure(self) -> errors.RouterError:
        """What to raise when the plan is over: a cut that no attempt could restart stays
        an interruption (the caller still holds its partial text); else the plan's error."""
        if self._cut is not None:
            return self._interrupted(*self._cut)
        return self.call.error()

    def _final(self, run: _Run) -> ChatCompletionChunk:
        run.done = True
        run.resume()  # a caller that closes the stream after its last chunk held it till now
        self.call.succeeded(
            run.step,
            run.prepared,
            run.summary(),
            run.usage,
            run.ttft,
            run.output,
            paused_s=run.paused_s,
        )
        last = run.last
        final = make_chunk(
            last.id if last else "final",
            last.model if last else run.step.spec.model,
            usage=run.usage,
            created=last.created if last else None,
        )
        final.route = self.ctx.route
        return final

    def _abandon(self, run: _Run) -> None:
        """The caller stopped reading. An answer already whole (its finish reason
        delivered) succeeded; a partial one is charged for the text delivered."""
        if run.done:
            return
        if run.finish is not None:
            self._final(run)
        else:
            run.done = True
            self._first_chunk(run)
            self.call.abandoned(run.step, run.output)

    def _first_chunk(self, run: _Run) -> None:
        """Report when content first reached the caller, for an attempt that then ended
        without success (a successful one reports it as it succeeds)."""
        if run.ttft is not None:
            self.ctx.observer.first_chunk(self.ctx, run.step.spec, run.prepared.token, run.ttft)

    def sync(self) -> Iterator[ChatCompletionChunk]:
        call = self.call
        with call:
            while (step := call.next()) is not None:
                if step.delay_s:
                    time.sleep(step.delay_s)
                if (p := call.prepare(step)) is None:
                    continue
                run = _Run(step, p)
                stream: Any = None
                try:
                    stream = self.router._backends[step.spec.name].stream(
                        p.request, timeout=step.timeout_s, headers=p.headers
                    )
                    for chunk in stream:
                        for out in self._deliver(run.feed(chunk)):
                            run.held_since = time.perf_counter()
                            yield out
                            run.resume()
                    run.check_complete()
                    final = self._final(run)
                except Exception as exc:
                    if run.done:
                        raise
                    if run.finish is None:
                        self._on_error(run, exc)
                        continue
                    # The answer was whole; only what follows its finish (usage) was lost.
                    final = self._final(run)
                except BaseException:
                    self._abandon(run)
                    raise
                finally:
                    if stream is not None and hasattr(stream, "close"):
                        stream.close()
                yield final
                return
            raise self._failure()

    async def asynchronous(self) -> AsyncIterator[ChatCompletionChunk]:
        call = self.call
        with call:
            while (step := call.next()) is not None:
                if step.delay_s:
                    await asyncio.sleep(step.delay_s)
                if (p := call.prepare(step)) is None:
                    continue
                run = _Run(step, p)
                stream: Any = None
                try:
                    stream = self.router._backends[step.spec.name].astream(
                        p.request, timeout=step.timeout_s, headers=p.headers
                    )
                    chunks = stream.__aiter__()
                    # Backends bound each wait themselves; this bound, a second later, is
                    # the safety net for one that does not (as for achat).
                    patience = step.timeout_s + 1.0
                    while True:
                        try:
                            chunk = await bounded(chunks.__anext__(), patience)
                        except StopAsyncIteration:
                            break
                        for out in self._deliver(run.feed(chunk)):
                            run.held_since = time.perf_counter()
                            yield out
                            run.resume()
                    run.check_complete()
                    final = self._final(run)
                except Exception as exc:
                    if run.done:
                        raise
                    if run.finish is None:
                        self._on_error(run, exc)
                        continue
                    final = self._final(run)
                except BaseException:
                    self._abandon(run)
                    raise
                finally:
                    if stream is not None and hasattr(stream, "aclose"):
                        await stream.aclose()
                yield final
                return
            raise self._failure()


class RoutedStream:
    """What :meth:`Router.stream` returns: an iterator of chunks that always finishes its
    request, even when the caller never reads it (the request was decided eagerly, so its
    errors are raised at call time, as the ``openai`` SDK does)."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._it = StreamDriver(call).sync()
        self._started = False
        self._lock = threading.Lock()
        self._reading = False  # a thread is inside __next__
        self._stopped = False  # close() was called
        self._closing = False  # one thread has claimed closing the generator

    def __iter__(self) -> RoutedStream:
        return self

    def __next__(self) -> ChatCompletionChunk:
        with self._lock:
            if self._stopped:
                raise StopIteration
            self._started = self._reading = True
        try:
            chunk = next(self._it)
        finally:
            with self._lock:
                self._reading = False
                claim = self._stopped and not self._closing  # closed meanwhile: end it here
                self._closing = self._closing or claim
        if claim:
            self._it.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        """End the stream. From another thread than the one reading it (a "stop" button),
        the stream ends at its next chunk, in the reading thread."""
        with self._lock:
            self._stopped = True
            if self._reading or self._closing:
                return  # the reader closes it after its read, or it is being closed
            self._closing = True
            started, self._started = self._started, True
        if not started:
            self._call.__exit__(None, None, None)
        self._it.close()

    def __enter__(self) -> RoutedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._started:
            self.close()


class AsyncRoutedStream:
    """The async twin of :class:`RoutedStream`, returned by :meth:`Router.astream`."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._it = StreamDriver(call).asynchronous()
        self._started = False
        self._reading = False  # a task is inside __anext__
        self._stopped = False  # aclose() was called
        self._closing = False  # the generator is being (or has been) closed

    def __aiter__(self) -> AsyncRoutedStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        if self._stopped:
            raise StopAsyncIteration
        self._started = self._reading = True
        try:
            chunk = await self._it.__anext__()
        finally:
            self._reading = False
        if self._stopped:  # closed by another task meanwhile: end it here
            await self._end()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """End the stream. From another task than the one reading it (a "stop" button),
        the stream ends at its next chunk, in the reading task, which sees a normal end."""
        self._stopped = True
        if not self._reading:
            await self._end()

    async def _end(self) -> None:
        if self._closing:
            return
        self._closing = True
        if not self._started:
            self._started = True
            self._call.__exit__(None, None, None)
        await self._it.aclose()

    async def __aenter__(self) -> AsyncRoutedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not self._started:
            self._started = True
            self._call.__exit__(None, None, None)
