"""OpenTelemetry tracing and metrics for the router, following the GenAI conventions.

The router builds a :class:`TelemetryObserver` by default, on the global OpenTelemetry
providers (no-op until the application configures the SDK); ``Router(...,
tracer_provider=, meter_provider=, capture_content=)`` gives it others, ``telemetry=False``
turns it off.

Modules: :mod:`~router.telemetry.attributes` (every name, and the ``hybrid_router.*``
schema version), :mod:`~router.telemetry.tracing` (spans), :mod:`~router.telemetry.metrics`
(instruments), :mod:`~router.telemetry.content` (opt-in, masked message capture),
:mod:`~router.telemetry.circuits` (breaker events) and :mod:`~router.telemetry.observer`
(the hooks). Reference: ``docs/telemetry.md``.
"""

from router.telemetry.attributes import SCHEMA_VERSION
from router.telemetry.observer import TelemetryObserver

__all__ = ["SCHEMA_VERSION", "TelemetryObserver"]
