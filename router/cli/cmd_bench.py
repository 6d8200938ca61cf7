"""``hybrid-router bench``: measure the router on this machine and print figures.

Suites: ``overhead`` (default: classification, decision and whole ``chat()`` through fake
backends, and async throughput), ``telemetry`` (tracing cost with no SDK configured),
``llama`` (tokens per second through the router vs llama-cpp-python directly, on SmolLM2),
``stress`` (2,000 requests against a fault-injecting server), ``pii`` (recall and false
positives of the personal-data detectors on the shipped labelled texts).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from router.cli.common import positive_int

SUITES = ("overhead", "telemetry", "llama", "stress", "pii")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure the router's overhead (and more) on this machine",
        description="Measure the router on this machine and print the figures. Suites: "
        "overhead (the default: classification, decision and a whole chat() call through "
        "fake backends, and async throughput), telemetry (the cost of tracing with no "
        "OpenTelemetry SDK configured), llama (tokens per second through the router against "
        "llama-cpp-python directly, on SmolLM2), stress (2,000 requests against a "
        "fault-injecting server), pii (recall and false positives of the personal-data "
        "detectors on the shipped labelled texts).",
    )
    p.add_argument(
        "--suite", choices=SUITES, default="overhead", help="what to measure (default: overhead)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "-n", type=positive_int, default=None, help="timed requests (suite default if unset)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"router.bench.{args.suite}")
    print(f"running bench suite {args.suite} ...", file=sys.stderr)
    kwargs = {"n": args.n} if args.n is not None else {}
    result = module.run(**kwargs)
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0
