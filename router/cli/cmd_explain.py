"""``hybrid-router explain``: the decision for a request, with reasons; no model is called.

With ``--batch`` it replays recorded traffic (JSON lines) against a configuration and its
policies, and summarises requests per tier and estimated cost: how a team tries a new
policy before deploying it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from router.classify.classifier import check_labels
from router.cli.common import (
    add_request_args,
    batch_items,
    batch_mode,
    emit,
    parse_labels,
    single_text,
)
from router.core import Router
from router.errors import InvalidRequest, RouterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="show where a request would go and why (no model call)",
        description="Decide where a request would go under a team's policy, with every "
        "candidate and the reasons it was ranked or excluded. No model is called.",
    )
    add_request_args(p)
    p.add_argument("--config", help="router configuration file (default: the embedded default)")
    p.add_argument("--team", help="team whose policy applies (default: the config's default)")
    p.add_argument(
        "--conversation",
        help="conversation id, for stickiness; in --batch the lines of one conversation are "
        "replayed in order, each seeing the tier the previous one would have used",
    )
    p.set_defaults(func=run)


def dry_router(config: str | None) -> Router:
    """A router whose backends are never called: for explain and replays."""
    if config is None:
        from router.defaults import default_router

        return default_router(dry_run=True)
    return Router.from_config(config, dry_run=True, telemetry=False)


def run(args: argparse.Namespace) -> int:
    router = dry_router(args.config)
    labels = parse_labels(args.label)
    if args.team is not None:
        router.policies[args.team]  # unknown team: one clear error before any work
    if batch_mode(args):
        return _batch(router, args.team, labels, args.conversation)
    e = router.explain(
        single_text(args), team=args.team, labels=labels, conversation_id=args.conversation
    )
    out = e.to_dict()
    if args.json:
        emit(out)
        return 0
    print(f"team {out['policy']['team']} (policy sha256 {out['policy']['sha256'][:12]})")
    c = out["classification"]
    pii = ", ".join(c["pii"]) or "none"
    print(f"task {c['task']}, complexity {c['complexity']:.2f}, {c['tokens']} tokens, pii: {pii}")
    if out["backend"] is None:
        print("no backend may serve this request")
    else:
        print(f"-> {out['backend']} (tier {out['tier']}, zone {out['zone']})")
    for reason in out["reasons"]:
        print(f"   {reason}")
    for cand in out["candidates"]:
        mark = f"#{cand['rank'] + 1}" if cand["eligible"] else "excluded"
        print(f"  {cand['backend']:<20} {cand['tier']:<12} {mark:<9} {'; '.join(cand['reasons'])}")
    for name, facts in out["backends"].items():
        shown = {k: v for k, v in facts.items() if k in _FACTS and v is not None}
        if shown:
            print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    return 0


# The model facts worth a line in the human-readable explanation (JSON has them all).
_FACTS = (
    "architecture",
    "parameter_count",
    "expert_count",
    "expert_used_count",
    "context_length",
    "quantization",
    "base_url",
    "server",
)


def _batch(
    router: Router, team: str | None, labels: dict[str, str], conversation: str | None
) -> int:
    """One explanation per line; a line's own ``labels`` add to ``--label``, and its
    ``team`` and ``conversation_id`` win over ``--team`` and ``--conversation``."""
    tiers: Counter[str] = Counter()
    cost = 0.0
    n = failed = 0
    for line, item, error in batch_items():
        if error is None and item is not None:
            try:
                item_labels = {**labels, **check_labels(item.pop("labels", None))}
                item_team = item.pop("team", None) or team
                item_conversation = item.pop("conversation_id", None) or conversation
                if "remember" in item:  # an argument of explain(), not a request field
                    raise InvalidRequest("unknown field", field="remember")
                e = router.explain(
                    item.pop("messages"),
                    team=item_team,
                    labels=item_labels,
                    conversation_id=item_conversation,
                    remember=True,  # the next line of the conversation sees this turn's tier
                    **item,
                )
            except RouterError as exc:
                error = f"line {line}: {exc}"
            else:
                out = e.to_dict()
                out["line"] = line  # blank lines are skipped: say which line this answers
                n += 1
                tiers[out["tier"] or "none"] += 1
                cost += out["estimated_cost_usd"] or 0.0
                emit(out)
                continue
        failed += 1
        emit({"error": error, "line": line})
    per_tier = ", ".join(f"{t} {k}" for t, k in sorted(tiers.items())) or "none"
    print(
        f"explained {n} request(s), {failed} error(s); per tier: {per_tier}; "
        f"estimated cost ${cost:.6f}",
        file=sys.stderr,
    )
    return 2 if failed else 0
