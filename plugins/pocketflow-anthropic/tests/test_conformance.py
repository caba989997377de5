"""The anthropic provider passes the core's provider conformance suite: on a model
with native structured output, and on one that gets it through a forced tool."""

from __future__ import annotations

from anthropic_wire import AnthropicWire

from pocketflow.testing import ProviderConformance


class TestAnthropicConformance(ProviderConformance):
    wire = AnthropicWire()


class OlderModelWire(AnthropicWire):
    """A model from before structured outputs: the provider forces a tool instead."""

    model = "anthropic:claude-3-5-haiku-latest"


class TestAnthropicForcedToolConformance(ProviderConformance):
    wire = OlderModelWire()
