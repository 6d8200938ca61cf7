"""The :class:`Router`: classify, decide, send, fall back, and say why.

Where things happen, in order, for every request::

    parse_request   router.messages      validate the OpenAI-format request
    classify        router.classify      personal data, task, complexity, size
    decide          router.decision      pure: policy + classification + states -> ranking
    plan            router.plan          pure: retries, fallbacks, re-checks on every hop
    send            router.backends      the backend call (sync, async or streaming)
    observe         router.observe       hooks for telemetry (router.telemetry)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from router import errors
from router.attempts import Call, bounded
from router.backends.base import Backend
from router.checks import unknown_backends
from router.classify.classifier import Classifier, check_labels
from router.classify.complexity import ComplexityScorer, default_scorer
from router.classify.types import Classification
from router.completion import ChatCompletion
from router.config import BackendSpec, RouterConfig, load_config, policies_dir
from router.conversations import ConversationTiers
from router.decision import BackendState, Decision, decide, estimate_cost, exclusions
from router.explanation import Explanation
from router.messages import MessagesInput, parse_request
from router.observe import SILENT, Observer, RequestContext, build_observer, safe
from router.plan import AttemptPlan
from router.policy.calibrate import calibrate_policies
from router.policy.load import PolicySet, TeamPolicy
from router.resilience.budget import Budgets, BudgetStore, spent_period
from router.resilience.health import HealthBook
from router.resilience.latency import prior_from_metadata
from router.route import RouteRecord
from router.stream import AsyncRoutedStream, RoutedStream


class Router:
    """Routes chat requests across backends according to each team's policy.

    >>> from router import FakeBackend, Router
    >>> r = Router([FakeBackend("local", reply="Hi!")])
    >>> r.chat("Hello").choices[0].message.content
    'Hi!'
    """

    def __init__(
        self,
        backends: Sequence[Backend],
        policies: PolicySet | Sequence[TeamPolicy] | None = None,
        *,
        scorer: ComplexityScorer | None = None,
        default_team: str = "default",
        observer: Observer | None = None,
        health: HealthBook | None = None,
        budget_store: BudgetStore | None = None,
        telemetry: bool = True,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
    ) -> None:
        _check_arguments(backends, policies, scorer, observer, health, budget_store)
        if not backends:
            raise errors.ConfigError("a router needs at least one backend")
        names = [b.spec.name for b in backends]
        if len(set(names)) != len(names):
            raise errors.ConfigError(f"backend names must be unique: {names}")
        self._backends: dict[str, Backend] = {b.spec.name: b for b in backends}
        self._specs: tuple[BackendSpec, ...] = tuple(b.spec for b in backends)
        self._spec_by_name = {s.name: s for s in self._specs}
        self.classifier = Classifier(scorer if scorer is not None else default_scorer())
        if policies is None:
            policies = PolicySet(())
        elif not isinstance(policies, PolicySet):
            policies = PolicySet(policies)
        self.policies = calibrate_policies(policies, self.classifier.scorer)
        self.default_team = default_team
        if not isinstance(default_team, str) or default_team not in self.policies:
            known = ", ".join(sorted(self.policies))  # fail now, not on the first request
            raise errors.ConfigError(
                f"default_team {default_team!r} has no policy (known: {known})"
            )
        where = "this router does not have"
        problems = [p for tp in self.policies.values() for p in unknown_backends(tp, names, where)]
        if problems:
            raise errors.ConfigError("; ".join(problems))
        self.observer = safe(
            build_observer(
                observer,
                telemetry,
                tracer_provider,
                meter_provider,
                capture_content,
                self._backends,
            )
        )
        self.health = health if health is not None else HealthBook(self._specs)
        self.health.observer = self.observer
        self.health.watch_queues(self._backends)
        for b in backends:
            if b.spec.expected_latency_ms is None:
                self.health.set_prior(b.spec.name, prior_from_metadata(b.metadata()))
        self.budget = Budgets(budget_store)
        self._conversations = ConversationTiers()
        self._described: dict[str, dict[str, Any]] = {}
        self._closed = False

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_config(cls, path: str | Path, *, dry_run: bool = False, **kwargs: Any) -> Router:
        """Build a router from a configuration file (backends) and its policy directory.

        With ``dry_run=True`` backends are stand-ins that are never called: decisions and
        ``explain`` work, nothing is loaded or contacted.
        """
        from router.backends.registry import build_backend
        from router.backends.standin import StandIn

        config = load_config(path)
        directory = policies_dir(config, path)
        policies = PolicySet.from_directory(directory) if directory else PolicySet(())
        build = StandIn.from_spec if dry_run else build_backend
        kwargs.setdefault("capture_content", config.telemetry.capture_content)
        return cls.from_config_object(config, policies, build=build, **kwargs)

    @classmethod
    def from_config_object(
        cls, config: RouterConfig, policies: PolicySet, *, build: Any = None, **kwargs: Any
    ) -> Router:
        """A router from an already validated configuration and policy set."""
        if build is None:
            from router.backends.registry import build_backend as build
        built: list[Backend] = []
        try:
            for i, spec in enumerate(config.backends):
                try:
                    built.append(build(spec))
                except errors.ConfigError as exc:  # say which backend of the file
                    raise errors.ConfigError(
                        f"backends[{i}] ({spec.name}): {exc.message}",
                        file=exc.file,
                        line=exc.line,
                        hint=exc.hint,
                    ) from None
        except BaseException:
            for b in built:
                b.close()
            raise
        kwargs.setdefault("default_team", config.default_team)
        try:
            return cls(built, policies, **kwargs)
        except BaseException:
            for b in built:  # e.g. a policy names a backend the configuration lacks
                b.close()
            raise

    @classmethod
    def default(cls, **kwargs: Any) -> Router:
        """The embedded default: the small SmolLM2 model in-process, plus whatever larger
        tiers the environment configures. See :mod:`router.defaults`."""
        from router.defaults import default_router

        return default_router(**kwargs)

    # --- public API -----------------------------------------------------------------

    @property
    def backends(self) -> Mapping[str, Backend]:
        """The backends by name (a copy)."""
        return dict(self._backends)

    def classify(
        self, messages: MessagesInput, *, labels: Mapping[str, str] | None = None, **params: Any
    ) -> Classification:
        """Classify a request without deciding or sending anything."""
        request = parse_request(messages, **params)
        return self.classifier.classify(request, check_labels(labels))

    def explain(
        self,
        messages: MessagesInput,
        *,
        team: str | None = None,
        labels: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        remember: bool = False,
        **params: Any,
    ) -> Explanation:
        """The decision the router would make now, with reasons. No model is called, and
        an empty ranking is returned rather than raised.

        With ``remember=True`` and a ``conversation_id``, the conversation's tier is noted
        as if the first-ranked backend had answered, so replaying a recorded conversation
        turn by turn (``explain --batch``) sees the stickiness ``chat`` would apply.
        """
        request = parse_request(messages, **params)
        tp = self._team(team)
        _check_conversation(conversation_id)
        c = self.classifier.classify(request, check_labels(labels))
        decision = self._decide(c, tp, conversation_id)
        if remember and conversation_id and decision.ranked:
            self._remember(tp, conversation_id, decision, decision.ranked[0].tier)
        facts = {name: b.metadata() for name, b in self._backends.items()}
        return Explanation(decision, c, tp.describe(), facts)

    def chat(
        self,
        messages: MessagesInput,
        *,
        team: str | None = None,
        labels: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        **params: Any,
    ) -> ChatCompletion:
        """Route one chat request and return the completion with its ``route`` record.

        Raises :class:`~router.errors.InvalidRequest`, :class:`~router.errors.UnknownTeam`,
        :class:`~router.errors.NoRouteAvailable`, :class:`~router.errors.BudgetExceeded`,
        :class:`~router.errors.AllAttemptsFailed`, :class:`~router.errors.DeadlineExceeded`
        or a backend's :class:`~router.errors.ContentRefused`.
        """
        if params.get("stream"):
            raise errors.InvalidRequest("use Router.stream() for streaming", field="stream")
        with self._start(messages, team, labels, conversation_id, params, False) as call:
            while (step := call.next()) is not None:
                if step.delay_s:
                    time.sleep(step.delay_s)
                if (p := call.prepare(step)) is None:
                    continue
                try:
                    response = self._backends[step.spec.name].chat(
                        p.request, timeout=step.timeout_s, headers=p.headers
                    )
                except Exception as exc:
                    call.failed(step, p, exc)
                    continue
                except BaseException:
                    call.abandoned(step)
                    raise
                return call.completion(step, p, response)
            raise call.error()

    async def achat(
        self,
        messages: MessagesInput,
        *,
        team: str | None = None,
        labels: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        **params: Any,
    ) -> ChatCompletion:
        """The async twin of :meth:`chat`; the same decision and plan drive both."""
        if params.get("stream"):
            raise errors.InvalidRequest("use Router.astream() for streaming", field="stream")
        args = (messages, team, labels, conversation_id, params, False)
        if _rough_size(messages) > OFF_LOOP_CHARS:  # classifying it would stall the loop
            call = await self._start_off_loop(args)
        else:
            call = self._start(*args)
        with call:
            while (step := call.next()) is not None:
                if step.delay_s:
                    await asyncio.sleep(step.delay_s)
                if (p := call.prepare(step)) is None:
                    continue
                try:
                    # Backends enforce the timeout themselves; this bound, a second
                    # later, is the safety net for one that does not.
                    response = await bounded(
                        self._backends[step.spec.name].achat(
                            p.request, timeout=step.timeout_s, headers=p.headers
                        ),
                        step.timeout_s + 1.0,
                    )
                except Exception as exc:
                    call.failed(step, p, exc)
                    continue
                except BaseException:
                    call.abandoned(step)
                    raise
                return call.completion(step, p, response)
            raise call.error()

    def stream(
        self,
        messages: MessagesInput,
        *,
        team: str | None = None,
        labels: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        **params: Any,
    ) -> RoutedStream:
        """Route a request and stream the answer as OpenAI-shaped chunks.

        Before the first token, a failure moves silently to the plan's next attempt (a
        retry, or the next candidate). After it, the policy's ``streaming.on_interrupt``
        decides: ``error`` raises :class:`~router.errors.StreamInterrupted` carrying the
        partial text; ``restart`` starts over on the next attempt and yields a chunk with
        ``event="restart"`` when that attempt's first token arrives. The last chunk
        carries ``usage`` and the ``route`` record.
        """
        params["stream"] = True
        return RoutedStream(self._start(messages, team, labels, conversation_id, params, True))

    def astream(
        self,
        messages: MessagesInput,
        *,
        team: str | None = None,
        labels: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        **params: Any,
    ) -> AsyncRoutedStream:
        """The async twin of :meth:`stream`."""
        params["stream"] = True
        return AsyncRoutedStream(self._start(messages, team, labels, conversation_id, params, True))

    def close(self) -> None:
        """Close every backend (each one, even when closing another fails). Later calls
        raise :class:`~router.errors.RouterClosed`; so does a request in flight, when its
        current attempt ends, instead of retrying or falling back on closed backends."""
        self._closed = True
        _close_all([b.close for b in self._backends.values()])

    async def aclose(self) -> None:
        """The async twin of :meth:`close`."""
        self._closed = True
        failure: BaseException | None = None
        for b in self._backends.values():
            try:
                await b.aclose()
            except Exception as exc:  # close the others, then report the first failure
                failure = failure or exc
        if failure is not None:
            raise failure

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- internals shared by chat, achat and stream -----------------------------------

    def _states(self, output_tokens: int | None = None) -> dict[str, BackendState]:
        return self.health.states(self._backends, output_tokens)

    def _decide(self, c: Classification, tp: TeamPolicy, conversation_id: str | None) -> Decision:
        previous = self._conversations.tier(tp.team, conversation_id) if conversation_id else None
        left = self.budget.left(tp)  # one read of the store serves both arguments
        exhausted = spent_period(left)
        states = self._states(c.max_output_tokens or tp.policy.cost.assumed_output_tokens)
        return decide(
            c,
            tp,
            self._specs,
            states,
            previous_tier=previous,
            budget_exhausted=exhausted,
            budget_left=left if exhausted is None else None,
        )

    def _start(
        self,
        messages: MessagesInput,
        team: str | None,
        labels: Mapping[str, str] | None,
        conversation_id: str | None,
        params: dict[str, Any],
        stream: bool,
    ) -> Call:
        """Validate, classify and decide; the returned :class:`Call` runs the attempts."""
        if self._closed:
            raise errors.RouterClosed("this router is closed; build a new one")
        started = time.perf_counter()
        request = parse_request(messages, **params)
        tp = self._team(team)
        _check_conversation(conversation_id)
        checked_labels = check_labels(labels)  # refused, like the request, before any span
        ctx = RequestContext(
            team=tp, stream=stream, started=started, request=request, params=params
        )
        ctx.extra["conversation_id"] = conversation_id
        wanted = self.observer.request_started(ctx) is not False
        ctx.observer = self.observer if wanted else SILENT
        try:
            c = self.classifier.classify(request, checked_labels)
            ctx.classification = c
            decision = self._decide(c, tp, conversation_id)
            ctx.decision = decision
            ctx.route = RouteRecord.from_decision(decision, c, self._describe(tp))
            ctx.observer.decided(ctx, time.perf_counter() - started)
            if decision.budget_degraded:  # priced backends were left out for the budget
                ctx.observer.budget_degraded(ctx, decision.budget_degraded)
            if not decision.ranked:
                self._raise_no_route(decision, tp)
        except BaseException as exc:
            ctx.observer.request_finished(ctx, exc)
            raise
        plan = AttemptPlan(
            decision, tp.policy, self._spec_by_name, self._rechecker(ctx), time.monotonic()
        )
        ctx.route.overhead_ms = (time.perf_counter() - started) * 1000.0
        return Call(self, ctx, request, plan)

    async def _start_off_loop(self, args: tuple[Any, ...]) -> Call:
        """:meth:`_start` in a worker thread. A caller cancelled meanwhile does not leave
        the request unfinished: the call is ended (observers told) when the thread is done."""
        lock = threading.Lock()
        state: dict[str, Any] = {"gone": False, "call": None}

        def work() -> Call:
            call = self._start(*args)
            with lock:
                gone, state["call"] = state["gone"], call
            if gone:  # the caller was cancelled meanwhile: nobody will end it but us
                _end_cancelled(call)
            return call

        try:
            return await asyncio.to_thread(work)
        except asyncio.CancelledError:
            with lock:
                state["gone"] = True
                call = state["call"]
            if call is not None:  # made, but not handed over
                _end_cancelled(call)
            raise

    def _raise_no_route(self, decision: Decision, tp: TeamPolicy) -> None:
        exhausted = self.budget.exhausted(tp)
        if exhausted and tp.policy.cost.on_budget_exhausted == "reject":
            raise errors.BudgetExceeded(
                f"team {tp.team} {exhausted} budget is spent (policy: reject)",
                team=tp.team,
                period=exhausted,
            )
        raise errors.NoRouteAvailable(
            f"no backend may serve this request under policy {tp.team}", decision.excluded
        )

    def _rechecker(self, ctx: RequestContext):
        """The re-check run before every attempt: the same rules as the decision, with the
        health and budget as they are at that moment."""
        tp, c = ctx.team, ctx.classification
        verdict = ctx.decision.privacy  # type: ignore[union-attr]

        output = c.max_output_tokens or tp.policy.cost.assumed_output_tokens  # type: ignore[union-attr]

        def recheck(spec: BackendSpec) -> list[str]:
            state = self.health.state(spec.name, self._backends[spec.name], output)
            left = self.budget.left(tp)
            exhausted = spent_period(left)
            left = left if exhausted is None else None
            cost = estimate_cost(spec, c, tp)  # type: ignore[arg-type]
            return exclusions(spec, c, tp, verdict, state, cost, exhausted, left)  # type: ignore[arg-type]

        return recheck

    def _team(self, team: str | None) -> TeamPolicy:
        if team is not None and not isinstance(team, str):
            raise errors.InvalidRequest("team must be a string", field="team")
        return self.policies[team or self.default_team]

    def _describe(self, tp: TeamPolicy) -> dict[str, Any]:
        """The policy's name, version and hash (cached: a TeamPolicy never changes)."""
        described = self._described.get(tp.team)
        if described is None or described["sha256"] != tp.sha256:
            described = self._described[tp.team] = tp.describe()
        return described

    def remember_tier(self, ctx: RequestContext, tier: str) -> None:
        """Note a conversation's tier, for stickiness (see :meth:`_remember`)."""
        cid = ctx.extra.get("conversation_id")
        if cid:
            self._remember(ctx.team, cid, ctx.decision, tier)

    def _remember(self, tp: TeamPolicy, cid: str, decision: Decision | None, tier: str) -> None:
        """Remember the tier the policy required of this turn (stickiness included), not the
        one that happened to serve it. A lower tier answering in an outage must not keep the
        conversation down, nor a higher one keep it up for good: a failure moving the turn
        to a fallback, or an open circuit, a latency target or a queue leaving the lower
        tier out when the route was decided, is passing. Where no backend of the required
        tier exists at all, the next turn is ranked the same way again."""
        if not tp.policy.quality.stickiness.enabled:
            return  # nothing reads it: keep no record of the conversation
        if decision is not None:
            tier = decision.required_tier
        self._conversations.remember(tp.team, cid, tier)


