"""The routing decision: a pure function from what we know to ranked candidates with reasons.

``decide(classification, team_policy, backends, states)`` does no I/O, reads no clock and
no environment, and gives the same answer for the same inputs. Every backend appears in the
result, either ranked (with why) or excluded (with every reason that excludes it), so
``explain`` can show the whole picture and :class:`~router.errors.NoRouteAvailable` can say
exactly why nothing was allowed.

How a decision is made:

1. Privacy: each data class found, and each caller label, maps to an action in the policy.
   ``block`` excludes everything; ``local_only`` excludes remote backends; ``redact`` lets
   remote backends through with the values replaced by placeholders.
2. The required tier: from the complexity score and the policy's thresholds, raised by task
   and label rules, and held steady by conversation stickiness.
3. Hard limits on each backend: allowed tiers and backends, capabilities (tools, JSON,
   streaming), context window, cost ceiling, budget, health, latency target.
4. Ranking of what is left: backends of the required tier or above first (lowest adequate
   tier, then cheapest, then fastest, then configuration order), then, unless the policy is
   strict, lower tiers nearest the requirement first. An explicit fallback list in the
   policy restricts and orders what follows the first choice.

The result types are slotted dataclasses built on every request; they are not frozen only
because frozen ones cost five times as much to build. Treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from router.classify.types import Classification
from router.config import BackendSpec
from router.policy.load import TeamPolicy
from router.policy.model import TIER_RANK, TIERS

# Whether remote backends may receive redacted requests. Redaction is applied by the router
# before every attempt on a remote backend; see router.privacy.redact.
REDACTION_AVAILABLE = True


@dataclass(slots=True)
class BackendState:
    """What the router currently knows about a backend's health and speed."""

    available: bool = True
    reason: str = ""
    predicted_latency_ms: float | None = None
    queue_depth: int = 0


@dataclass(slots=True)
class Candidate:
    """One backend considered for a request: ranked (``eligible``) or excluded, and why."""

    backend: str
    tier: str
    zone: str
    eligible: bool
    reasons: tuple[str, ...]
    estimated_cost_usd: float = 0.0
    rank: int | None = None
    redact: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """This candidate as JSON-ready values."""
        out: dict[str, Any] = {
            "backend": self.backend,
            "tier": self.tier,
            "zone": self.zone,
            "eligible": self.eligible,
            "rank": self.rank,
            "reasons": list(self.reasons),
            "estimated_cost_usd": round(self.estimated_cost_usd, 8),
        }
        if self.redact:
            out["redact"] = sorted(self.redact)
        return out


@dataclass(slots=True)
class PrivacyVerdict:
    """What the request's data and labels allow, independent of any backend."""

    blocked: tuple[str, ...] = ()
    local_only: tuple[str, ...] = ()
    redact: frozenset[str] = frozenset()
    redact_reasons: tuple[str, ...] = ()


@dataclass(slots=True)
class Decision:
    """The outcome of :func:`decide`."""

    team: str
    required_tier: str
    ranked: tuple[Candidate, ...]
    excluded: tuple[Candidate, ...]
    reasons: tuple[str, ...]
    privacy: PrivacyVerdict = field(default_factory=PrivacyVerdict)
    budget_degraded: str | None = None
    """The budget period ("daily", "monthly") that excluded a priced backend under the
    policy's ``degrade``, if any: the request was degraded to cheaper backends."""

    @property
    def chosen(self) -> Candidate | None:
        """The first-ranked candidate, or ``None`` when nothing is allowed."""
        return self.ranked[0] if self.ranked else None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Every backend considered: ranked ones first, then excluded ones."""
        return self.ranked + self.excluded


_CLEAR = PrivacyVerdict()


def label_rule(policy: Any, key: str, value: str) -> Any:
    """The policy's rule for caller label ``key=value``: the exact value, else ``*``."""
    rules = policy.labels.get(key)
    if not rules:
        return None
    rule = rules.get(value)
    return rule if rule is not None else rules.get("*")


