"""How well personal and secret data is found: ``--suite pii``.

Scores the classifier's scan (:func:`router.classify.classifier.scan`, what every request
goes through) on two hand-written sets shipped in ``router/bench/data``:

* ``pii_positives.json``: texts with the values they hold (253 values of every class in
  244 texts, in many formats, countries and scripts). A value counts as found when a
  finding of its class covers at least half of it.
* ``pii_negatives.json``: 205 texts that hold none (maths and GSM8K-style questions,
  code, versions, prices, order numbers, ISBNs, dates, places, titles). The 22 tagged
  ``debatable`` (public figures, test card numbers ...) are counted apart from the 183
  ordinary ones.

The sets were written by this project's reviewers, and the detectors were then fixed
against their misses: the figures guard against regressions, they are not a held-out
estimate of recall on real traffic. ``misses`` and ``false_positives`` list the texts.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

from router.classify.classifier import scan


def _cases(name: str) -> list[dict[str, Any]]:
    text = resources.files("router.bench").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def _found(text: str, value: str, cls: str, findings: list[Any]) -> bool:
    start = text.index(value)
    end = start + len(value)
    covered = max(
        (max(0, min(end, e) - max(start, s)) for c, s, e, _, _ in findings if c == cls),
        default=0,
    )
    return covered >= len(value) / 2


def run(n: int | None = None) -> dict[str, Any]:
    """Recall per class on the positives and the share of negatives flagged (``n``: score
    only the first ``n`` texts of each set)."""
    positives, negatives = _cases("pii_positives.json"), _cases("pii_negatives.json")
    if n is not None:
        positives, negatives = positives[:n], negatives[:n]
    values, hits = Counter(), Counter()
    misses: list[str] = []
    for case in positives:
        findings = scan(case["text"])
        for want in case["expect"]:
            values[want["class"]] += 1
            if _found(case["text"], want["value"], want["class"], findings):
                hits[want["class"]] += 1
            else:
                misses.append(f"{want['class']}: {case['text']}")
    flagged: Counter[str] = Counter()
    false_positives: list[str] = []
    ordinary = debatable = debatable_flagged = 0
    for case in negatives:
        classes = {f[0] for f in scan(case["text"])}
        if case["tag"].startswith("debatable"):
            debatable += 1
            debatable_flagged += bool(classes)
            continue
        ordinary += 1
        if classes:
            flagged.update(classes)
            false_positives.append(f"{','.join(sorted(classes))}: {case['text']}")
    total = sum(values.values())
    return {
        "values": total,
        "recall": round(sum(hits.values()) / total, 4) if total else None,
        "recall_by_class": {c: round(hits[c] / values[c], 4) for c in sorted(values)},
        "ordinary_texts": ordinary,
        "ordinary_flagged": len(false_positives),
        "ordinary_flagged_share": round(len(false_positives) / ordinary, 4) if ordinary else None,
        "flagged_by_class": dict(sorted(flagged.items())),
        "debatable_texts": debatable,
        "debatable_flagged": debatable_flagged,
        "misses": misses,
        "false_positives": false_positives,
    }