def _end_cancelled(call: Call) -> None:
    """End a call whose caller was cancelled before it got the call (observers told)."""
    gone = asyncio.CancelledError()
    call.__exit__(type(gone), gone, None)


def _close_all(closers: Sequence[Any]) -> None:
    failure: BaseException | None = None
    for close in closers:
        try:
            close()
        except Exception as exc:  # close the others, then report the first failure
            failure = failure or exc
    if failure is not None:
        raise failure


def _check_arguments(
    backends: Any, policies: Any, scorer: Any, observer: Any, health: Any, budget_store: Any
) -> None:
    """Wrong types of :class:`Router` arguments as typed errors, not attribute errors later."""
    if isinstance(backends, str | bytes) or not isinstance(backends, Sequence):
        raise errors.ConfigError("backends must be a list of Backend objects")
    for b in backends:
        if not isinstance(b, Backend):
            raise errors.ConfigError(f"backends must be Backend objects, got {type(b).__name__}")
    if policies is not None and not isinstance(policies, PolicySet):
        if isinstance(policies, str | bytes | Mapping) or not isinstance(policies, Sequence):
            raise errors.ConfigError(
                "policies must be a PolicySet or a list of TeamPolicy (see load_policy)"
            )
        for p in policies:
            if not isinstance(p, TeamPolicy):
                raise errors.ConfigError(
                    f"policies must be TeamPolicy objects, got {type(p).__name__}"
                )
    expected = (
        ("scorer", scorer, ("score",)),
        ("observer", observer, ("request_started", "request_finished")),
        ("budget_store", budget_store, ("try_reserve", "settle", "used")),
    )
    for name, value, methods in expected:
        if value is not None and not all(callable(getattr(value, m, None)) for m in methods):
            raise errors.ConfigError(f"{name} must have the methods {', '.join(methods)}")
    if health is not None and not isinstance(health, HealthBook):
        raise errors.ConfigError("health must be a HealthBook")


OFF_LOOP_CHARS = 50_000
"""A request to ``achat`` longer than this (characters of message text) is validated and
classified in a worker thread: on the event loop it would stall every other task for
tens of milliseconds."""


def _rough_size(messages: Any) -> int:
    """The characters of text in ``messages``, cheaply (strings only; parts are counted)."""
    if isinstance(messages, str):
        return len(messages)
    size = 0
    if isinstance(messages, Sequence):
        for m in messages:
            content = m.get("content") if isinstance(m, Mapping) else None
            if isinstance(content, str):
                size += len(content)
            elif isinstance(content, Sequence):
                for part in content:
                    text = part.get("text") if isinstance(part, Mapping) else None
                    size += len(text) if isinstance(text, str) else 0
    return size


MAX_CONVERSATION_ID = 256
"""The longest ``conversation_id`` accepted (ids are kept in memory for stickiness)."""


def _check_conversation(conversation_id: Any) -> None:
    if conversation_id is None:
        return
    if not isinstance(conversation_id, str) or len(conversation_id) > MAX_CONVERSATION_ID:
        raise errors.InvalidRequest(
            f"conversation_id must be a string of at most {MAX_CONVERSATION_ID} characters",
            field="conversation_id",
        )
