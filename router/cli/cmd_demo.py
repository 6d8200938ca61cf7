"""``hybrid-router demo``: a short scripted conversation routed on a real model.

With no configuration, the small tier is SmolLM2-135M-Instruct in-process (see
:mod:`router.defaults`). Each turn prints the answer and the route: backend, tier, the tier
the policy required, the reasons, and every excluded candidate with its reasons. A tier
that is not configured is said so plainly, with the flag that switches it on.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from router.cli.common import add_tier_args, default_router_from_args, positive_int
from router.core import Router
from router.policy.model import TIER_RANK

TURNS: tuple[tuple[str, str], ...] = (
    ("a greeting", "Hello! Who are you?"),
    (
        "arithmetic a 135M-parameter model usually gets wrong",
        "What is 17 * 23? Derive it step by step and prove the result is correct.",
    ),
    (
        "a phone number, which the policy keeps on local backends",
        "Please call me back at +1 415 555 0134 about my delivery.",
    ),
)
HOW_TO = {
    "large": "give --large-gguf PATH, or --large-url URL --large-model NAME",
    "proprietary": "set OPENAI_API_KEY",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="route a short scripted conversation on a real local model",
        description="Route a scripted conversation (a greeting, arithmetic, a phone number) "
        "with the embedded default: SmolLM2-135M-Instruct in-process, plus larger tiers "
        "when configured. Prints each answer and its route with the reasons.",
    )
    add_tier_args(p)
    p.add_argument(
        "--max-tokens", type=positive_int, default=96, help="answer length cap (default 96)"
    )
    p.add_argument("--json", action="store_true", help="print the turns as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    router, notes = default_router_from_args(args)
    with router:
        turns = _converse(router, args.max_tokens)
    if args.json:
        print(json.dumps({"tiers": notes, "turns": turns}, ensure_ascii=False, indent=2))
        return 0
    print("tiers (embedded default, built-in default policy)")
    for tier, note in notes.items():
        print(f"  {tier:<12} {note}")
    for i, t in enumerate(turns, start=1):
        print()
        print(f"turn {i}: {t['about']}")
        _print_turn(t, router)
    return 0


def _converse(router: Router, max_tokens: int) -> list[dict[str, Any]]:
    history: list[dict[str, str]] = []
    out = []
    for about, text in TURNS:
        history.append({"role": "user", "content": text})
        t0 = time.perf_counter()
        resp = router.chat(history, max_tokens=max_tokens, conversation_id="demo")
        seconds = time.perf_counter() - t0
        answer = resp.text.strip()
        history.append({"role": "assistant", "content": answer})
        usage = resp.usage
        route = resp.route.to_dict() if resp.route is not None else {}
        failed, fell_back_to = _failures(route)
        out.append(
            {
                "about": about,
                "user": text,
                "answer": answer,
                "seconds": round(seconds, 3),
                "prompt_tokens": usage.prompt_tokens if usage else None,
                "completion_tokens": usage.completion_tokens if usage else None,
                "failed_attempts": failed,
                "fell_back_to": fell_back_to,
                "route": route,
            }
        )
    return out


def _failures(route: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The attempts that failed (backend, error type, message), and the backend that
    answered instead when it is another one (``None`` when nothing fell back)."""
    failed = [
        {
            "backend": a["backend"],
            "retry": a["retry"],
            "error_type": a.get("error_type"),
            "error": a.get("error"),
        }
        for a in route.get("attempts", [])
        if a["outcome"] != "ok"
    ]
    served = route.get("backend")
    moved = served is not None and any(f["backend"] != served for f in failed)
    return failed, served if moved else None


def _print_turn(t: dict[str, Any], router: Router) -> None:
    r = t["route"]
    print(f"  user       {t['user']}")
    print(f"  assistant  {_oneline(t['answer'])}")
    print(
        f"  route      {r['backend']} (tier {r['tier']}, zone {r['zone']}); "
        f"the policy required tier {r['required_tier']}"
    )
    for i, reason in enumerate(r["reasons"]):
        print(f"  {'why' if i == 0 else '':<10} {reason}")
    excluded = [c for c in r["candidates"] if not c["eligible"]]
    for i, c in enumerate(excluded):
        print(f"  {'excluded' if i == 0 else '':<10} {c['backend']}: {'; '.join(c['reasons'])}")
    for i, f in enumerate(t["failed_attempts"]):
        retry = f", retry {f['retry']}" if f["retry"] else ""
        error = (f["error"] or "").removeprefix(f"{f['backend']}: ")
        detail = f" ({error})" if error else ""
        label = "failed" if i == 0 else ""
        print(f"  {label:<10} {f['backend']}{retry}: {f['error_type']}{detail}")
    if t["fell_back_to"] is not None:
        print(f"  {'fallback':<10} fell back to {t['fell_back_to']}")
    policy = router.policies[r["team"]].policy
    for cls in r["classification"].get("pii", []):
        action = policy.privacy.action(cls)
        print(f"  {'data':<10} {cls} detected: policy {r['team']} says {action}")
    needed, served = r["required_tier"], r["tier"]
    if served is not None and TIER_RANK[needed] > TIER_RANK[served]:
        configured = {c["tier"] for c in r["candidates"]}
        if needed not in configured:
            print(
                f"  {'note':<10} tier {needed} is not configured, so tier {served} answered; "
                f"to add it, {HOW_TO[needed]}"
            )
    cost = r.get("cost_usd")
    money = f", cost ${cost:.6f}" if cost is not None else ""
    print(
        f"  {'usage':<10} {t['prompt_tokens']} prompt + {t['completion_tokens']} completion "
        f"tokens in {t['seconds']:.1f} s{money}"
    )


def _oneline(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
