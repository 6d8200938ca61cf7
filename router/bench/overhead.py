"""The router's own overhead, measured through fake backends (no model time at all).

``hybrid-router bench --json`` prints::

    {"classify_us_p50", "decide_us_p50", "chat_us_p50", "chat_us_p99", "async_rps", ...}

for 2,000-character prompts. Every timed call gets a different prompt, so no cache of any
kind can flatter the figures. Telemetry is on, as by default, with no SDK configured. Each
figure is taken in three rounds and the best round reported, with all rounds listed.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from router.backends.fake import FakeBackend
from router.config import Price
from router.core import Router
from router.decision import decide
from router.messages import parse_request

_WORDS = (
    "the router sends each request to the model that fits its policy and explains why "
    "latency budget privacy tier context window fallback retry stream token cost team "
    "small large proprietary local remote model answer question because when which "
    "history summary careful analysis of the results shows that our approach works well"
).split()


def prompts(n: int, size: int = 2000, seed: int = 7) -> list[str]:
    """``n`` different English-like prompts of exactly ``size`` characters."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words: list[str] = []
        length = 0
        while length < size:
            w = rng.choice(_WORDS)
            words.append(w)
            length += len(w) + 1
        text = " ".join(words)[:size]
        out.append(text[:-1] + "?")
    return out


def bench_router(telemetry: bool = True) -> Router:
    return Router(
        [
            FakeBackend("local-small", tier="small", record=False, reply="ok"),
            FakeBackend("local-large", tier="large", record=False, reply="ok"),
            FakeBackend(
                "cloud",
                tier="proprietary",
                zone="remote",
                record=False,
                reply="ok",
                price=Price(input_per_mtok=2.5, output_per_mtok=10.0),
            ),
        ],
        telemetry=telemetry,
    )


def _timed(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for item in items:
        t0 = clock()
        fn(item)
        out.append((clock() - t0) / 1000.0)
    return out


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _async_rps(router: Router, texts: list[str], concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one(text: str) -> None:
        async with sem:
            await router.achat(text)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(t) for t in texts))
    return len(texts) / (time.perf_counter() - t0)


def run(
    n: int = 2000, concurrency: int = 1000, async_requests: int = 10_000, rounds: int = 3
) -> dict[str, Any]:
    """Each figure is measured in ``rounds`` rounds and the best round is reported (on a
    shared machine, neighbours only ever add time), with every round's figure alongside."""
    router = bench_router()
    for t in prompts(200, seed=1):
        router.chat(t)
    classifier = router.classifier
    team = router.policies[router.default_team]
    specs = router._specs  # measuring the decision alone
    classify, decide_, chat, rps = [], [], [], []
    for i in range(rounds):
        requests = [parse_request(t) for t in prompts(n, seed=100 + i)]
        classify.append(_timed(classifier.classify, requests))
        classified = [classifier.classify(r) for r in requests]
        decide_.append(_timed(lambda c: decide(c, team, specs, {}), classified))
        chat.append(_timed(router.chat, prompts(n, seed=200 + i)))
        texts = prompts(async_requests, seed=300 + i)
        rps.append(asyncio.run(_async_rps(router, texts, concurrency)))
    best_chat = min(chat, key=statistics.median)
    return {
        "classify_us_p50": round(min(statistics.median(x) for x in classify), 1),
        "decide_us_p50": round(min(statistics.median(x) for x in decide_), 1),
        "chat_us_p50": round(statistics.median(best_chat), 1),
        "chat_us_p99": round(_pct(best_chat, 0.99), 1),
        "async_rps": round(max(rps)),
        "chat_us_p50_rounds": [round(statistics.median(x), 1) for x in chat],
        "async_rps_rounds": [round(x) for x in rps],
        "prompt_chars": 2000,
        "requests": n,
        "rounds": rounds,
        "async_concurrency": concurrency,
        "scorer": classifier.scorer.name,
    }
