"""``hybrid-router chat``: route one message and print the answer.

Without ``--config`` it uses the embedded default (SmolLM2-135M-Instruct in-process, plus
the tiers ``--large-*`` flags and the environment add), so
``hybrid-router chat "What is the capital of France?"`` works right after installation.
The answer goes to stdout and a one-line route summary to stderr; ``--json`` prints the whole
response (``route`` included), or with ``--stream`` one JSON chunk per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from router.cli.common import (
    add_request_args,
    add_tier_args,
    default_router_from_args,
    load_models,
    parse_labels,
    positive_int,
    single_text,
    tier_kwargs,
)
from router.core import Router


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "chat",
        help="route one message and print the answer",
        description="Route one message under a team's policy and print the answer, with "
        "the route on stderr. Without --config the embedded default model answers.",
    )
    add_request_args(p, batch=False)
    p.add_argument("--config", help="router configuration file (default: the embedded default)")
    p.add_argument("--team", help="team whose policy applies (default: the config's default)")
    p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    p.add_argument("--max-tokens", type=positive_int, default=None, help="answer length cap")
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampling temperature (default: the backend's)",
    )
    p.add_argument("--system", help="a system message to put first")
    add_tier_args(p)
    p.set_defaults(func=run)


def _router(args: argparse.Namespace) -> Router:
    if args.config is None:
        return default_router_from_args(args, load=False)[0]
    tier_kwargs(args)  # refuses --large-* flags next to --config
    return Router.from_config(args.config)


def run(args: argparse.Namespace) -> int:
    text = single_text(args)
    labels = parse_labels(args.label)
    messages = [{"role": "user", "content": text}]
    if args.system:
        messages.insert(0, {"role": "system", "content": args.system})
    params: dict[str, Any] = {}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        params["temperature"] = args.temperature
    router = _router(args)
    with router:
        if args.team is not None:
            router.policies[args.team]  # an unknown team fails before any model loads
        load_models(router)
        if args.stream:
            return _stream(router, messages, labels, args, params)
        resp = router.chat(messages, team=args.team, labels=labels, **params)
    if args.json:
        print(json.dumps(resp.to_dict(), ensure_ascii=False))
        return 0
    print(resp.text.strip())
    _summary(resp.route, resp.usage)
    return 0


def _stream(
    router: Router,
    messages: list[dict[str, str]],
    labels: dict[str, str],
    args: argparse.Namespace,
    params: dict[str, Any],
) -> int:
    last = None
    for chunk in router.stream(messages, team=args.team, labels=labels, **params):
        last = chunk
        if args.json:
            out = chunk.model_dump(exclude={"route"}, exclude_none=True)
            if chunk.route is not None:
                out["route"] = chunk.route.to_dict()
            print(json.dumps(out, ensure_ascii=False), flush=True)
        elif chunk.text:
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
        elif chunk.event == "restart":
            sys.stdout.write("\n[the answer restarts on another backend]\n")
    if not args.json:
        sys.stdout.write("\n")
        if last is not None:
            _summary(last.route, last.usage)
    return 0


def _summary(route: Any, usage: Any) -> None:
    if route is None:
        return
    tokens = f"; {usage.prompt_tokens}+{usage.completion_tokens} tokens" if usage else ""
    cost = f"; ${route.cost_usd:.6f}" if route.cost_usd is not None else ""
    fallbacks = f"; {route.fallbacks} fallback(s)" if route.fallbacks else ""
    print(
        f"route: {route.backend} (tier {route.tier}, zone {route.zone}; required tier "
        f"{route.required_tier}{tokens}{cost}{fallbacks})",
        file=sys.stderr,
    )
