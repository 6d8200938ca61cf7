"""``hybrid-router backends``: every backend with its spec, health and model metadata.

In-process models are not loaded for this: their metadata (architecture, experts, context
length, parameter count, chat template) comes from the GGUF header. Network backends are
probed once each (``--no-health`` skips the probes).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from router.backends.base import Backend
from router.cli.cmd_demo import add_tier_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backends",
        help="list backends with their health and model metadata",
        description="List every backend of a configuration (default: the embedded "
        "default) with its spec, a health probe and what its model file says about it.",
    )
    p.add_argument("--config", help="router configuration file (default: the embedded default)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-health", action="store_true", help="skip the health probes")
    add_tier_args(p)
    p.set_defaults(func=run)


def _backends(args: argparse.Namespace) -> list[Backend]:
    from router.backends.registry import build_backend

    if args.config is not None:
        from router.config import load_config

        specs = load_config(args.config).backends
    else:
        from router.defaults import default_setup

        kw = dict(
            large_gguf=args.large_gguf, large_url=args.large_url, large_model=args.large_model
        )
        specs = default_setup(**kw).specs
    built: list[Backend] = []
    try:
        for spec in specs:
            built.append(build_backend(spec))
    except BaseException:
        for b in built:
            b.close()
        raise
    return built


def describe(backend: Backend, probe: bool = True) -> dict[str, Any]:
    """One backend as a JSON-ready dict: spec (no secrets), health, metadata."""
    spec = backend.spec.model_dump(exclude={"options"}, exclude_none=True)
    out: dict[str, Any] = {**spec, "options": dict(backend.spec.options)}
    if probe:
        h = backend.health()
        out["health"] = {"ok": h.ok, "detail": h.detail, "latency_ms": h.latency_ms}
    out["metadata"] = backend.metadata()
    return out


def run(args: argparse.Namespace) -> int:
    backends = _backends(args)
    try:
        rows = [describe(b, probe=not args.no_health) for b in backends]
    finally:
        for b in backends:
            b.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    for i, row in enumerate(rows):
        if i:
            print()
        _print(row)
    return 0


def _print(row: dict[str, Any]) -> None:
    def line(label: str, value: Any) -> None:
        print(f"  {label:<18} {value}")

    print(f"{row['name']}  (tier {row['tier']}, zone {row['zone']}, kind {row['kind']})")
    line("model", row["model"])
    line("context window", f"{row['context_window']} tokens")
    line("capabilities", ", ".join(k for k, v in row["capabilities"].items() if v) or "none")
    price = row["price"]
    line("price", f"${price['input_per_mtok']:g} in / ${price['output_per_mtok']:g} out per Mtok")
    if "health" in row:
        h = row["health"]
        ms = f", {h['latency_ms']:.0f} ms" if h["latency_ms"] is not None else ""
        line("health", f"{'ok' if h['ok'] else 'NOT OK'}: {h['detail']}{ms}")
    for key, value in row["metadata"].items():
        if key == "chat_template" and isinstance(value, str):
            flat = " ".join(value.split())
            value = flat if len(flat) <= 60 else f"{flat[:57]}... ({len(value)} characters)"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000:
            value = f"{value:,}"
        line(key.replace("_", " "), value)
