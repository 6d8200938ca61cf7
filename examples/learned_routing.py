"""Learned routing in a few lines: score prompts, pick a threshold, evaluate on outcomes.

Run: python examples/learned_routing.py
"""

from __future__ import annotations

from pathlib import Path

from router import FakeBackend, Router, load_policy
from router.learned import apgr, cpt, load_default, read_outcomes, threshold_for_share

OUTCOMES = Path(__file__).resolve().parent.parent / "tests/data/routing-outcomes/sample.jsonl"

scorer = load_default()  # shipped in the package: no network, no numpy
threshold = scorer.threshold_for_share(0.2)  # about 20% of traffic to the strong tier
print(f"threshold for a 20% strong share: {threshold:.4f}")

prompts = [
    "What is the capital of France?",
    "Janet has 3 boxes of 12 eggs. She uses 40% of them and sells the rest at $0.25 each. "
    "How much money does she make?",
    "Statement 1 | Every group of order p^2 is abelian. Statement 2 | Every finite ring with "
    "unity is a field.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer:",
]
for prompt in prompts:
    score = scorer.score([prompt])
    tier = "strong" if score >= threshold else "weak"
    print(f"{score:.4f} -> {tier:6s} {prompt.splitlines()[0][:60]!r}")

# A conversation keeps its tier unless a turn clearly needs more: a policy option the
# router applies to every turn that carries the same conversation_id.
sticky = load_policy(
    "sticky.yaml",
    text="version: 1\nextends: default\nquality: {stickiness: {enabled: true}}\n",
)
router = Router([FakeBackend("local", reply="..."), FakeBackend("moe", tier="large")], [sticky])
for turn in [prompts[2], "Thanks! Could you say that more simply?"]:
    route = router.chat(turn, team="sticky", conversation_id="c-1").route
    why = [r for r in route.reasons if "stick" in r] or route.reasons[:1]
    print(f"turn {turn[:30]!r}: tier {route.tier} ({why[0]})")

# Evaluate and calibrate on a small outcomes file (yours: prompt, weak_correct, strong_correct).
rows = read_outcomes(OUTCOMES)
scores = [scorer.score(r.turns) for r in rows]
weak = [r.weak_correct for r in rows]
strong = [r.strong_correct for r in rows]
print(
    f"{len(rows)} outcomes: APGR {apgr(scores, weak, strong):.3f}, "
    f"CPT(50%) {cpt(scores, weak, strong, 0.5):.3f}"
)
print("  (in-sample: the shipped model was trained on these prompts; docs give CV figures)")
print(f"threshold for 20% strong on this file: {threshold_for_share(scores, 0.2):.4f}")