def privacy_verdict(classification: Classification, team: TeamPolicy) -> PrivacyVerdict:
    """Map every detected data class and caller label to the policy's action."""
    if not classification.detections and not classification.labels:
        return _CLEAR
    policy = team.policy
    blocked: list[str] = []
    local: list[str] = []
    redact: set[str] = set()
    redact_reasons: list[str] = []
    name = team.team
    for cls in sorted(classification.data_classes):
        action = policy.privacy.action(cls)
        why = f"request contains {cls}; policy {name}: {cls} is {action}"
        if action == "block":
            blocked.append(why)
        elif action == "local_only" or (action == "redact" and not REDACTION_AVAILABLE):
            local.append(why)
        elif action == "redact":
            redact.add(cls)
            redact_reasons.append(why)
    for key, value in sorted(classification.labels.items()):
        rule = label_rule(policy, key, value)
        if rule is None or rule.privacy in (None, "allow"):
            continue
        why = f"label {key}={value}; policy {name}: {key}={value} is {rule.privacy}"
        if rule.privacy == "block":
            blocked.append(why)
        else:  # a label has no value to redact, so redact means local_only for labels
            local.append(why)
    return PrivacyVerdict(tuple(blocked), tuple(local), frozenset(redact), tuple(redact_reasons))


def required_tier(
    classification: Classification, team: TeamPolicy, previous_tier: str | None = None
) -> tuple[str, list[str], str]:
    """The lowest tier the policy says this request needs, and why; and the tier the turn
    itself requires, before stickiness (what ``strict`` enforces)."""
    q = team.policy.quality
    name = team.team
    score = classification.complexity
    tier, reasons = "small", []
    thresholds = {"large": q.thresholds.large, "proprietary": q.thresholds.proprietary}
    for t in ("proprietary", "large"):
        thr = thresholds[t]
        if thr is not None and score >= thr:
            tier = t
            reasons.append(f"complexity {score:.3f} >= {thr:.3f}: tier {t} needed (policy {name})")
            break
    else:
        thr = thresholds["large"]
        if thr is not None:
            reasons.append(f"complexity {score:.3f} < {thr:.3f}: tier small is enough")
    by_rule = tier
    floor = "small"  # what task and label rules ask for, whatever the score
    task_tier = q.tasks.get(classification.task)
    if task_tier is not None:
        floor = task_tier
        if TIER_RANK[task_tier] > TIER_RANK[by_rule]:
            by_rule = task_tier
            reasons.append(f"task {classification.task} needs tier {task_tier} (policy {name})")
    for key, value in sorted(classification.labels.items()):
        rule = label_rule(team.policy, key, value)
        if rule is not None and rule.min_tier:
            if TIER_RANK[rule.min_tier] > TIER_RANK[floor]:
                floor = rule.min_tier
            if TIER_RANK[rule.min_tier] > TIER_RANK[by_rule]:
                by_rule = rule.min_tier
                reasons.append(f"label {key}={value} needs tier {rule.min_tier} (policy {name})")
    st = q.stickiness
    if st.enabled and previous_tier in TIER_RANK and previous_tier != by_rule:
        prev = previous_tier
        if TIER_RANK[by_rule] < TIER_RANK[prev]:
            reasons.append(f"conversation stays on tier {prev} (stickiness)")
            return prev, reasons, by_rule
        if tier == by_rule:  # the score alone moves it up: only as far as it clearly clears
            clear = prev
            for t in ("large", "proprietary"):
                thr = thresholds[t]
                above_prev = TIER_RANK[prev] < TIER_RANK[t] <= TIER_RANK[tier]
                if above_prev and thr is not None and score >= thr + st.margin:
                    clear = t
            if TIER_RANK[floor] > TIER_RANK[clear]:  # a task or label rule asks for more
                clear = floor
            if clear != tier:
                thr = thresholds[tier]
                reasons.append(
                    f"conversation {'stays on' if clear == prev else 'moves to'} tier {clear}: "
                    f"{score:.3f} is not clearly above {thr:.3f} + margin {st.margin:.3f} "
                    "(stickiness)"
                )
                return clear, reasons, by_rule
    return by_rule, reasons, by_rule


