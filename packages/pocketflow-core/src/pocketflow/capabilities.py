"""What a request may ask of a provider beyond text, and what a provider can do.

A provider declares :class:`Capabilities` (per model, through
``LLMProvider.capabilities_for``); the core checks a request against them before
anything is sent, and picks how to ask for structured output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

StructuredMechanism = Literal["json_schema", "tool", "prompt"]
"""How a provider gets output that fits a schema:

* ``json_schema`` - the vendor's own structured output (OpenAI's strict
  ``response_format``, Anthropic's ``output_config.format``);
* ``tool`` - a tool whose input is the schema, which the model is made to call;
* ``prompt`` - the schema is put in the system prompt and the text is parsed
  (the core does this itself for providers that declare nothing better).
"""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do with a model.

    ``parts`` names the message part kinds it takes ("text", "image", "tool_call",
    "tool_result"); ``tools`` whether it takes tools; ``structured_output`` how it
    gets schema-valid output. ``embeddings`` says whether it turns texts into vectors
    (:meth:`~pocketflow.providers.LLMProvider.embed`), at most
    ``max_embedding_inputs`` texts per vendor request (the core splits longer lists);
    ``embedding_dimensions`` is the length of the model's vectors when known (the core
    refuses an embedding fallback of another length before calling it).
    """

    structured_output: StructuredMechanism = "prompt"
    tools: bool = False
    parts: frozenset[str] = frozenset({"text"})
    embeddings: bool = False
    max_embedding_inputs: int = 1
    embedding_dimensions: int | None = None


TEXT_ONLY = Capabilities()
"""The default for a provider that declares nothing."""

ALL_PARTS = frozenset({"text", "image", "tool_call", "tool_result"})


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The structured output a request asks for: a ``name`` and a JSON ``schema``.

    ``schema`` is as the user's type gives it; :mod:`pocketflow.schema` turns it into
    the forms the vendors want (``closed``, ``strict``).
    """

    name: str
    schema: Mapping[str, Any]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the vendor sees it: ``name``, ``description`` and a JSON schema of its
    arguments (``parameters``, an object schema)."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )


ToolChoice = str | None
"""``None``/"auto" (the model decides), "required" (some tool), "none", or a tool's name."""
