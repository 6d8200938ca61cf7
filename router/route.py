"""The ``route`` record attached to every response: what was decided, tried and spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.classify.types import Classification
from router.decision import Candidate, Decision


@dataclass(slots=True)
class Attempt:
    """One try on one backend."""

    backend: str
    tier: str
    outcome: str  # "ok", "error", "skipped"
    duration_ms: float
    error_type: str | None = None
    error: str | None = None
    retry: int = 0
    waited_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """This attempt as JSON-ready values."""
        out: dict[str, Any] = {
            "backend": self.backend,
            "tier": self.tier,
            "outcome": self.outcome,
            "duration_ms": round(self.duration_ms, 3),
            "retry": self.retry,
            "waited_ms": round(self.waited_ms, 3),
        }
        if self.error_type is not None:
            out["error_type"] = self.error_type
            out["error"] = self.error
        return out


@dataclass(slots=True)
class RouteRecord:
    """Why a request went where it went, and what happened on the way.

    ``backend``/``tier``/``zone`` are where the answer came from (after any fallback);
    ``candidates`` lists every backend considered, with the reasons each was ranked or
    excluded; ``attempts`` every try in order; ``skipped`` the ranked candidates the plan
    passed over, with why.
    """

    team: str
    policy: dict[str, Any]
    backend: str | None
    tier: str | None
    zone: str | None
    required_tier: str
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    classification: Classification
    estimated_cost_usd: float
    cost_usd: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    skipped: list[Candidate] = field(default_factory=list)
    """Ranked candidates passed over while the plan ran, each with why: a re-check before
    sending (a circuit that opened, a budget, the privacy guard) or a context window no
    larger than one that was too small."""
    events: list[str] = field(default_factory=list)
    redacted: dict[str, int] = field(default_factory=dict)
    overhead_ms: float = 0.0
    """The router's own time: classifying, deciding, and preparing and recording each
    attempt. Excludes model time, backoff waits and time spent waiting for the event loop."""

    @classmethod
    def from_decision(
        cls, decision: Decision, classification: Classification, policy: dict[str, Any]
    ) -> RouteRecord:
        """The record a request starts with: the decision, before any attempt."""
        chosen = decision.chosen
        return cls(
            team=decision.team,
            policy=policy,
            backend=chosen.backend if chosen else None,
            tier=chosen.tier if chosen else None,
            zone=chosen.zone if chosen else None,
            required_tier=decision.required_tier,
            reasons=decision.reasons,
            candidates=decision.candidates,
            classification=classification,
            estimated_cost_usd=chosen.estimated_cost_usd if chosen else 0.0,
        )

    @property
    def fallbacks(self) -> int:
        """How many times the router moved on to another backend."""
        moves, last = 0, None
        for a in self.attempts:
            if last is not None and a.backend != last:
                moves += 1
            last = a.backend
        return moves

    def to_dict(self) -> dict[str, Any]:
        """The whole record as JSON-ready values."""
        return {
            "team": self.team,
            "policy": dict(self.policy),
            "backend": self.backend,
            "tier": self.tier,
            "zone": self.zone,
            "required_tier": self.required_tier,
            "reasons": list(self.reasons),
            "candidates": [c.to_dict() for c in self.candidates],
            "classification": self.classification.to_dict(),
            "estimated_cost_usd": round(self.estimated_cost_usd, 8),
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 8),
            "attempts": [a.to_dict() for a in self.attempts],
            "skipped": [c.to_dict() for c in self.skipped],
            "events": list(self.events),
            "redacted": dict(self.redacted),
            "overhead_ms": round(self.overhead_ms, 4),
        }
