"""Embeddings on Vertex AI: the two wires its models speak, as google-genai sends them.

Gemini embedding models (``gemini-embedding-001``) take ``batchEmbedContents``: one
request per text, its settings under ``embedContentConfig``. The others
(``text-embedding-005``, ``text-multilingual-embedding-002``, ...) take ``predict``:
one instance per text (``content``, ``task_type``, ``title``), ``parameters`` for the
request (``outputDimensionality``, ``autoTruncate``); its reply counts each text's tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pocketflow.providers import EmbeddingRequest
from pocketflow_gemini.replies import ReplyContext, load_json, vectors_of

PREDICT_INPUTS = 250
"""Texts per ``predict`` request, Vertex AI's limit (which also caps a request at 20,000
tokens: lower it for long texts with ``embed_async(..., batch_size=...)``)."""
_INSTANCE_OPTIONS = {"taskType": "task_type", "task_type": "task_type", "title": "title"}
"""Options that belong to each ``predict`` instance, by the name the instance uses."""


def speaks_batch_embed(model: str) -> bool:
    """Whether ``model`` embeds through ``batchEmbedContents`` (a Gemini model) rather
    than ``predict`` (the rule google-genai applies on Vertex AI)."""
    return "gemini" in model.rsplit("/", 1)[-1]


def batch_embed_body(request: EmbeddingRequest) -> dict[str, Any]:
    """The ``batchEmbedContents`` body: options (``taskType``, ``title``,
    ``autoTruncate``) and ``dimensions`` go into each text's ``embedContentConfig``."""
    config: dict[str, Any] = dict(request.options)
    if request.dimensions is not None:
        config["outputDimensionality"] = request.dimensions
    requests = []
    for text in request.texts:
        one: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
        if config:
            one["embedContentConfig"] = dict(config)
        requests.append(one)
    return {"requests": requests}


def predict_body(request: EmbeddingRequest) -> dict[str, Any]:
    """The ``predict`` body: ``taskType``/``task_type`` and ``title`` go into each
    instance, any other option (``autoTruncate``) and ``dimensions`` into ``parameters``."""
    instance_options: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    for key, value in request.options.items():
        name = _INSTANCE_OPTIONS.get(key)
        if name is None:
            parameters[key] = value
        else:
            instance_options[name] = value
    if request.dimensions is not None:
        parameters["outputDimensionality"] = request.dimensions
    body: dict[str, Any] = {
        "instances": [{"content": text, **instance_options} for text in request.texts]
    }
    if parameters:
        body["parameters"] = parameters
    return body


def parse_predictions(
    text: str, count: int, context: ReplyContext
) -> tuple[list[list[float]], int]:
    """The vectors of a ``predict`` reply, checked to be ``count`` lists of numbers, and
    the tokens its texts counted."""
    predictions = load_json(text, context).get("predictions")
    if not isinstance(predictions, list) or len(predictions) != count:
        got = len(predictions) if isinstance(predictions, list) else "no"
        raise context.malformed(f"the reply has {got} predictions for {count} texts")
    embeddings = [
        prediction.get("embeddings") if isinstance(prediction, Mapping) else None
        for prediction in predictions
    ]
    vectors = vectors_of(embeddings, context)
    tokens = 0
    for embedding in embeddings:
        statistics = embedding.get("statistics") if isinstance(embedding, Mapping) else None
        counted = statistics.get("token_count") if isinstance(statistics, Mapping) else None
        if isinstance(counted, int | float) and not isinstance(counted, bool):
            tokens += int(counted)
    return vectors, tokens
