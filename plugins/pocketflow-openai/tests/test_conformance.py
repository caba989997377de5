"""The openai provider passes the core's provider and embedding conformance suites."""

from __future__ import annotations

from openai_wire import OpenAIEmbeddingWire, OpenAIWire

from pocketflow.testing import EmbeddingConformance, ProviderConformance


class TestOpenAIConformance(ProviderConformance):
    wire = OpenAIWire()


class TestOpenAIEmbeddingConformance(EmbeddingConformance):
    wire = OpenAIEmbeddingWire()
