"""One routed request on its way through its plan: what the sync, async and streaming
drivers share, so that each driver is only its loop and its way of calling a backend.

A driver asks :meth:`Call.next` for a step, waits ``step.delay_s`` its own way, asks
:meth:`Call.prepare` for what to send (``None`` when nothing may be sent to that backend),
calls the backend, and reports back with :meth:`Call.failed`, :meth:`Call.abandoned` or
:meth:`Call.succeeded`. When :meth:`Call.next` has nothing left, :meth:`Call.error` is the
typed error to raise. Used as a context manager, a call always tells the observers how
the request ended.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router import errors
from router.classify.classifier import estimate_tokens
from router.completion import ChatCompletion, Usage
from router.config import BackendSpec
from router.messages import ChatRequest
from router.observe import SENT_MAX_TOKENS, RequestContext
from router.plan import AttemptPlan, Step
from router.privacy.guard import outgoing_request

if TYPE_CHECKING:  # pragma: no cover
    from router.core import Router


@dataclass(slots=True)
class Prepared:
    """What one attempt sends, how to undo its redaction, and its observer token."""

    request: ChatRequest
    redaction: Any
    token: Any
    headers: dict[str, str] | None
    started: float


class Call:
    """The shared state and bookkeeping of one routed request."""

    def __init__(
        self, router: Router, ctx: RequestContext, request: ChatRequest, plan: AttemptPlan
    ) -> None:
        self.router = router
        self.ctx = ctx
        self.request = request
        self.plan = plan
        self._reservation: Any = None
        self._admission: str | None = None  # the breaker's grant for the attempt in flight
        self._spent_on_failures = 0.0  # cut streams: billed by the provider, charged here
        # budget_degraded reported for this request (by the decision, in Router._start)
        self._degraded = ctx.decision is not None and ctx.decision.budget_degraded is not None
        self._pending_retry: tuple[str, BaseException] | None = None  # scheduled, not made

    def __enter__(self) -> Call:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, GeneratorExit):
            exc = None  # the caller stopped reading a stream: not a failure
        self.ctx.observer.request_finished(self.ctx, exc)

    def next(self) -> Step | None:
        """The next step of the plan. A retry is announced here, when it is made; one the
        plan dropped (the re-check refused it, it would wait past the deadline) is
        announced as the move to the next backend instead. Once the router is closed, no
        further attempt is made: the caller gets :class:`~router.errors.RouterClosed`, not
        retries and fallbacks on backends that are closed."""
        if self.router._closed:
            self.plan.stop(errors.RouterClosed("the router was closed during this request"))
        step = self.plan.next_step(time.monotonic())
        pending, self._pending_retry = self._pending_retry, None
        if pending is not None and step is not None:
            backend, exc = pending
            ctx = self.ctx
            if step.retry > 0 and step.spec.name == backend:
                ctx.observer.retry_scheduled(ctx, step.spec, step.delay_s, exc)
            else:
                ctx.observer.fallback(ctx, backend, step.spec.name, type(exc).__name__)
        return step

    def prepare(self, step: Step) -> Prepared | None:
        """Everything that must hold just before a request leaves for ``step``'s backend.

        Reserves the worst-case cost against the team budgets and asks the privacy guard
        for the request this backend may see (redacted for remote zones). When either
        refuses, nothing is sent: the refusal is recorded and ``None`` returned (a budget
        refusal under policy ``reject`` raises :class:`~router.errors.BudgetExceeded`).
        """
        t0 = time.perf_counter()
        try:
            return self._prepare(step)
        finally:
            self._overhead(t0)

    def _overhead(self, t0: float) -> None:
        route = self.ctx.route
        if route is not None:
            route.overhead_ms += (time.perf_counter() - t0) * 1000.0

    def _prepare(self, step: Step) -> Prepared | None:
        r, ctx, name = self.router, self.ctx, step.spec.name
        self._admission = r.health.admit(name)
        if not self._admission:  # the circuit opened, or another request is the probe
            self.plan.skip(step, r.health.breakers[name].blocked_reason() or "circuit open")
            return None
        tp = ctx.team
        estimate = step.candidate.estimated_cost_usd
        reservation = None
        try:
            reservation = r.budget.reserve(tp, estimate)
            if reservation is None:
                spent = r.budget.exhausted(tp)
                period, limit, left = r.budget.shortfall(tp, estimate) or (spent or "daily", 0, 0)
                why = (
                    f"team {tp.team} {spent} budget is spent"
                    if spent
                    else f"team {tp.team} {period} budget cannot cover this call: estimated "
                    f"${estimate:.6f}, ${left:.6f} of ${limit:g} left"
                )
                if tp.policy.cost.on_budget_exhausted == "reject":
                    raise errors.BudgetExceeded(
                        f"{why} (policy: reject)", team=tp.team, period=spent or period
                    )
                self.degraded(spent or period)
                refusal = errors.BudgetExceeded(why, team=tp.team, period=spent or period)
                self._refused(step, refusal, None)
                return None
            outgoing, redaction = outgoing_request(ctx, step, self.request, ctx.observer)
            capped = outgoing.max_tokens is None and estimate > 0 and _spend_bounded(tp)
            if capped:
                # The reservation priced the policy's output allowance: send it as the cap,
                # or an answer longer than the allowance would overspend the budget.
                cap = tp.policy.cost.assumed_output_tokens
                outgoing = outgoing.model_copy(update={"max_tokens": cap})
            ctx.extra[SENT_MAX_TOKENS] = outgoing.max_tokens  # what this attempt sends
        except errors.PrivacyGuardTripped as exc:
            self._refused(step, exc, reservation)
            return None
        except BaseException:
            self._give_back(step, reservation)  # nothing was sent; let the error out
            raise
        self._reservation = reservation
        r.health.started(name)
        token = ctx.observer.attempt_started(ctx, step.spec, step.retry)
        return Prepared(
            outgoing, redaction, token, ctx.observer.headers(token), time.perf_counter()
        )

    def degraded(self, period: str) -> None:
        """Report that the budget degraded this request, once however often it does."""
        if not self._degraded:
            self._degraded = True
            self.ctx.observer.budget_degraded(self.ctx, period)

    def _refused(self, step: Step, exc: BaseException, reservation: Any) -> None:
        """Nothing was sent to ``step``'s backend (the budget or the privacy guard said
        no): recorded as a failed attempt, and announced as a fallback when one follows."""
        self._give_back(step, reservation)
        nxt = self.plan.failed(step, exc, 0.0, sent=False)
        if nxt != "stop" and self.plan.next_backend is not None:
            name = type(exc).__name__
            self.ctx.observer.fallback(self.ctx, step.spec.name, self.plan.next_backend, name)

    def _give_back(self, step: Step, reservation: Any) -> None:
        """What an attempt that sent nothing held: its budget reservation, its breaker slot."""
        if reservation is not None:
            self.router.budget.settle(reservation, 0.0)
        self.router.health.release(step.spec.name, self._admission)

    def failed(
        self,
        step: Step,
        prepared: Prepared,
        exc: BaseException,
        delivered: str = "",
        *,
        final: bool = False,
    ) -> str:
        """Record a failed attempt (``exc`` of any type); returns what the plan does next.

        ``delivered`` is the text a cut stream had already produced: a provider bills it,
        so its cost (the prompt plus those tokens, estimated) is charged to the budget. An
        attempt that timed out was sent, and its provider may have processed it all the
        same: it is charged at least its prompt.
        ``final``: the caller will raise now whatever the plan says (a committed stream
        under ``on_interrupt: error``), so no retry or fallback is announced.
        """
        r, ctx = self.router, self.ctx
        exc = typed(exc, step.spec)
        t0 = time.perf_counter()
        duration = t0 - prepared.started
        spent = self._delivered_cost(
            step, delivered, answered=isinstance(exc, errors.BackendTimeout)
        )
        self._spent_on_failures += spent
        self._settle(spent)
        nxt = self.plan.failed(step, exc, duration)
        r.health.record_failure(step.spec.name, exc, self._admission)
        ctx.observer.attempt_finished(
            ctx, step.spec, prepared.token, self.plan.attempts[-1], None, exc
        )
        if not final:
            if nxt == "retry" and self.plan.has_retry:
                self._pending_retry = (step.spec.name, exc)  # announced when it is made
            elif nxt != "stop" and self.plan.next_backend is not None:
                name = type(exc).__name__
                ctx.observer.fallback(ctx, step.spec.name, self.plan.next_backend, name)
        self._overhead(t0)
        return nxt

    def abandoned(self, step: Step, delivered: str = "") -> None:
        """The caller went away mid-attempt (a cancelled task, a closed stream): give back
        the breaker slot and the in-flight count, and charge what the provider bills: the
        prompt (the request was sent) plus the text already ``delivered``, estimated."""
        self.router.health.abandoned(step.spec.name, self._admission)
        self._settle(self._delivered_cost(step, delivered, answered=True))

    def _delivered_cost(self, step: Step, delivered: str, *, answered: bool = False) -> float:
        """The prompt plus the ``delivered`` output, estimated: nothing for an attempt that
        produced nothing, unless it ``answered`` (a whole answer with no text still cost
        its prompt)."""
        c = self.ctx.classification
        if (not delivered and not answered) or c is None:
            return 0.0
        return step.spec.price.cost(c.tokens, estimate_tokens(delivered))

    def succeeded(
        self,
        step: Step,
        prepared: Prepared,
        response: ChatCompletion | None,
        usage: Usage | None,
        ttft_s: float | None = None,
        delivered: str = "",
        *,
        paused_s: float = 0.0,
    ) -> None:
        """Record the attempt that answered, its cost, and the route it ends with. A stream
        whose backend reported no ``usage`` is charged to the budget an estimate of the
        prompt and the ``delivered`` text; its route cost stays ``None``. ``paused_s`` is
        the time a streaming caller spent between chunks: the backend's latency, which the
        router learns from, leaves it out."""
        r, ctx, spec = self.router, self.ctx, step.spec
        t0 = time.perf_counter()
        duration = t0 - prepared.started
        self.plan.succeeded(step, duration)
        route = ctx.route
        assert route is not None
        route.backend, route.tier, route.zone = spec.name, spec.tier, spec.zone
        route.attempts = self.plan.attempts
        if self.plan.skipped:
            route.skipped = self.plan.skipped_candidates()
        cost = _cost(spec, usage)
        # No usage reported: the budget is still charged an estimate, but the route's cost
        # (and telemetry's cost.actual_usd) stays empty rather than pass an estimate off
        # as a measured figure.
        if cost is None:
            self._settle(self._delivered_cost(step, delivered, answered=True))
        else:
            self._settle(cost)
        if self._spent_on_failures:
            cost = (cost or 0.0) + self._spent_on_failures
        route.cost_usd = cost
        r.health.record_success(
            spec.name,
            duration - paused_s,
            ttft_s,
            usage.completion_tokens if usage else 0,
            self._admission,
        )
        if ttft_s is not None:
            ctx.observer.first_chunk(ctx, spec, prepared.token, ttft_s)
        ctx.observer.attempt_finished(
            ctx, spec, prepared.token, self.plan.attempts[-1], response, None
        )
        r.remember_tier(ctx, spec.tier)
        self._overhead(t0)

    def completion(self, step: Step, prepared: Prepared, response: ChatCompletion):
        """:meth:`succeeded` for a whole (non-streamed) answer; returns it with its route."""
        if prepared.redaction is not None:
            response = prepared.redaction.completion(response)
        delivered = "" if response.usage is not None else billed_output(response)
        self.succeeded(step, prepared, response, response.usage, delivered=delivered)
        response.route = self.ctx.route
        return response

    def error(self) -> errors.RouterError:
        decision = self.ctx.decision
        return self.plan.error(decision.excluded if decision is not None else ())

    def _settle(self, actual: float) -> None:
        reservation, self._reservation = self._reservation, None
        if reservation is not None:
            self.router.budget.settle(reservation, actual)


def _spend_bounded(tp: Any) -> bool:
    """Whether the team has a budget, which reservations must not let calls overrun."""
    cost = tp.policy.cost
    return cost.daily_budget_usd is not None or cost.monthly_budget_usd is not None


def billed_output(response: ChatCompletion) -> str:
    """What a provider bills as output: the answer's text and its tool calls."""
    out = []
    for choice in response.choices:
        out.append(choice.message.content or "")
        for call in choice.message.tool_calls or ():
            out.append(call.function.name + call.function.arguments)
    return "".join(out)


def _cost(spec: BackendSpec, usage: Usage | None) -> float | None:
    if usage is None:
        return None
    return spec.price.cost(usage.prompt_tokens, usage.completion_tokens)


def typed(exc: BaseException, spec: BackendSpec) -> BaseException:
    """Backends translate their errors; anything that slipped through becomes a
    :class:`~router.errors.ServerError` (a :class:`~router.errors.BackendTimeout` for a
    timeout) so the plan can still decide on a type."""
    if isinstance(exc, errors.RouterError):
        return exc
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError is TimeoutError on 3.11+
        return errors.BackendTimeout("timed out", backend=spec.name)
    if isinstance(exc, asyncio.TimeoutError):
        return errors.BackendTimeout("timed out", backend=spec.name)
    wrapped = errors.ServerError(f"unexpected {type(exc).__name__} in backend", backend=spec.name)
    return errors.translated(wrapped, exc)


async def bounded(awaitable: Any, seconds: float) -> Any:
    """``await awaitable``, cancelled after ``seconds``. ``asyncio.timeout`` (3.11+) costs a
    timer; ``wait_for`` also wraps the call in a task, which shows at thousands of calls
    per second."""
    if hasattr(asyncio, "timeout"):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)
