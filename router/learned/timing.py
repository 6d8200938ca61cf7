"""Measure the learned scorer's cost per decision on this machine.

Run ``python -m router.learned.timing``. Prints the median time of one ``score()`` call for a
2,000-character and a 200-character prompt (each the median over several prompts of the best
of a few timed batches, which filters out scheduling noise), the model load time, and whether
scoring imported numpy (it must not).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import timeit

from router.learned.model import load_default

__all__ = ["measure"]

_WORDS = (
    "the court held that a contract for the sale of land must be in writing and signed by the "
    "party to be charged while a farmer sold 17 sheep at $45 each and bought 3 times as many "
    "goats how many animals remain which of the following best explains why the enzyme "
    "activity drops above 40 degrees statement 1 every group of prime order is cyclic "
    "statement 2 the kernel of a homomorphism is a normal subgroup"
).split()


def _prompts(length: int, count: int) -> list[str]:
    """Deterministic multiple-choice prompts of exactly ``length`` characters.

    About a third of the words get a numeric suffix, so a 2,000-character prompt has roughly
    as many distinct words (~150) as a real one, including unknown ones.
    """
    suffix = "\nA. 12\nB. 24\nC. 36\nD. 48\nAnswer:"
    out = []
    for k in range(count):
        words, size, i = [], 0, k
        while size < length:
            word = _WORDS[(i * 7 + k) % len(_WORDS)]
            if i % 3 == 0:
                word = f"{word}{i % 97}"
            words.append(word)
            size += len(word) + 1
            i += 1
        out.append(" ".join(words)[: length - len(suffix)] + suffix)
    return out


def measure(length: int, count: int = 20, number: int = 500) -> float:
    """Median seconds per ``score()`` call over ``count`` prompts of ``length`` characters."""
    scorer = load_default()
    per_prompt = []
    for prompt in _prompts(length, count):
        turns = [prompt]
        best = min(timeit.repeat(lambda t=turns: scorer.score(t), number=number, repeat=3))
        per_prompt.append(best / number)
    return statistics.median(per_prompt)


def main() -> int:
    start = time.perf_counter()
    load_default()
    load_ms = (time.perf_counter() - start) * 1e3
    result = {
        "median_us_2000_chars": round(measure(2000) * 1e6, 1),
        "median_us_200_chars": round(measure(200) * 1e6, 1),
        "load_ms": round(load_ms, 1),
        "numpy_imported": "numpy" in sys.modules,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