def exclusions(
    spec: BackendSpec,
    c: Classification,
    team: TeamPolicy,
    verdict: PrivacyVerdict,
    state: BackendState | None,
    cost: float,
    budget_exhausted: str | None,
    budget_left: tuple[str, float] | None = None,
) -> list[str]:
    """Every reason ``spec`` may not serve this request (empty when it may)."""
    policy = team.policy
    name = team.team
    r = policy.routing
    out: list[str] = []
    if spec.tier not in r.allowed_tiers:
        out.append(f"tier {spec.tier} not allowed by policy {name}")
    if r.allowed_backends is not None and spec.name not in r.allowed_backends:
        out.append(f"not in policy {name} allowed_backends")
    if spec.name in r.denied_backends:
        out.append(f"denied by policy {name}")
    out.extend(verdict.blocked)
    if spec.zone == "remote":
        out.extend(verdict.local_only)
    caps = spec.capabilities
    if c.wants_tools and not caps.tools:
        out.append("request uses tools; backend has no tool support")
    if c.wants_json and not caps.json_output:
        out.append("request wants JSON output; backend cannot constrain output to JSON")
    if c.wants_stream and not caps.streaming:
        out.append("request streams; backend cannot stream")
    if c.wants_images and not caps.images:
        out.append("request has image parts; backend reads text only")
    output = c.max_output_tokens or policy.cost.assumed_output_tokens
    needed = c.tokens + output
    if needed > spec.context_window:
        out.append(
            f"context window {spec.context_window} tokens < {needed} needed "
            f"({c.tokens} prompt + {output} output)"
        )
    ceiling = policy.cost.max_per_request_usd
    if ceiling is not None and cost > ceiling:
        out.append(
            f"estimated cost ${cost:.6f} exceeds policy {name} max_per_request_usd ${ceiling:g}"
        )
    if budget_exhausted and policy.cost.on_budget_exhausted == "reject":
        out.append(f"team {name} {budget_exhausted} budget is spent; policy rejects")
    elif period := degrading_period(cost, team, budget_exhausted, budget_left):
        if budget_exhausted:
            out.append(f"team {name} {period} budget is spent; policy degrades to free backends")
        else:  # under reject, a call the budget cannot cover is refused when sent instead
            left = budget_left[1]  # type: ignore[index]
            out.append(
                f"team {name} {period} budget cannot cover this call: estimated ${cost:.6f}, "
                f"${left:.6f} left; policy degrades to cheaper backends"
            )
    if state is not None:
        if not state.available:
            out.append(state.reason or "backend unavailable")
        target = policy.latency.target_ms
        predicted = state.predicted_latency_ms
        if target is not None and predicted is not None and predicted > target:
            out.append(f"predicted latency {predicted:.0f} ms > policy {name} target {target:g} ms")
    return out


def degrading_period(
    cost: float,
    team: TeamPolicy,
    budget_exhausted: str | None,
    budget_left: tuple[str, float] | None,
) -> str | None:
    """The budget period that leaves out, under the policy's ``degrade``, a backend whose
    worst case costs ``cost``: a spent one, or one whose remainder cannot cover it."""
    if cost <= 0 or team.policy.cost.on_budget_exhausted != "degrade":
        return None
    if budget_exhausted:
        return budget_exhausted
    if budget_left is not None and cost > budget_left[1]:
        return budget_left[0]
    return None


def estimate_cost(spec: BackendSpec, c: Classification, team: TeamPolicy) -> float:
    """Worst-case cost of the request on ``spec``: prompt tokens plus the output allowance."""
    output = c.max_output_tokens or team.policy.cost.assumed_output_tokens
    return spec.price.cost(c.tokens, output)


