"""The policy file format (version 1), as strict pydantic models.

One file per team. Unknown keys, wrong types and impossible values are errors; nothing is
silently ignored. ``policies/schema.json`` is generated from these models
(``hybrid-router schema``), and ``docs/policy-reference.md`` from that schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from router.classify.types import DATA_CLASSES, TASKS

Tier = Literal["small", "large", "proprietary"]
"""Model tiers, cheapest and most private first."""

TIERS: tuple[str, ...] = ("small", "large", "proprietary")
TIER_RANK = {t: i for i, t in enumerate(TIERS)}

PrivacyAction = Literal["allow", "local_only", "redact", "block"]
"""What may happen to a request that carries a data class.

- ``allow``: any backend.
- ``local_only``: only backends in the ``local`` zone.
- ``redact``: remote backends receive placeholders instead of the values, restored in the
  answer; local backends receive the original.
- ``block``: the request is refused.
"""

_STRICT = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


def _action(default: str, what: str) -> Any:
    return Field(default=default, description=f"What a request containing {what} allows.")


class Privacy(BaseModel):
    """What each data class allows: allow (any backend), local_only (local zone only),
    redact (remote backends get placeholders), block (refuse the request). Every data class
    the classifier knows has a key."""

    model_config = _STRICT
    address: PrivacyAction = _action("local_only", "a postal or street address")
    credit_card: PrivacyAction = _action("local_only", "a Luhn-valid card number")
    date_of_birth: PrivacyAction = _action("local_only", "a date of birth")
    email: PrivacyAction = _action("local_only", "an e-mail address")
    iban: PrivacyAction = _action("local_only", "a checksum-valid IBAN")
    ip_address: PrivacyAction = _action("allow", "an IPv4 or IPv6 address")
    person: PrivacyAction = _action("allow", "a person's name")
    phone: PrivacyAction = _action("local_only", "a phone number")
    secret: PrivacyAction = _action("local_only", "an API key, token, private key or password")
    ssn: PrivacyAction = _action("local_only", "a social security or national id number")

    def action(self, data_class: str) -> str:
        return getattr(self, data_class)


assert set(Privacy.model_fields) == set(DATA_CLASSES), "Privacy must cover every data class"


class LabelRule(BaseModel):
    """What a caller label value means: a privacy action and/or a minimum tier."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={"minProperties": 1})
    privacy: PrivacyAction | None = Field(
        default=None,
        description="Privacy action for requests carrying this label value. A label has no "
        "value to redact, so redact acts as local_only here.",
    )
    min_tier: Tier | None = Field(
        default=None,
        description="The tier requests with this label need: they are routed as if their "
        "complexity required it. A lower tier still serves when nothing at that tier is "
        "available, unless quality.strict is set.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> LabelRule:
        if self.privacy is None and self.min_tier is None:
            raise ValueError("a label rule needs 'privacy' or 'min_tier'")
        return self


class Cost(BaseModel):
    """Per-request ceilings and team budgets, in US dollars."""

    model_config = _STRICT
    max_per_request_usd: float | None = Field(
        default=None,
        gt=0,
        description="Backends whose estimated worst-case cost for the request exceeds this "
        "are excluded.",
    )
    daily_budget_usd: float | None = Field(
        default=None, gt=0, description="Team spend allowed per UTC day."
    )
    monthly_budget_usd: float | None = Field(
        default=None, gt=0, description="Team spend allowed per UTC calendar month."
    )
    on_budget_exhausted: Literal["degrade", "reject"] = Field(
        default="degrade",
        description="degrade: only backends that cost nothing remain; reject: BudgetExceeded.",
    )
    assumed_output_tokens: int = Field(
        default=256,
        ge=1,
        le=1_000_000,
        description="Output tokens assumed for cost estimates when the request sets no "
        "max_tokens; with a daily or monthly budget, also the max_tokens sent to a priced "
        "backend then, so that no answer costs more than its budget reservation.",
    )

    @model_validator(mode="after")
    def _budgets_consistent(self) -> Cost:
        d, m = self.daily_budget_usd, self.monthly_budget_usd
        if d is not None and m is not None and d > m:
            raise ValueError(f"daily_budget_usd ({d}) is larger than monthly_budget_usd ({m})")
        return self


class Latency(BaseModel):
    """Latency targets in milliseconds."""

    model_config = _STRICT
    target_ms: float | None = Field(
        default=None,
        gt=0,
        description="Backends predicted to take longer than this to answer are excluded.",
    )
    deadline_ms: float = Field(
        default=120_000, gt=0, description="Overall deadline per request, all attempts included."
    )
    attempt_timeout_ms: float = Field(
        default=60_000, gt=0, description="Timeout of a single attempt on one backend."
    )

    @model_validator(mode="after")
    def _timeout_within_deadline(self) -> Latency:
        if self.attempt_timeout_ms > self.deadline_ms:
            raise ValueError(
                f"attempt_timeout_ms ({self.attempt_timeout_ms:g}) is longer than "
                f"deadline_ms ({self.deadline_ms:g})"
            )
        return self


class TierThresholds(BaseModel):
    """Complexity scores from which a tier is needed (the small tier needs none). A tier left
    out is never required by complexity alone (task and label rules can still require it)."""

    model_config = _STRICT
    large: float | None = Field(
        default=None, ge=0, le=1, description="Score from which the large tier is needed."
    )
    proprietary: float | None = Field(
        default=None, ge=0, le=1, description="Score from which the proprietary tier is needed."
    )


class TierShares(BaseModel):
    """Share of traffic, hardest first, that should need at least this tier."""

    model_config = _STRICT
    large: float | None = Field(
        default=None, ge=0, le=1, description="Share of traffic that needs the large tier."
    )
    proprietary: float | None = Field(
        default=None, ge=0, le=1, description="Share of traffic that needs the proprietary tier."
    )


class Stickiness(BaseModel):
    """Keep a conversation on its tier unless a turn clearly needs more."""

    model_config = _STRICT
    enabled: bool = Field(
        default=False, description="Keep conversations (conversation_id) on their tier."
    )
    margin: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="How far past a threshold a turn must score to move a conversation up "
        "(the shipped learned scorer's scores are bunched: 80% fall within 0.53-0.64).",
    )


