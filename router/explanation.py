"""What ``explain`` returns: the decision the router would make, with the facts behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.classify.types import Classification
from router.decision import Decision


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the router would do with a request, without calling any model."""

    decision: Decision
    classification: Classification
    policy: dict[str, Any]
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Facts about each candidate's model (GGUF architecture, experts, context ...)."""

    @property
    def backend(self) -> str | None:
        """The backend that would serve the request, or ``None``."""
        c = self.decision.chosen
        return c.backend if c else None

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready values (what ``explain --json`` prints)."""
        chosen = self.decision.chosen
        return {
            "backend": chosen.backend if chosen else None,
            "tier": chosen.tier if chosen else None,
            "zone": chosen.zone if chosen else None,
            "required_tier": self.decision.required_tier,
            "reasons": list(self.decision.reasons),
            "candidates": [c.to_dict() for c in self.decision.candidates],
            "classification": self.classification.to_dict(),
            "policy": self.policy,
            "estimated_cost_usd": round(chosen.estimated_cost_usd, 8) if chosen else None,
            "backends": self.backends,
        }
