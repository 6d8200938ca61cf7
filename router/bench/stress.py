"""Stress: 2,000 routed requests, 500 at a time, against fault-injecting servers.

Two :class:`~router.testing.faultserver.FaultServer` processes on 127.0.0.1 stand in for a
local model server and a remote API; each misbehaves on 10% of requests (refused
connections, delays, 429s, 500s, malformed JSON, cut streams, hangs). A third of the
requests carry personal data that the policy keeps local, a third carry data it redacts.
Printed counts::

    untyped_exceptions      errors that are not RouterError (must be 0)
    without_outcome         requests that neither answered nor raised in time (must be 0)
    forbidden_bodies        bodies the remote server received carrying protected data (0)
    overhead_ms_p50/p99     the router's own time per answered request (route.overhead_ms:
                            classifying, deciding, preparing and recording attempts)
    wall_minus_model_ms_*   wall time minus model time and backoff waits: also counts the
                            wait for the event loop, which 500 requests at once share
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

from router.backends.http import OpenAICompatibleBackend
from router.config import BackendSpec, Capabilities, Price
from router.core import Router
from router.errors import RouterError
from router.policy.load import load_policy
from router.testing.faultserver import FaultServerProcess

POLICY = """
version: 1
extends: default
privacy: {email: local_only, phone: local_only, iban: redact, person: redact}
latency: {deadline_ms: 30000, attempt_timeout_ms: 10000}
routing: {retries: 1, backoff_initial_ms: 10, backoff_max_ms: 50, backoff_jitter_ms: 10,
          retry_after_cap_ms: 100}
"""

_LOCAL = [
    "Email me at {n}.lee@example.com about the refund.",
    "Call me on +44 20 7946 {n:04d} tomorrow.",
]
_REDACT = ["Pay into GB82 WEST 1234 5698 7654 32 for Anna Kowalski, ref {n}."]
_PLAIN = ["What is the capital of France? ({n})", "Explain step by step why the sky is blue {n}."]
_PROTECTED = ("example.com", "+44 20 7946", "GB82 WEST", "Kowalski")


def _spec(name: str, tier: str, zone: str, url: str) -> BackendSpec:
    return BackendSpec(
        name=name,
        tier=tier,
        zone=zone,
        kind="openai_compatible",
        model="fault-model",  # type: ignore[arg-type]
        context_window=32768,
        price=Price(input_per_mtok=1.0 if zone == "remote" else 0.0),
        capabilities=Capabilities(streaming_usage=True),
        options={
            "base_url": url,
            "read_timeout": 1.5,
            "connect_timeout": 1.0,
            "max_connections": 600,
        },
    )


def _requests(n: int, seed: int) -> list[tuple[str, bool]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        group = rng.choice((_LOCAL, _REDACT, _PLAIN))
        out.append((rng.choice(group).format(n=i), rng.random() < 0.3))
    return out


async def _one(router: Router, text: str, stream: bool, stats: dict[str, Any]) -> None:
    t0 = time.perf_counter()
    try:
        if stream:
            route = None
            async for chunk in router.astream(text, team="stress"):
                route = chunk.route or route
        else:
            route = (await router.achat(text, team="stress")).route
    except RouterError as exc:
        stats["typed_errors"][type(exc).__name__] = (
            stats["typed_errors"].get(type(exc).__name__, 0) + 1
        )
        return
    except Exception as exc:  # what we count: must never happen
        stats["untyped"].append(f"{type(exc).__name__}: {exc}")
        return
    total_ms = (time.perf_counter() - t0) * 1000.0
    stats["ok"] += 1
    if route is not None:
        stats["overhead"].append(route.overhead_ms)
        model = sum(a.duration_ms for a in route.attempts)
        waited = sum(a.waited_ms for a in route.attempts)
        stats["wall_overhead"].append(max(total_ms - model - waited, 0.0))


async def _main(n: int, concurrency: int, fault_rate: float, seed: int) -> dict[str, Any]:
    with (
        FaultServerProcess(fault_rate=fault_rate, seed=seed) as local_srv,
        FaultServerProcess(fault_rate=fault_rate, seed=seed + 1) as remote_srv,
    ):
        backends = [
            OpenAICompatibleBackend.from_spec(
                _spec("local-a", "small", "local", local_srv.base_url)
            ),
            OpenAICompatibleBackend.from_spec(
                _spec("remote", "proprietary", "remote", remote_srv.base_url)
            ),
        ]
        policy = load_policy("stress.yaml", team="stress", text=POLICY)
        router = Router(backends, [policy], telemetry=False)
        stats: dict[str, Any] = {
            "ok": 0,
            "typed_errors": {},
            "untyped": [],
            "overhead": [],
            "wall_overhead": [],
        }
        sem = asyncio.Semaphore(concurrency)
        outcomes = 0

        async def guarded(text: str, stream: bool) -> None:
            nonlocal outcomes
            async with sem:
                try:
                    await asyncio.wait_for(_one(router, text, stream, stats), timeout=45)
                    outcomes += 1
                except asyncio.TimeoutError:
                    pass

        t0 = time.perf_counter()
        await asyncio.gather(*(guarded(t, s) for t, s in _requests(n, seed)))
        elapsed = time.perf_counter() - t0
        await router.aclose()
        remote_bodies = remote_srv.bodies
        forbidden = [b for b in remote_bodies if any(p in str(b) for p in _PROTECTED)]
        overhead = sorted(stats["overhead"]) or [0.0]
        wall = sorted(stats["wall_overhead"]) or [0.0]
        return {
            "requests": n,
            "concurrency": concurrency,
            "fault_rate": fault_rate,
            "answered": stats["ok"],
            "typed_errors": stats["typed_errors"],
            "untyped_exceptions": len(stats["untyped"]),
            "untyped_examples": stats["untyped"][:3],
            "without_outcome": n - outcomes,
            "forbidden_bodies": len(forbidden),
            "remote_bodies": len(remote_bodies),
            "faults_served": _count(local_srv.served + remote_srv.served),
            "overhead_ms_p50": round(statistics.median(overhead), 3),
            "overhead_ms_p99": round(
                overhead[min(len(overhead) - 1, int(0.99 * len(overhead)))], 3
            ),
            "wall_minus_model_ms_p50": round(statistics.median(wall), 3),
            "wall_minus_model_ms_p99": round(wall[min(len(wall) - 1, int(0.99 * len(wall)))], 3),
            "elapsed_s": round(elapsed, 2),
        }


def _count(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def run(n: int = 2000, concurrency: int = 500, fault_rate: float = 0.1, seed: int = 0):
    """Run the stress test and return its counts."""
    return asyncio.run(_main(n, concurrency, fault_rate, seed))
