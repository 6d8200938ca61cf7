"""The telemetry examples run, the docs name every attribute, the global SDK is picked up
when configured after the router was built, and the overhead benchmark runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import router.telemetry
from router.telemetry import attributes as A

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "telemetry.md"


def run_python(args: list[str], env: dict[str, str] | None = None, timeout: float = 60):
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    base.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_console_example_prints_the_routed_trace() -> None:
    proc = run_python([str(ROOT / "examples" / "telemetry_console.py")])
    assert proc.returncode == 0, proc.stderr
    spans = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"name"')]
    names = [s["name"] for s in spans]
    assert names.count("route default") == 1 and names.count("chat fake-model") == 3
    (root,) = [s for s in spans if s["name"] == "route default"]
    assert root["attributes"]["hybrid_router.fallbacks"] == 1
    assert all(s["parent_id"] == root["context"]["span_id"] for s in spans if s is not root)
    assert "gen_ai.client.operation.duration" in proc.stdout
    assert "answer: Paris." in proc.stderr


class _Collector(BaseHTTPRequestHandler):
    """Records the path of every OTLP/HTTP POST; answers 200 with an empty body."""

    seen: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_otlp_example_exports_to_a_loopback_collector(collector: ThreadingHTTPServer) -> None:
    pytest.importorskip(
        "opentelemetry.exporter.otlp.proto.http",
        reason="the OTLP example needs opentelemetry-exporter-otlp-proto-http",
    )
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    proc = run_python(
        [str(ROOT / "examples" / "telemetry_otlp.py")],
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
    )
    assert proc.returncode == 0, proc.stderr
    assert "/v1/traces" in collector.seen  # type: ignore[attr-defined]
    assert "/v1/metrics" in collector.seen  # type: ignore[attr-defined]
    assert f"exported to {endpoint}" in proc.stderr


def test_a_global_sdk_set_after_the_router_was_built_is_used() -> None:
    script = textwrap.dedent(
        """
        import json
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from router import FakeBackend, Router
        from router.classify.complexity import HeuristicScorer
        from router.telemetry import TelemetryObserver

        class Spy(FakeBackend):
            seen = []
            def chat(self, request, *, timeout=None, headers=None):
                self.seen.append(headers)
                return super().chat(request, timeout=timeout, headers=headers)

        kw = {"scorer": HeuristicScorer()}
        import inspect
        if "telemetry" not in inspect.signature(Router.__init__).parameters:
            kw["observer"] = TelemetryObserver()
        r = Router([Spy("small")], **kw)
        r.chat("before any SDK")
        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        tp = TracerProvider()
        tp.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(tp)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        r.chat("after")
        names = sorted(s.name for s in exporter.get_finished_spans())
        data = reader.get_metrics_data()
        metric_names = sorted({m.name for rm in data.resource_metrics
                               for sm in rm.scope_metrics for m in sm.metrics})
        print(json.dumps({"spans": names, "metrics": metric_names,
                          "headers": [bool(h and "traceparent" in h) for h in Spy.seen]}))
        """
    )
    proc = run_python(["-c", script])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["spans"] == ["chat fake-model", "route default"]
    assert A.METRIC_OPERATION_DURATION in out["metrics"]
    assert A.METRIC_REQUESTS in out["metrics"]
    assert out["headers"] == [False, True]


def test_docs_name_every_attribute_event_and_metric() -> None:
    doc = DOC.read_text("utf-8")
    names = {
        v
        for k, v in vars(A).items()
        if k.isupper() and isinstance(v, str) and "." in v and not v.startswith("http")
    }
    missing = sorted(n for n in names if f"`{n}`" not in doc and n not in doc)
    assert missing == []
    assert f'`hybrid_router.schema_version = "{A.SCHEMA_VERSION}"`' in doc


def test_public_surface_is_small_and_sorted() -> None:
    assert router.telemetry.__all__ == sorted(router.telemetry.__all__)
    assert "TelemetryObserver" in router.telemetry.__all__


def test_bench_reports_the_overhead_figures() -> None:
    from router.bench.telemetry import prompt, run

    assert len(prompt()) == 2000
    result = run(n=60, rounds=2, warmup=5)
    for key in (
        "telemetry_off_us_p50",
        "telemetry_on_us_p50",
        "telemetry_added_us",
        "observer_hooks_added_us",
    ):
        assert isinstance(result[key], float)
    assert result["telemetry_off_us_p50"] > 0 and result["telemetry_on_us_p50"] > 0


def test_docs_code_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), flags=re.S)
    assert blocks
    for code in blocks:
        proc = run_python(["-c", code])
        assert proc.returncode == 0, f"{code}\n{proc.stderr}"
