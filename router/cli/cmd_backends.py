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
from router.cli.common import add_tier_args, tier_kwargs
from router.config import BackendSpec
from router.errors import ConfigError


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


def _specs(args: argparse.Namespace) -> list[BackendSpec]:
    kwargs = tier_kwargs(args)  # refuses --large-* flags next to --config
    if args.config is not None:
        from router.config import load_config

        return load_config(args.config).backends
    from router.defaults import default_setup

    return default_setup(**kwargs).specs


def _build(spec: BackendSpec) -> Backend | str:
    """The backend, or why it cannot be built on this machine (e.g. its GGUF file is
    missing): one backend that cannot be built must not hide the others."""
    from router.backends.registry import build_backend

    try:
        return build_backend(spec)
    except ConfigError as exc:
        return str(exc)


def describe(backend: Backend, probe: bool = True) -> dict[str, Any]:
    """One backend as a JSON-ready dict: spec (no secrets), health, metadata."""
    out = _spec(backend.spec)
    if probe:
        h = backend.health()
        out["health"] = {"ok": h.ok, "detail": h.detail, "latency_ms": h.latency_ms}
    out["metadata"] = backend.metadata()
    return out


def describe_unbuilt(spec: BackendSpec, reason: str) -> dict[str, Any]:
    """A backend that could not be built: not OK, with the reason, and what its
    configuration says about the model (no probe, whatever ``--no-health`` says)."""
    from router.backends.registry import backend_class

    out = _spec(spec)
    out["health"] = {"ok": False, "detail": reason, "latency_ms": None}
    try:
        facts = getattr(backend_class(spec.kind), "describe", None)
        out["metadata"] = facts(spec) if facts is not None else {}
    except ConfigError:
        out["metadata"] = {}
    return out


def _spec(spec: BackendSpec) -> dict[str, Any]:
    fields = spec.model_dump(exclude={"options"}, exclude_none=True)
    return {**fields, "options": dict(spec.options)}


def run(args: argparse.Namespace) -> int:
    built: list[tuple[BackendSpec, Backend | str]] = []
    try:
        for spec in _specs(args):
            built.append((spec, _build(spec)))
        rows = [
            describe(b, probe=not args.no_health)
            if isinstance(b, Backend)
            else describe_unbuilt(spec, b)
            for spec, b in built
        ]
    finally:
        for _, b in built:
            if isinstance(b, Backend):
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
