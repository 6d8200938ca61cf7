"""``hybrid-router classify``: what the classifier sees in a request."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from router.classify.classifier import Classifier, check_labels
from router.classify.complexity import default_scorer
from router.cli.common import (
    add_request_args,
    batch_items,
    batch_mode,
    emit,
    parse_labels,
    single_text,
)
from router.errors import InvalidRequest, RouterError
from router.messages import parse_request


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classify",
        help="classify a request: personal data, task, complexity, tokens",
        description="Classify a request without routing it. Nothing leaves the machine.",
    )
    add_request_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    classifier = Classifier(default_scorer())
    labels = parse_labels(args.label)
    if batch_mode(args):
        return _batch(classifier, labels)
    request = parse_request(single_text(args))
    c = classifier.classify(request, check_labels(labels))
    if args.json:
        emit(c.to_dict())
    else:
        pii = ", ".join(sorted(c.data_classes)) or "none"
        print(f"task: {c.task}\ncomplexity: {c.complexity:.3f}\ntokens: {c.tokens}\npii: {pii}")
        for d in c.detections:
            print(f"  {d.data_class} at {d.start}-{d.end} (confidence {d.confidence:.2f})")
    return 0


def _batch(classifier: Classifier, labels: dict[str, str]) -> int:
    failed = 0
    tasks: Counter[str] = Counter()
    pii: Counter[str] = Counter()
    n = 0
    for line, item, error in batch_items():
        if error is None and item is not None:
            try:
                item_labels = {**labels, **check_labels(item.pop("labels", None))}
                # Lines recorded for explain --batch carry these; classify has no use for
                # them but checks them alike, so one traffic file serves both commands.
                for key in ("team", "conversation_id"):
                    value = item.pop(key, None)
                    if value is not None and not isinstance(value, str):
                        raise InvalidRequest("must be a string", field=key)
                request = parse_request(item.pop("messages"), **item)
                c = classifier.classify(request, item_labels)
            except RouterError as exc:
                error = f"line {line}: {exc}"
            else:
                n += 1
                tasks[c.task] += 1
                pii.update(c.data_classes)
                emit({**c.to_dict(), "line": line})
                continue
        failed += 1
        emit({"error": error, "line": line})
    summary = ", ".join(f"{k} {v}" for k, v in tasks.most_common()) or "none"
    with_pii = ", ".join(f"{k} {v}" for k, v in pii.most_common()) or "none"
    print(
        f"classified {n} request(s), {failed} error(s); tasks: {summary}; pii: {with_pii}",
        file=sys.stderr,
    )
    return 2 if failed else 0
