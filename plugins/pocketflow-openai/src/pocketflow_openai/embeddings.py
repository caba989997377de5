"""The Embeddings API (``POST /embeddings``): request bodies, replies, capabilities.

An OpenAI embedding model is one whose name contains "embed"; it takes at most 2,048
inputs per request (the core splits longer lists). Vectors are asked for as JSON
floats (``encoding_format = "float"``, which every OpenAI-compatible server speaks);
a reply in base64 (asked for with ``options={"encoding_format": "base64"}``, smaller
on the wire) is decoded too.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from array import array
from typing import Any

from pocketflow.capabilities import Capabilities
from pocketflow.providers import EmbeddingRequest, EmbeddingResponse, first_line
from pocketflow_openai.replies import ReplyContext, parse_usage

EMBEDDINGS = "/embeddings"
MAX_INPUTS = 2048
"""Inputs per request the Embeddings API takes."""

KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
"""Vector lengths of OpenAI's embedding models (without ``dimensions``)."""


def is_embedding_model(model: str) -> bool:
    """True for a model that makes embeddings: its name contains "embed"."""
    return "embed" in model.lower()


def embedding_capabilities(model: str) -> Capabilities:
    """What an embedding ``model`` can do: embeddings, 2,048 inputs a request."""
    return Capabilities(
        embeddings=True,
        max_embedding_inputs=MAX_INPUTS,
        embedding_dimensions=KNOWN_DIMENSIONS.get(model),
    )


def embedding_body(request: EmbeddingRequest) -> dict[str, Any]:
    """The JSON body: model, input, float encoding, ``dimensions`` when asked; then the
    options, unchanged, which win over the fields set from the request."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": list(request.texts),
        "encoding_format": "float",
    }
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    body.update(request.options)
    return body


def parse_embeddings(content: bytes, context: ReplyContext) -> EmbeddingResponse:
    """The :class:`EmbeddingResponse` in an Embeddings reply body (vectors by ``index``)."""
    try:
        data = json.loads(content)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        snippet = first_line(content.decode("utf-8", "replace"), 80)
        raise context.malformed(f"the reply is not JSON ({error}): {snippet!r}") from error
    if not isinstance(data, dict):
        raise context.malformed(f"the reply is a JSON {type(data).__name__}, not an object")
    items = data.get("data")
    if not isinstance(items, list):
        raise context.malformed("the reply has no 'data' list of embeddings")
    vectors: list[list[float] | None] = [None] * len(items)
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise context.malformed(f"embedding {position} of the reply is not an object")
        index = item.get("index", position)
        if type(index) is not int or not 0 <= index < len(items) or vectors[index] is not None:
            raise context.malformed(f"embedding {position} of the reply has a bad index {index!r}")
        vectors[index] = _vector(item.get("embedding"), index, context)
    model = data.get("model")
    return EmbeddingResponse(
        vectors=[vector for vector in vectors if vector is not None],
        model=model if isinstance(model, str) and model else context.model,
        provider=context.provider,
        usage=parse_usage(data.get("usage")),
    )


def _vector(value: Any, index: int, context: ReplyContext) -> list[float]:
    if isinstance(value, str):  # encoding_format = "base64": little-endian float32s
        try:
            packed = array("f", base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as error:
            raise context.malformed(f"embedding {index} is not valid base64 floats") from error
        if sys.byteorder != "little":
            packed.byteswap()
        return packed.tolist()
    if not isinstance(value, list) or not value:
        raise context.malformed(f"embedding {index} of the reply has no vector")
    for number in value:
        if type(number) is not float and type(number) is not int:
            raise context.malformed(f"embedding {index} holds {number!r}, not a number")
    return value