class Quality(BaseModel):
    """Which complexity and which tasks need which tier."""

    model_config = _STRICT
    thresholds: TierThresholds = Field(
        default_factory=lambda: TierThresholds(large=0.5, proprietary=0.85),
        description="Complexity scores from which each tier is needed (default: large 0.5, "
        "proprietary 0.85).",
    )
    shares: TierShares | None = Field(
        default=None,
        description="Alternative to thresholds: the share of traffic, hardest first, that "
        "needs each tier. With a calibrated scorer (the shipped learned one is) the router "
        "turns shares into thresholds and they override thresholds; with an uncalibrated "
        "scorer the thresholds apply, and must then be stated. A policy that states "
        "thresholds but not shares does not inherit shares through extends.",
    )
    tasks: dict[str, Tier] = Field(
        default_factory=dict,
        json_schema_extra={"propertyNames": {"enum": list(TASKS)}},
        description="Tier needed per task, whatever the complexity (a floor only with "
        f"strict, like a label's min_tier). Tasks: {', '.join(TASKS)}.",
    )
    strict: bool = Field(
        default=False,
        description="If true, never fall back to a tier below the one required.",
    )
    stickiness: Stickiness = Field(
        default_factory=Stickiness,
        description="Keep a conversation on its tier unless a turn clearly needs more.",
    )

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, v: dict[str, str]) -> dict[str, str]:
        for task in v:
            if task not in TASKS:
                raise ValueError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Quality:
        t = self.thresholds
        if t.large is not None and t.proprietary is not None and t.proprietary < t.large:
            raise ValueError(
                f"thresholds.proprietary ({t.proprietary}) is below thresholds.large ({t.large})"
            )
        s = self.shares
        if s is not None and s.large is not None and s.proprietary is not None:  # noqa: SIM102
            if s.proprietary > s.large:
                raise ValueError(
                    f"shares.proprietary ({s.proprietary}) is above shares.large ({s.large})"
                )
        return self


