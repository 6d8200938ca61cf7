"""Throughput of in-process generation: the router versus llama-cpp-python called directly.

Both sides stream the same greedy completion (same model file, prompt, seed, ``max_tokens``
and llama.cpp settings, each on its own loaded copy of the model), in interleaved
repetitions so background load hits both alike. Reported per side: tokens per second over
the whole request (prompt processing included) and time to the first content token; then
the router's ratio and added time to first token, from the medians (and, less sensitive
to background load, the medians of the differences between adjacent runs).

    python -m router.bench.llama --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

PROMPT = "Write a short story about a robot who learns to paint."
N_CTX = 2048


def _timed(chunks: Iterator[Any], text_of: Any) -> tuple[float, float, str]:
    """(seconds to the first content, total seconds, text) for one streamed request."""
    t0 = time.perf_counter()
    first = None
    parts = []
    for chunk in chunks:
        text = text_of(chunk)
        if text:
            if first is None:
                first = time.perf_counter()
            parts.append(text)
    end = time.perf_counter()
    return (first or end) - t0, end - t0, "".join(parts)


def run(
    *,
    model_path: str | None = None,
    prompt: str = PROMPT,
    max_tokens: int = 64,
    repetitions: int = 8,
    warmup: int = 1,
    seed: int = 42,
    n_threads: int | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    """Run the comparison and return the figures (see the module docstring). ``n`` is
    ``hybrid-router bench -n``: the number of timed repetitions (one request per side)."""
    if n is not None:
        repetitions = n
    from llama_cpp import Llama

    from router.backends.llama_cpp import LlamaCppBackend
    from router.config import BackendSpec
    from router.core import Router
    from router.defaults import SMOLLM2_MODEL, smollm2_path

    path = model_path or str(smollm2_path())
    direct = Llama(model_path=path, n_ctx=N_CTX, n_threads=n_threads, seed=seed, verbose=False)
    spec = BackendSpec(
        name="bench",
        tier="small",
        zone="local",
        kind="llama_cpp",
        model=SMOLLM2_MODEL if model_path is None else "model",
        context_window=N_CTX,
        options={"model_path": path, "n_threads": n_threads, "seed": seed},
    )
    backend = LlamaCppBackend.from_spec(spec)
    backend.load()
    router = Router([backend], telemetry=False)
    messages = [{"role": "user", "content": prompt}]
    params = {"max_tokens": max_tokens, "temperature": 0.0, "seed": seed}

    def via_direct() -> tuple[float, float, str]:
        stream = direct.create_chat_completion(messages, stream=True, **params)
        return _timed(stream, lambda c: c["choices"][0]["delta"].get("content"))

    usage: list[int] = []

    def via_router() -> tuple[float, float, str]:
        chunks = []

        def tee(it: Iterator[Any]) -> Iterator[Any]:
            for c in it:
                chunks.append(c)
                yield c

        out = _timed(tee(router.stream(messages, **params)), lambda c: c.text)
        usage.append(chunks[-1].usage.completion_tokens)
        return out

    samples: dict[str, list[tuple[float, float]]] = {"direct": [], "router": []}
    texts = set()
    try:
        for rep in range(warmup + repetitions):
            order = [("direct", via_direct), ("router", via_router)]
            for name, fn in order if rep % 2 == 0 else order[::-1]:
                ttft, total, text = fn()
                texts.add(text)
                if rep >= warmup:
                    samples[name].append((ttft, total))
    finally:
        router.close()
        direct.close()
    tokens = usage[-1]
    med = {k: (statistics.median(t for t, _ in v), statistics.median(s for _, s in v))
           for k, v in samples.items()}  # fmt: skip
    direct_tok_s = tokens / med["direct"][1]
    router_tok_s = tokens / med["router"][1]
    return {
        "model": path.rsplit("/", 1)[-1],
        "prompt_chars": len(prompt),
        "completion_tokens": tokens,
        "repetitions": repetitions,
        "same_text": len(texts) == 1,
        "direct_tok_s": round(direct_tok_s, 2),
        "router_tok_s": round(router_tok_s, 2),
        "ratio": round(router_tok_s / direct_tok_s, 4),
        "direct_ttft_ms": round(med["direct"][0] * 1000, 2),
        "router_ttft_ms": round(med["router"][0] * 1000, 2),
        "ttft_added_ms": round((med["router"][0] - med["direct"][0]) * 1000, 2),
        "ttft_added_ms_pairwise_median": round(
            statistics.median(
                (r[0] - d[0]) * 1000
                for d, r in zip(samples["direct"], samples["router"], strict=True)
            ),
            2,
        ),
        "pairwise_ratio_median": round(
            statistics.median(
                d[1] / r[1] for d, r in zip(samples["direct"], samples["router"], strict=True)
            ),
            4,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m router.bench.llama", description=__doc__)
    p.add_argument("--model", help="a GGUF file (default: the embedded SmolLM2)")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--repetitions", type=int, default=8)
    p.add_argument("--threads", type=int, default=None, help="llama.cpp threads, both sides")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    out = run(
        model_path=a.model, max_tokens=a.max_tokens, repetitions=a.repetitions, n_threads=a.threads
    )
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:<24} {v}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
