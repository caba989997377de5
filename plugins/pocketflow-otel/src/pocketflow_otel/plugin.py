"""The entry point: a tracer when an OpenTelemetry SDK is configured, else nothing.

The entry point names :func:`make_plugin`, which the plugin manager calls each time
plugins load. Without a configured tracer provider it returns an object with no hooks,
so PocketFlow keeps its unobserved speed (OpenTelemetry's API would only make no-op
spans) and a program that does not trace does not even import OpenTelemetry.
Configure the SDK before the first flow runs, or call
``pocketflow.plugins.reset_plugins()`` after configuring it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketflow_otel.tracing import FlowTracer


class Idle:
    """The plugin while no tracer provider is configured: it implements no hook."""


def tracing_configured() -> bool:
    """True when the process has a real tracer provider (an SDK), not the API's default."""
    if "opentelemetry.trace" not in sys.modules and not os.environ.get(
        "OTEL_PYTHON_TRACER_PROVIDER"
    ):
        return False  # nobody can have set a provider without importing the API
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def make_plugin() -> FlowTracer | Idle:
    """The plugin object for this load of the plugins."""
    if not tracing_configured():
        return Idle()
    from opentelemetry import metrics, trace

    from pocketflow_otel.tracing import FlowTracer

    return FlowTracer(trace.get_tracer_provider(), metrics.get_meter_provider())
