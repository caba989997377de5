"""What a LiteLLM model can do, from LiteLLM's own model table.

``litellm.get_model_info`` is a lookup in the table LiteLLM ships (no network: see
:mod:`pocketflow_litellm.loader`). A chat model takes tools if the table says it calls
functions, gets structured output from the vendor (``response_format`` with a JSON
schema, which LiteLLM turns into the vendor's form) if it supports response schemas, and
takes images if it supports vision; an embedding model makes embeddings. A model the
table does not know is taken at its word: tools, images and embeddings are passed
through, and structured output is asked for in the prompt.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pocketflow.capabilities import ALL_PARTS, Capabilities

DEFAULT_MAX_EMBEDDING_INPUTS = 128
"""Texts per embedding request unless ``max_embedding_inputs`` says otherwise (LiteLLM
splits further where a vendor takes fewer, as Bedrock's Titan does)."""

UNMAPPED = Capabilities(
    structured_output="prompt",
    tools=True,
    parts=ALL_PARTS,
    embeddings=True,
    max_embedding_inputs=DEFAULT_MAX_EMBEDDING_INPUTS,
)
"""A model LiteLLM's table does not list (a fine-tune, a new model, a custom endpoint)."""

PROVISIONAL = Capabilities(
    structured_output="json_schema",
    tools=True,
    parts=ALL_PARTS,
    embeddings=True,
    max_embedding_inputs=DEFAULT_MAX_EMBEDDING_INPUTS,
)
"""Until the table is loaded: what most models can do; a call re-checks once it is."""


def capabilities_of(
    litellm: ModuleType, model: str, max_embedding_inputs: int = DEFAULT_MAX_EMBEDDING_INPUTS
) -> Capabilities:
    """The capabilities LiteLLM's model table gives ``model`` (a LiteLLM model name)."""
    try:
        info: dict[str, Any] = dict(litellm.get_model_info(model))
    except Exception:  # LiteLLM raises a bare Exception for a model it has not mapped
        return UNMAPPED
    if info.get("mode") == "embedding":
        return Capabilities(embeddings=True, max_embedding_inputs=max_embedding_inputs)
    tools = bool(info.get("supports_function_calling"))
    parts = {"text"}
    if info.get("supports_vision"):
        parts.add("image")
    if tools:
        parts |= {"tool_call", "tool_result"}
    return Capabilities(
        structured_output="json_schema" if info.get("supports_response_schema") else "prompt",
        tools=tools,
        parts=frozenset(parts),
    )
