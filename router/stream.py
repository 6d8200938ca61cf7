"""Streaming through the plan, with a commit point at the first token.

Nothing reaches the caller until a backend has produced its first content (text or a tool
call). Until then a failure switches to the next candidate silently. Once a token has been
delivered, the stream is committed: a failure then follows the policy's
``streaming.on_interrupt``: ``error`` raises :class:`~router.errors.StreamInterrupted` with
the partial text, ``restart`` yields a chunk with ``event="restart"`` and starts the answer
over on the next candidate. A backend stream that ends without a finish reason counts as
cut: never a clean end after a cut.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from router import errors
from router.backends.base import make_chunk
from router.completion import (
    AssistantOut,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    Usage,
    trusted,
)
from router.messages import ChatRequest
from router.observe import RequestContext
from router.plan import AttemptPlan, Step

if TYPE_CHECKING:  # pragma: no cover
    from router.core import Router


class _Run:
    """One streaming attempt: restores placeholders, tracks what the caller has seen."""

    def __init__(self, step: Step, redaction: Any, token: Any) -> None:
        self.step = step
        self.token = token
        self.restorer = redaction.stream_restorer() if redaction is not None else None
        self.t0 = time.perf_counter()
        self.ttft: float | None = None
        self.held: list[ChatCompletionChunk] = []
        self.committed = False
        self.text: list[str] = []
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
        if delta.content and self.restorer is not None:
            delta.content = self.restorer.feed(delta.content)
        has_token = bool(delta.content) or bool(delta.tool_calls)
        if delta.content:
            self.text.append(delta.content)
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

    def flushed(self) -> list[ChatCompletionChunk]:
        if self.restorer is None or self.last is None:
            return []
        rest = self.restorer.flush()
        if not rest:
            return []
        self.text.append(rest)
        return [make_chunk(self.last.id, self.last.model, rest, created=self.last.created)]

    def summary(self) -> ChatCompletion:
        """The streamed answer as one completion, for observers: id, model, finish reason,
        the text the caller received, and usage only if the backend sent it."""
        last = self.last
        msg = trusted(
            AssistantOut,
            role="assistant",
            content="".join(self.text) or None,
            tool_calls=None,
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

    def __init__(
        self, router: Router, ctx: RequestContext, request: ChatRequest, plan: AttemptPlan
    ) -> None:
        self.router = router
        self.ctx = ctx
        self.request = request
        self.plan = plan
        self.policy = ctx.team.policy

    def _begin(self, step: Step) -> tuple[ChatRequest, _Run]:
        outgoing, redaction = self.router._prepare(self.ctx, step, self.request)
        token = self.router._attempt_started(self.ctx, step)
        return outgoing, _Run(step, redaction, token)

    def _on_error(self, run: _Run, exc: BaseException) -> ChatCompletionChunk | None:
        """Record a failed attempt; return a restart chunk, or raise when committed."""
        r, step = self.router, run.step
        exc = _typed(exc, step)
        r._failed(self.ctx, self.plan, step, run.token, exc, run.t0)
        if not run.committed:
            return None
        partial = "".join(run.text)
        if self.policy.streaming.on_interrupt == "restart" and self._has_next():
            r.observer.stream_restarted(self.ctx, step.spec.name)
            assert self.ctx.route is not None
            self.ctx.route.events.append(f"restart after {step.spec.name} failed mid-stream")
            last = run.last
            chunk = make_chunk(
                last.id if last else "restart", step.spec.model, created=int(time.time())
            )
            chunk.event = "restart"
            return chunk
        raise errors.StreamInterrupted(
            f"stream from {step.spec.name} failed after {len(partial)} characters were "
            f"delivered ({type(exc).__name__})",
            backend=step.spec.name,
            partial_text=partial,
            cause_type=type(exc).__name__,
        ) from exc

    def _has_next(self) -> bool:
        return self.plan.has_retry or bool(self.plan._pending)

    def _final(self, run: _Run) -> ChatCompletionChunk:
        r, step = self.router, run.step
        run.done = True
        duration = time.perf_counter() - run.t0
        self.plan.succeeded(step, duration)
        route = self.ctx.route
        assert route is not None
        route.backend, route.tier, route.zone = step.spec.name, step.spec.tier, step.spec.zone
        route.attempts = self.plan.attempts
        route.cost_usd = r._cost(step.spec, run.usage)
        r._settle(self.ctx, route.cost_usd or 0.0)
        out_tokens = run.usage.completion_tokens if run.usage else 0
        r.health.record_success(step.spec.name, duration, run.ttft, out_tokens)
        if run.ttft is not None:
            r.observer.first_chunk(self.ctx, step.spec, run.token, run.ttft)
        r.observer.attempt_finished(
            self.ctx, step.spec, run.token, self.plan.attempts[-1], run.summary(), None
        )
        r._remember_tier(self.ctx, step.spec.tier)
        last = run.last
        final = make_chunk(
            last.id if last else "final",
            last.model if last else step.spec.model,
            usage=run.usage,
            created=last.created if last else None,
        )
        final.route = route
        return final

    def _abandon(self, run: _Run) -> None:
        if not run.done:
            run.done = True
            self.router._abandoned(self.ctx, run.step)

    def _error(self) -> errors.RouterError:
        return self.plan.error(self.ctx.decision.excluded if self.ctx.decision else ())

    def sync(self) -> Iterator[ChatCompletionChunk]:
        error: BaseException | None = None
        try:
            while (step := self.plan.next_step(time.monotonic())) is not None:
                if step.delay_s:
                    time.sleep(step.delay_s)
                try:
                    outgoing, run = self._begin(step)
                except (errors.PrivacyGuardTripped, errors.BudgetExceeded) as exc:
                    self.router._refused(self.ctx, self.plan, step, exc)
                    continue
                stream: Any = None
                try:
                    stream = self.router._backends[step.spec.name].stream(
                        outgoing,
                        timeout=step.timeout_s,
                        headers=self.router.observer.headers(run.token),
                    )
                    for chunk in stream:
                        yield from run.feed(chunk)
                    run.check_complete()
                    yield from run.held
                    yield from run.flushed()
                    final = self._final(run)
                except Exception as exc:
                    if run.done:
                        raise
                    run.done = True
                    restart = self._on_error(run, exc)
                    if restart is not None:
                        yield restart
                    continue
                except BaseException:
                    self._abandon(run)
                    raise
                finally:
                    if stream is not None and hasattr(stream, "close"):
                        stream.close()
                yield final
                return
            raise self._error()
        except BaseException as exc:
            error = exc if not isinstance(exc, GeneratorExit) else None
            raise
        finally:
            self.router._finish(self.ctx, error)

    async def asynchronous(self) -> AsyncIterator[ChatCompletionChunk]:
        error: BaseException | None = None
        try:
            while (step := self.plan.next_step(time.monotonic())) is not None:
                if step.delay_s:
                    await asyncio.sleep(step.delay_s)
                try:
                    outgoing, run = self._begin(step)
                except (errors.PrivacyGuardTripped, errors.BudgetExceeded) as exc:
                    self.router._refused(self.ctx, self.plan, step, exc)
                    continue
                stream: Any = None
                try:
                    stream = self.router._backends[step.spec.name].astream(
                        outgoing,
                        timeout=step.timeout_s,
                        headers=self.router.observer.headers(run.token),
                    )
                    async for chunk in stream:
                        for out in run.feed(chunk):
                            yield out
                    run.check_complete()
                    for out in [*run.held, *run.flushed()]:
                        yield out
                    final = self._final(run)
                except Exception as exc:
                    if run.done:
                        raise
                    run.done = True
                    restart = self._on_error(run, exc)
                    if restart is not None:
                        yield restart
                    continue
                except BaseException:
                    self._abandon(run)
                    raise
                finally:
                    if stream is not None and hasattr(stream, "aclose"):
                        await stream.aclose()
                yield final
                return
            raise self._error()
        except BaseException as exc:
            error = exc if not isinstance(exc, GeneratorExit) else None
            raise
        finally:
            self.router._finish(self.ctx, error)


class RoutedStream:
    """What :meth:`Router.stream` returns: an iterator of chunks that always finishes its
    request, even when the caller never reads it (the request was decided eagerly, so its
    errors are raised at call time, as the ``openai`` SDK does)."""

    def __init__(self, driver: StreamDriver) -> None:
        self._driver = driver
        self._it = driver.sync()
        self._started = False

    def __iter__(self) -> RoutedStream:
        return self

    def __next__(self) -> ChatCompletionChunk:
        self._started = True
        return next(self._it)

    def close(self) -> None:
        if not self._started:
            self._started = True
            self._driver.router._finish(self._driver.ctx, None)
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

    def __init__(self, driver: StreamDriver) -> None:
        self._driver = driver
        self._it = driver.asynchronous()
        self._started = False

    def __aiter__(self) -> AsyncRoutedStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        self._started = True
        return await self._it.__anext__()

    async def aclose(self) -> None:
        if not self._started:
            self._started = True
            self._driver.router._finish(self._driver.ctx, None)
        await self._it.aclose()

    async def __aenter__(self) -> AsyncRoutedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not self._started:
            self._started = True
            self._driver.router._finish(self._driver.ctx, None)


def _typed(exc: BaseException, step: Step) -> BaseException:
    from router.core import _typed as typed

    return typed(exc, step)
