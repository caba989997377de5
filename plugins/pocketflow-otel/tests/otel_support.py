"""What the tests read back from the OpenTelemetry SDK."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Telemetry:
    """What the SDK recorded during a test."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
