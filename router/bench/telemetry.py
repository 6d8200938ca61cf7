"""What telemetry costs when no OpenTelemetry SDK is configured: ``--suite telemetry``.

Times ``Router.chat`` through a :class:`~router.backends.fake.FakeBackend` on a
2,000-character prompt, once with telemetry off and once with a
:class:`~router.telemetry.TelemetryObserver` on the API's global no-op providers, calls
interleaved so that drift hits both sides alike. The figure to watch is
``telemetry_added_us``: the difference of the two medians (target: at most 5 µs). A call
costs hundreds of microseconds here, so that difference carries a few microseconds of
noise; ``observer_hooks_added_us`` times the same hooks without the rest of the request.

Times are the benchmarking thread's CPU time, so other processes on a shared machine do not
count (they still disturb caches). Both routers use the heuristic complexity scorer, so the
figures do not depend on which scorer is installed.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from typing import Any

from router.backends.fake import FakeBackend
from router.classify.complexity import HeuristicScorer

PROMPT_CHARS = 2000
_SENTENCE = "Summarise the trade-offs of running a small model locally versus a hosted API. "


def prompt(chars: int = PROMPT_CHARS) -> str:
    """A plain prompt of exactly ``chars`` characters, free of personal data."""
    text = _SENTENCE * (chars // len(_SENTENCE) + 1)
    return text[:chars]


def _router(telemetry: bool) -> Any:
    from router.core import Router

    backend = FakeBackend("local-small", reply="A short scripted answer.", record=False)
    # telemetry on: the router builds its own TelemetryObserver on the global providers
    return Router([backend], scorer=HeuristicScorer(), telemetry=telemetry)


def _hooks_us(router: Any, n: int, repeat: int = 5) -> float:
    """Microseconds for the hooks of one plain request, called straight on the router's
    observer (no classification, no backend): a low-noise view of the same overhead. The
    best of ``repeat`` runs, as for any micro-benchmark: slower runs measure the machine."""
    from router.observe import RequestContext
    from router.route import Attempt

    obs, team = router.observer, router.policies[router.default_team]
    spec = next(iter(router.backends.values())).spec
    attempt = Attempt(spec.name, spec.tier, "ok", 1.0)
    clock = time.thread_time_ns  # CPU time: other processes on the machine do not count
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for _ in range(n):
            ctx = RequestContext(team=team, stream=False, started=0.0)
            obs.request_started(ctx)
            obs.decided(ctx, 0.0)
            token = obs.attempt_started(ctx, spec, 0)
            obs.headers(token)
            obs.attempt_finished(ctx, spec, token, attempt, None, None)
            obs.request_finished(ctx, None)
        best = min(best, (clock() - t0) / n / 1000.0)
    return best


def run(
    n: int = 6000, *, rounds: int = 3, warmup: int = 300, chars: int = PROMPT_CHARS
) -> dict[str, Any]:
    """Median microseconds per ``Router.chat`` call with telemetry off and on (no SDK).

    ``n`` calls on each side, in ``rounds`` rounds; each figure is the median over rounds
    of that round's median, which keeps one noisy stretch from deciding the result.
    """
    off, on = _router(False), _router(True)
    text = prompt(chars)
    for _ in range(warmup):
        off.chat(text)
        on.chat(text)
    per_round = max(1, n // rounds)
    p50_off: list[float] = []
    p50_on: list[float] = []
    clock = time.thread_time_ns  # CPU time: other processes on the machine do not count
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            t_off: list[int] = []
            t_on: list[int] = []
            for i in range(per_round):
                # Alternate which side goes first, so neither is favoured by warm caches.
                order = ((off, t_off), (on, t_on)) if i % 2 else ((on, t_on), (off, t_off))
                for router, times in order:
                    t0 = clock()
                    router.chat(text)
                    times.append(clock() - t0)
            p50_off.append(statistics.median(t_off) / 1000.0)
            p50_on.append(statistics.median(t_on) / 1000.0)
            gc.collect()
        hooks = 10_000
        hooks_off = _hooks_us(off, hooks)
        hooks_on = _hooks_us(on, hooks)
    finally:
        if enabled:
            gc.enable()
    off_us = statistics.median(p50_off)
    on_us = statistics.median(p50_on)
    added = statistics.median(b - a for a, b in zip(p50_off, p50_on, strict=True))
    return {
        "suite": "telemetry",
        "calls": per_round * rounds,
        "prompt_chars": chars,
        "telemetry_off_us_p50": round(off_us, 2),
        "telemetry_on_us_p50": round(on_us, 2),
        "telemetry_added_us": round(added, 2),
        "observer_hooks_added_us": round(hooks_on - hooks_off, 2),
    }


def main(n: int = 6000) -> dict[str, Any]:
    """Run and print the figures as one JSON line."""
    result = run(n)
    print(json.dumps(result))
    return result


if __name__ == "__main__":  # pragma: no cover
    main()
