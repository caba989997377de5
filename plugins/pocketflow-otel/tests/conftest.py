"""Fixtures for pocketflow-otel: an SDK tracer provider with an in-memory exporter.

OpenTelemetry's global providers can be set once per process; the fixtures install
theirs by monkeypatching the API's globals instead, so other tests in the same session
run without tracing, as before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import opentelemetry.metrics._internal as metrics_globals
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pocketflow.plugins import reset_plugins
from pocketflow.runtime import reset_runtime

sys.path.insert(0, str(Path(__file__).parent))
from otel_support import Telemetry


@pytest.fixture
def telemetry(pocketflow_env: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """An SDK tracer and meter provider, installed before the plugins load."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    pocketflow_env.setattr(trace, "_TRACER_PROVIDER", tracer_provider)
    pocketflow_env.setattr(metrics_globals, "_METER_PROVIDER", meter_provider)
    reset_plugins()
    reset_runtime()
    yield Telemetry(exporter, reader)
    reset_plugins()
    reset_runtime()
