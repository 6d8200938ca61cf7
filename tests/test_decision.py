"""The pure decision: a table of cases, determinism, and the reasons it gives."""

from __future__ import annotations

import pytest

from router import BackendSpec, BackendState, Capabilities, Classification, Detection, Price, decide
from router.policy.load import builtin_default
from tests.helpers import policy

SMALL = BackendSpec(
    name="small", tier="small", zone="local", kind="fake", model="s", context_window=2048
)
LARGE = BackendSpec(
    name="large",
    tier="large",
    zone="local",
    kind="fake",
    model="l",
    context_window=32768,
    price=Price(input_per_mtok=0.05, output_per_mtok=0.1),
    capabilities=Capabilities(tools=True),
)
CLOUD = BackendSpec(
    name="cloud",
    tier="proprietary",
    zone="remote",
    kind="fake",
    model="c",
    context_window=128000,
    price=Price(input_per_mtok=2, output_per_mtok=8),
    capabilities=Capabilities(tools=True),
)
ALL = (SMALL, LARGE, CLOUD)


def cls(complexity=0.1, task="chat", pii=(), tokens=100, labels=None, **kw) -> Classification:
    dets = tuple(Detection(c, 0, 0, 1, 0.9) for c in pii)
    return Classification(
        task=task, complexity=complexity, tokens=tokens, detections=dets, labels=labels or {}, **kw
    )


DEFAULT = builtin_default()


def names(d) -> list[str]:
    return [c.backend for c in d.ranked]


CASES = [
    # (id, classification, policy, states, expected ranking, required tier)
    (
        "easy request: cheapest adequate first",
        cls(0.1),
        DEFAULT,
        {},
        ["small", "large", "cloud"],
        "small",
    ),
    (
        "complexity above large threshold",
        cls(0.6),
        DEFAULT,
        {},
        ["large", "cloud", "small"],
        "large",
    ),
    (
        "complexity above proprietary threshold",
        cls(0.9),
        DEFAULT,
        {},
        ["cloud", "large", "small"],
        "proprietary",
    ),
    (
        "email is local_only by default: cloud excluded",
        cls(0.9, pii=["email"]),
        DEFAULT,
        {},
        ["large", "small"],
        "proprietary",
    ),
    (
        "names are allowed out by default",
        cls(0.9, pii=["person"]),
        DEFAULT,
        {},
        ["cloud", "large", "small"],
        "proprietary",
    ),
    (
        "block refuses everything",
        cls(0.1, pii=["secret"]),
        policy("privacy: {secret: block}"),
        {},
        [],
        "small",
    ),
    (
        "task rule raises the tier",
        cls(0.1, task="code"),
        policy("quality: {tasks: {code: large}}"),
        {},
        ["large", "cloud", "small"],
        "large",
    ),
    (
        "strict quality drops lower tiers",
        cls(0.6),
        policy("quality: {strict: true}"),
        {},
        ["large", "cloud"],
        "large",
    ),
    (
        "unavailable backend is excluded",
        cls(0.6),
        DEFAULT,
        {"large": BackendState(available=False, reason="circuit open")},
        ["cloud", "small"],
        "large",
    ),
    (
        "allowed tiers",
        cls(0.9),
        policy("routing: {allowed_tiers: [small, large]}"),
        {},
        ["large", "small"],
        "proprietary",
    ),
    (
        "denied backend",
        cls(0.1),
        policy("routing: {denied_backends: [small]}"),
        {},
        ["large", "cloud"],
        "small",
    ),
    ("context window too small", cls(0.1, tokens=3000), DEFAULT, {}, ["large", "cloud"], "small"),
    (
        "tools need a capable backend",
        cls(0.1, wants_tools=True),
        DEFAULT,
        {},
        ["large", "cloud"],
        "small",
    ),
    (
        "cost ceiling",
        cls(0.9, tokens=1000),
        policy("cost: {max_per_request_usd: 0.001}"),
        {},
        ["large", "small"],
        "proprietary",
    ),
    (
        "latency target",
        cls(0.6),
        policy("latency: {target_ms: 1000}"),
        {"large": BackendState(predicted_latency_ms=4000)},
        ["cloud", "small"],
        "large",
    ),
    (
        "explicit fallback order",
        cls(0.6),
        policy("routing: {fallback: [small]}"),
        {},
        ["large", "small"],
        "large",
    ),
    (
        "label makes a request local",
        cls(0.9, labels={"sensitivity": "confidential"}),
        policy("labels: {sensitivity: {confidential: {privacy: local_only}}}"),
        {},
        ["large", "small"],
        "proprietary",
    ),
    (
        "label raises the tier",
        cls(0.1, labels={"tier": "best"}),
        policy("labels: {tier: {best: {min_tier: proprietary}}}"),
        {},
        ["cloud", "large", "small"],
        "proprietary",
    ),
]


@pytest.mark.parametrize(
    ("case", "c", "tp", "states", "ranking", "tier"), CASES, ids=[c[0] for c in CASES]
)
def test_decision_table(case, c, tp, states, ranking, tier) -> None:
    d = decide(c, tp, ALL, states)
    assert names(d) == ranking
    assert d.required_tier == tier
    assert {x.backend for x in d.candidates} == {"small", "large", "cloud"}
    for x in d.excluded:
        assert x.reasons, f"{x.backend} excluded without a reason"