class Routing(BaseModel):
    """Which tiers and backends may be used, in what fallback order, with how many retries."""

    model_config = _STRICT
    allowed_tiers: list[Tier] = Field(
        default_factory=lambda: list(TIERS),
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="The tiers this team may use at all.",
    )
    allowed_backends: list[str] | None = Field(
        default=None, description="If set, only these backends (by name) may be used."
    )
    denied_backends: list[str] = Field(
        default_factory=list,
        json_schema_extra={"uniqueItems": True},
        description="Backends (by name) this team may never use.",
    )
    fallback: Literal["auto"] | list[str] = Field(
        default="auto",
        description="auto: every allowed candidate in ranked order. A list of tier or backend "
        "names: after the first choice, only these, in this order.",
    )
    retries: int = Field(
        default=1, ge=0, le=10, description="Retries on the same backend for retryable errors."
    )
    max_attempts: int = Field(
        default=6, ge=1, le=50, description="Attempts in all, retries and fallbacks included."
    )
    backoff_initial_ms: float = Field(
        default=200, ge=0, le=60_000, description="Wait before the first retry; doubles after."
    )
    backoff_max_ms: float = Field(
        default=5_000, ge=0, le=600_000, description="Longest wait between retries."
    )
    backoff_jitter_ms: float = Field(
        default=200, ge=0, le=60_000, description="Random extra wait, up to this much."
    )
    retry_after_cap_ms: float = Field(
        default=30_000,
        ge=0,
        le=600_000,
        description="A backend's Retry-After is honoured up to this long.",
    )

    @field_validator("allowed_tiers", "denied_backends")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("entries must be unique")
        return v


class Streaming(BaseModel):
    """What happens when a stream fails after its first token reached the caller."""

    model_config = _STRICT
    on_interrupt: Literal["error", "restart"] = Field(
        default="error",
        description="error: raise StreamInterrupted with the partial text; restart: start "
        "over on the next attempt (a retry of the same backend while routing.retries "
        "allows, else the next candidate), announced by a chunk with event 'restart'.",
    )


class Policy(BaseModel):
    """A team's routing policy (file format version 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    version: Literal[1] = Field(description="Policy file format version. Always 1 for now.")

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, v: Any) -> Any:
        if isinstance(v, bool):  # True == 1 would pass as version 1
            raise ValueError("version must be the number 1")
        return v

    extends: str | None = Field(
        default=None,
        json_schema_extra={"minLength": 1},
        description="Name of another policy in the same directory (or a relative path) whose "
        "values this one starts from.",
    )
    description: str = Field(default="", description="What this policy is for, in words.")
    revision: str | None = Field(
        default=None, description="Your own revision tag, reported with every decision."
    )
    privacy: Privacy = Field(
        default_factory=Privacy, description="What each personal or secret data class allows."
    )
    labels: dict[str, dict[str, LabelRule]] = Field(
        default_factory=dict,
        description="Rules on caller labels: label name -> label value -> rule. Names and "
        "values match without regard to case or surrounding spaces; the value '*' is the "
        "rule for any other value of that label.",
    )

    @field_validator("labels")
    @classmethod
    def _normalised_labels(
        cls, v: dict[str, dict[str, LabelRule]]
    ) -> dict[str, dict[str, LabelRule]]:
        out: dict[str, dict[str, LabelRule]] = {}
        for name, rules in v.items():
            key = name.strip().lower()
            if key in out:
                raise ValueError(f"label {name!r} is given twice (names ignore case)")
            out[key] = {}
            for value, rule in rules.items():
                val = value.strip().lower()
                if val in out[key]:
                    raise ValueError(f"label {name}={value!r} is given twice (values ignore case)")
                out[key][val] = rule
        return out

    cost: Cost = Field(default_factory=Cost, description="Per-request ceiling and team budgets.")
    latency: Latency = Field(
        default_factory=Latency, description="Latency target, deadline and attempt timeout."
    )
    quality: Quality = Field(
        default_factory=Quality, description="Which complexity and tasks need which tier."
    )
    routing: Routing = Field(
        default_factory=Routing, description="Allowed tiers and backends, fallback order, retries."
    )
    streaming: Streaming = Field(
        default_factory=Streaming,
        description="What happens when a stream breaks after its first token.",
    )
