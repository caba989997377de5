"""The gemini provider passes the core's provider conformance suite."""

from __future__ import annotations

from gemini_wire import GeminiWire

from pocketflow.testing import ProviderConformance


class TestGeminiConformance(ProviderConformance):
    wire = GeminiWire()