def decide(
    classification: Classification,
    team: TeamPolicy,
    backends: Sequence[BackendSpec],
    states: Mapping[str, BackendState] | None = None,
    *,
    previous_tier: str | None = None,
    budget_exhausted: str | None = None,
    budget_left: tuple[str, float] | None = None,
) -> Decision:
    """Rank ``backends`` for this request under ``team``'s policy. Pure and deterministic.

    ``states`` holds health and latency predictions by backend name (missing: healthy, no
    prediction). ``previous_tier`` is the tier the conversation's last turn required, for
    stickiness. ``budget_exhausted`` names the spent budget period ("daily" or "monthly"),
    after which only backends that cost nothing remain. ``budget_left`` is the period with
    the least left and that amount: under ``degrade``, a backend whose worst case costs more
    is excluded, as the reservation before sending would refuse it.
    """
    states = states or {}
    verdict = privacy_verdict(classification, team)
    need, reasons, floor = required_tier(classification, team, previous_tier)
    need_rank = TIER_RANK[need]
    strict = team.policy.quality.strict
    # Strict enforces what the policy requires of this turn (floor); the tier a conversation
    # stays on for stickiness is a preference, not a requirement to enforce.
    floor_rank = TIER_RANK[floor]
    degraded: str | None = None  # the budget period that left a priced backend out
    eligible: list[tuple[tuple[Any, ...], BackendSpec, float, list[str]]] = []
    excluded: list[Candidate] = []
    for index, spec in enumerate(backends):
        cost = estimate_cost(spec, classification, team)
        why = exclusions(
            spec,
            classification,
            team,
            verdict,
            states.get(spec.name),
            cost,
            budget_exhausted,
            budget_left,
        )
        degraded = degraded or degrading_period(cost, team, budget_exhausted, budget_left)
        rank = TIER_RANK[spec.tier]
        if strict and rank < floor_rank:
            why.append(f"tier {spec.tier} is below required tier {floor} (policy strict)")
        if why:
            excluded.append(Candidate(spec.name, spec.tier, spec.zone, False, tuple(why), cost))
            continue
        state = states.get(spec.name)
        latency = state.predicted_latency_ms if state and state.predicted_latency_ms else 0.0
        group = (0, rank) if rank >= need_rank else (1, -rank)
        eligible.append(((*group, cost, latency, index), spec, cost, []))
    eligible.sort(key=lambda e: e[0])
    eligible = _apply_fallback(eligible, team, excluded)
    ranked = []
    for i, (_, spec, cost, _why) in enumerate(eligible):
        why = _TIER_REASONS[spec.tier, need]
        redact = verdict.redact if spec.zone == "remote" else _NOTHING
        if redact:
            why += (f"{', '.join(sorted(redact))} redacted before sending (remote zone)",)
        if budget_left is not None and cost > max(budget_left[1], 0.0):  # under reject
            why += (
                f"team {team.team} {budget_left[0]} budget cannot cover this call: estimated "
                f"${cost:.6f}, ${budget_left[1]:.6f} left; policy rejects it when it is sent",
            )
        ranked.append(Candidate(spec.name, spec.tier, spec.zone, True, why, cost, i, redact))
    reasons += _summary(need, ranked, excluded, backends)
    reasons += list(verdict.redact_reasons)
    return Decision(
        team.team, need, tuple(ranked), tuple(excluded), tuple(reasons), verdict, degraded
    )


_NOTHING: frozenset[str] = frozenset()
# The reason a ranked candidate gets for its tier, by (its tier, the required tier).
_TIER_REASONS = {
    (tier, need): (
        (f"tier {tier} meets required tier {need}",)
        if TIER_RANK[tier] >= TIER_RANK[need]
        else (f"tier {tier} is below required tier {need}; used when nothing better is",)
    )
    for tier in TIERS
    for need in TIERS
}


def _apply_fallback(eligible: list, team: TeamPolicy, excluded: list[Candidate]) -> list:
    order = team.policy.routing.fallback
    if order == "auto" or len(eligible) <= 1:
        return eligible
    first, rest = eligible[0], eligible[1:]
    keyed = []
    for entry in rest:
        spec = entry[1]
        pos = next((i for i, o in enumerate(order) if o in (spec.name, spec.tier)), None)
        if pos is None:
            excluded.append(
                Candidate(
                    spec.name,
                    spec.tier,
                    spec.zone,
                    False,
                    (f"not in policy {team.team} fallback order",),
                    entry[2],
                )
            )
        else:
            keyed.append((pos, entry))
    keyed.sort(key=lambda k: k[0])
    return [first, *[e for _, e in keyed]]


def _summary(
    need: str,
    ranked: list[Candidate],
    excluded: list[Candidate],
    backends: Sequence[BackendSpec],
) -> list[str]:
    if not ranked:
        return ["no backend is allowed for this request"]
    chosen = ranked[0]
    out = []
    if TIER_RANK[chosen.tier] < TIER_RANK[need]:
        configured = {b.tier for b in backends}
        missing = [t for t in TIERS if TIER_RANK[t] >= TIER_RANK[need] and t not in configured]
        blocked = [c.backend for c in excluded if TIER_RANK[c.tier] >= TIER_RANK[need]]
        if missing:
            out.append(f"tier {need} needed but not configured ({', '.join(missing)} missing)")
        if blocked:
            out.append(f"tier {need} or above excluded: {', '.join(blocked)}")
        out.append(f"using {chosen.backend} (tier {chosen.tier}), the best allowed backend")
    else:
        out.append(f"chose {chosen.backend}: lowest allowed tier meeting {need}, cheapest first")
    return out
