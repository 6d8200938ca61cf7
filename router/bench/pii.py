"""How well personal and secret data is found: ``--suite pii``.

Scores the classifier's scan (:func:`router.classify.classifier.scan`, what every request
goes through) on hand-written sets shipped in ``router/bench/data``. A value counts as
found when a finding of its class covers at least half of it; a negative text counts as
flagged when anything is found in it. Texts tagged ``debatable`` (public figures, test card
numbers ...) are counted apart from the ordinary ones.

* The regression set, ``pii_positives.json`` (461 values of every class in 385 texts, in
  many formats, countries and scripts) and ``pii_negatives.json`` (308 texts that hold
  none: maths and GSM8K-style questions, code, versions, prices, order numbers, ISBNs,
  dates, places, titles). The detectors were fixed against its misses, so its figures
  guard against regressions; they are not an estimate of recall on real traffic.
  ``misses`` and ``false_positives`` list its texts.
* The held-out set, ``pii_holdout_positives.json`` (198 values in 129 texts) and
  ``pii_holdout_negatives.json`` (90 texts), written by a reviewer who had not read the
  detectors, at the same time and in the same way as the regression set's last part,
  which is its twin. Only its figures are reported (``holdout``), never its texts: fixing
  the detectors against it would make it one more regression set. Change a detector
  because of what it misses, and the estimate is gone.
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
    only the first ``n`` texts of each set), with the misses and false positives listed;
    under ``holdout``, the same figures on the held-out set, without its texts."""
    regression = _score(_cases("pii_positives.json"), _cases("pii_negatives.json"), n)
    holdout = _score(_cases("pii_holdout_positives.json"), _cases("pii_holdout_negatives.json"), n)
    del holdout["misses"], holdout["false_positives"]  # read them and it is held out no more
    return {**regression, "holdout": holdout}


def _score(
    positives: list[dict[str, Any]], negatives: list[dict[str, Any]], n: int | None
) -> dict[str, Any]:
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
