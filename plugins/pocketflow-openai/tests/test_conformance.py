"""The openai provider passes the core's provider conformance suite."""

from __future__ import annotations

from openai_wire import OpenAIWire

from pocketflow.testing import ProviderConformance


class TestOpenAIConformance(ProviderConformance):
    wire = OpenAIWire()