def test_reasons_say_which_data_and_which_policy() -> None:
    legal = policy("privacy: {email: local_only}", team="legal")
    d = decide(cls(0.9, pii=["email"]), legal, ALL)
    cloud = next(c for c in d.excluded if c.backend == "cloud")
    assert "request contains email; policy legal: email is local_only" in cloud.reasons


def test_block_reason_is_on_every_candidate() -> None:
    d = decide(cls(pii=["secret"]), policy("privacy: {secret: block}", team="ops"), ALL)
    assert not d.ranked
    assert all("policy ops: secret is block" in " ".join(c.reasons) for c in d.excluded)


def test_missing_tier_is_said_plainly() -> None:
    d = decide(cls(0.7), DEFAULT, (SMALL,))
    assert names(d) == ["small"]
    assert any("tier large needed but not configured" in r for r in d.reasons)


def test_decision_is_deterministic() -> None:
    c = cls(0.6, pii=["email", "phone"], task="code")
    first = decide(c, DEFAULT, ALL)
    for _ in range(20):
        assert decide(c, DEFAULT, ALL) == first


def test_stickiness_keeps_a_conversation_on_its_tier() -> None:
    sticky = policy("quality: {stickiness: {enabled: true, margin: 0.1}}")
    # an easy turn in a conversation that was on the large tier stays there
    assert decide(cls(0.1), sticky, ALL, previous_tier="large").required_tier == "large"
    # a turn just above the threshold does not move it up ...
    assert decide(cls(0.88), sticky, ALL, previous_tier="large").required_tier == "large"
    # ... one clearly above it does
    assert decide(cls(0.97), sticky, ALL, previous_tier="large").required_tier == "proprietary"
    # without stickiness the tier follows each turn
    assert decide(cls(0.1), DEFAULT, ALL, previous_tier="large").required_tier == "small"


def test_stickiness_moves_up_only_as_far_as_a_turn_clearly_needs() -> None:
    """A harder turn never gets a lower tier than an easier one: from small, a score that
    clears large by the margin but not proprietary moves to large."""
    sticky = policy(
        "quality: {thresholds: {large: 0.5, proprietary: 0.85}, shares: null,"
        " stickiness: {enabled: true, margin: 0.1}}"
    )

    def tier(score: float) -> str:
        return decide(cls(score), sticky, ALL, previous_tier="small").required_tier

    assert tier(0.55) == "small"  # not clearly above large
    assert tier(0.7) == "large"
    assert tier(0.9) == "large"  # above proprietary, but not clearly
    assert tier(0.97) == "proprietary"


def test_stickiness_never_lowers_what_a_task_or_label_rule_requires() -> None:
    sticky = policy(
        "quality: {thresholds: {large: 0.5, proprietary: 0.85}, shares: null,"
        " tasks: {code: large}, stickiness: {enabled: true, margin: 0.1}}\n"
        "labels: {tier: {high: {min_tier: large}}}"
    )
    # Just above the large threshold: a score alone would stay on small (not clearly above),
    # but the task and the label ask for large whatever the score.
    assert decide(cls(0.51, task="code"), sticky, ALL, previous_tier="small").required_tier == (
        "large"
    )
    high = cls(0.51, labels={"tier": "high"})
    assert decide(high, sticky, ALL, previous_tier="small").required_tier == "large"
    # A harder turn never gets a lower tier than an easier one.
    assert decide(cls(0.1, task="code"), sticky, ALL, previous_tier="small").required_tier == (
        "large"
    )


def test_strict_enforces_the_turns_requirement_not_the_tier_stickiness_prefers() -> None:
    strict = policy("quality: {strict: true, stickiness: {enabled: true}}")
    local_only = cls(0.1, pii=("email",))  # the proprietary tier is remote: excluded
    d = decide(local_only, strict, ALL, previous_tier="proprietary")
    assert d.ranked and d.ranked[0].backend == "large"  # as near the sticky tier as allowed
    assert d.required_tier == "proprietary"


def test_a_spent_budget_under_reject_excludes_every_backend() -> None:
    reject = policy("cost: {daily_budget_usd: 1, on_budget_exhausted: reject}")
    d = decide(cls(0.9), reject, ALL, budget_exhausted="daily")
    assert names(d) == []
    assert all("policy rejects" in " ".join(c.reasons) for c in d.excluded)


def test_spent_budget_leaves_only_free_backends() -> None:
    d = decide(cls(0.9), DEFAULT, ALL, budget_exhausted="daily")
    assert names(d) == ["small"]
    assert any("daily budget is spent" in r for c in d.excluded for r in c.reasons)


def test_redact_lets_remote_backends_through_with_a_note() -> None:
    d = decide(cls(0.9, pii=["email"]), policy("privacy: {email: redact}"), ALL)
    assert names(d)[0] == "cloud"
    assert d.ranked[0].redact == frozenset({"email"})
    assert d.ranked[1].redact == frozenset()  # local backends see the original


def test_images_go_only_to_backends_that_read_them() -> None:
    vision = CLOUD.model_copy(update={"capabilities": Capabilities(tools=True, images=True)})
    d = decide(cls(0.1, wants_images=True), DEFAULT, (SMALL, LARGE, vision))
    assert [c.backend for c in d.ranked] == ["cloud"]
    why = {c.backend: c.reasons for c in d.excluded}
    assert why["small"] == ("request has image parts; backend reads text only",)
    assert not decide(cls(0.1, wants_images=True), DEFAULT, ALL).ranked
