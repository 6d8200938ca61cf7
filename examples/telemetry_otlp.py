"""Send the router's traces and metrics to an OpenTelemetry Collector over OTLP/HTTP.

Needs ``opentelemetry-exporter-otlp-proto-http``. The collector's address comes from the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default here ``http://127.0.0.1:4318``); the
exporters post to ``/v1/traces`` and ``/v1/metrics`` under it.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python examples/telemetry_otlp.py

A collector that prints what it receives::

    receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:4318}}}}
    exporters: {debug: {verbosity: detailed}}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
        metrics: {receivers: [otlp], exporters: [debug]}
"""

from __future__ import annotations

import os
import sys

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from router import FakeBackend, Router

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"


def configure(endpoint: str) -> tuple[TracerProvider, MeterProvider]:
    """What an application does once at start-up: batch spans, export metrics each 10 s."""
    resource = Resource.create({"service.name": "telemetry-otlp-example"})
    base = endpoint.rstrip("/")
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=5))
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=5),
        export_interval_millis=10_000,
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def main() -> None:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_ENDPOINT)
    tracer_provider, meter_provider = configure(endpoint)
    backends = [
        FakeBackend("local-small", reply="Hello from the small model."),
        FakeBackend("local-large", tier="large", reply="Hello from the large model."),
    ]
    with Router(backends) as router:
        for prompt in ("Say hello.", "Say hello again, in French."):
            answer = router.chat(prompt)
            print(f"{answer.route.backend}: {answer.text}", file=sys.stderr)
        streamed = "".join(chunk.text for chunk in router.stream("Stream a greeting."))
        print(f"streamed: {streamed}", file=sys.stderr)
    # Shutting down flushes the batch of spans and the last metrics to the collector.
    tracer_provider.shutdown()
    meter_provider.shutdown()
    print(f"exported to {endpoint}", file=sys.stderr)


if __name__ == "__main__":
    main()
