"""Trace and measure routed requests, printed to the console.

The application, not the library, configures the OpenTelemetry SDK: here a console span
exporter and a metric reader that prints on shutdown. The router picks up the global
providers by itself (or pass ``tracer_provider=`` / ``meter_provider=`` to ``Router``).

    python examples/telemetry_console.py

Prints one JSON span per line: a ``route default`` span, and under it one ``chat {model}``
span per attempt (here a failure, a retry, then a fallback that answers), then the metrics.
"""

from __future__ import annotations

import sys

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from router import FakeBackend, Router, load_policy

RESOURCE = Resource.create({"service.name": "telemetry-console-example"})


def configure() -> tuple[TracerProvider, MeterProvider]:
    """What an application does once at start-up."""
    tracer_provider = TracerProvider(resource=RESOURCE)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda s: s.to_json(indent=None) + "\n"))
    )
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=sys.stdout), export_interval_millis=60_000
    )
    meter_provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def main() -> None:
    tracer_provider, meter_provider = configure()
    # The built-in default policy, with retries after 1 ms instead of 200 ms.
    fast_retries = "routing: {backoff_initial_ms: 1, backoff_jitter_ms: 1}"
    policy = load_policy("default.yaml", text=f"version: 1\nextends: default\n{fast_retries}\n")
    backends = [
        FakeBackend("local-small", script=["server_error", "server_error"]),
        FakeBackend("local-large", tier="large", reply="Paris."),
    ]
    with Router(backends, [policy]) as router:
        answer = router.chat("What is the capital of France?")
    print(f"answer: {answer.text} (from {answer.route.backend})", file=sys.stderr)
    tracer_provider.shutdown()
    meter_provider.shutdown()  # the reader exports once more on shutdown


if __name__ == "__main__":
    main()
