"""OpenTelemetry tracing and GenAI metrics for PocketFlow flows (the ``otel`` plugin).

Installed, it traces every flow run once an OpenTelemetry SDK tracer provider is
configured before the first flow runs: a root span per run, a span per node step and
batch item, and a CLIENT span per LLM call with the GenAI semantic conventions'
attributes and metrics (see :mod:`pocketflow_otel.tracing`). Without an SDK it offers
no hooks and costs nothing.
"""
