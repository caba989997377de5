"""The litellm provider passes the core's provider conformance suite on two of
LiteLLM's vendors: Mistral (the OpenAI-like wire) and Anthropic (the Messages wire)."""

from __future__ import annotations

from types import ModuleType

import pytest
from wires import AnthropicWire, MistralWire

from pocketflow.testing import ProviderConformance


@pytest.fixture(autouse=True)
def _loaded(litellm_module: ModuleType) -> None:
    """litellm imported once for the session, before the suite's mocks start."""


class TestLiteLLMMistralConformance(ProviderConformance):
    wire = MistralWire()


class TestLiteLLMAnthropicConformance(ProviderConformance):
    wire = AnthropicWire()
