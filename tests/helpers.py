"""Small builders shared by tests."""

from __future__ import annotations

import textwrap

from router import FakeBackend, Price, Router, TeamPolicy, load_policy


def three_tiers(**kw) -> list[FakeBackend]:
    """small (local, free), large (local, cheap), cloud (remote, priced)."""
    return [
        FakeBackend(
            "small", tier="small", zone="local", reply="small answer", **kw.get("small", {})
        ),
        FakeBackend(
            "large",
            tier="large",
            zone="local",
            reply="large answer",
            price=Price(input_per_mtok=0.05, output_per_mtok=0.1),
            **kw.get("large", {}),
        ),
        FakeBackend(
            "cloud",
            tier="proprietary",
            zone="remote",
            reply="cloud answer",
            price=Price(input_per_mtok=2.0, output_per_mtok=8.0),
            **kw.get("cloud", {}),
        ),
    ]


class FixedScorer:
    """A complexity scorer that always says the same thing."""

    name = "fixed"

    def __init__(self, value: float) -> None:
        self.value = value

    def score(self, turns) -> float:  # type: ignore[no-untyped-def]
        return self.value


FAST = "routing: {backoff_initial_ms: 1, backoff_max_ms: 5, backoff_jitter_ms: 1}\n"


def policy(text: str, team: str = "team", fast: bool = True) -> TeamPolicy:
    """A policy from YAML text (``version: 1`` added when missing). ``fast`` shortens the
    retry backoff to milliseconds unless the text sets ``routing`` itself."""
    body = textwrap.dedent(text).rstrip("\n") + "\n"
    if "version:" not in body:
        body = "version: 1\n" + body
    if fast and "routing:" not in body:
        body += FAST
    return load_policy(f"{team}.yaml", team=team, text=body)


def router_with(backends, *policies: TeamPolicy, complexity: float = 0.1, **kw) -> Router:
    """A router over ``backends`` with a fixed complexity score and no telemetry. Its
    ``default`` team is the built-in default with millisecond retry backoff."""
    teams = list(policies)
    if not any(p.team == "default" for p in teams):
        teams.append(policy("extends: default\n", team="default"))
    return Router(backends, teams, scorer=FixedScorer(complexity), telemetry=False, **kw)
