"""The ``generateContent`` request body for an :class:`~pocketflow.providers.LLMRequest`.

Messages become ``contents`` (the assistant is the ``model`` role), the system prompt
``systemInstruction``, sampling settings ``generationConfig``; structured output is
``responseMimeType: application/json`` with a ``responseJsonSchema``; tools are
``functionDeclarations`` with ``parametersJsonSchema``. Tool calls go back as
``functionCall`` parts carrying the thought signature the model gave them (kept as a
:class:`~pocketflow.parts.VendorPart`), tool results as ``functionResponse`` parts.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from pocketflow.capabilities import ToolChoice, ToolSpec
from pocketflow.errors import UnsupportedRequestError
from pocketflow.parts import ImagePart, Part, TextPart, ToolCall, ToolResult, VendorPart
from pocketflow.providers import EmbeddingRequest, LLMRequest, Message
from pocketflow_gemini import GEMINI

SIGNATURE = "thought_signature"
"""The ``type`` of a vendor part holding the thought signature of one tool call."""

ROLES = {"user": "user", "assistant": "model"}
CONFIG_OPTIONS = frozenset(
    {"topP", "topK", "candidateCount", "presencePenalty", "frequencyPenalty",
     "responseLogprobs", "logprobs", "thinkingConfig", "responseModalities",
     "mediaResolution", "speechConfig"}
)  # fmt: skip
"""Options that belong in ``generationConfig``; any other option is a top-level field."""


def generate_body(request: LLMRequest) -> dict[str, Any]:
    """The JSON body of a ``generateContent`` (or ``streamGenerateContent``) call.

    Options are passed through unchanged and win over the fields set from the request:
    generation settings (``topP``, ``thinkingConfig``, ...) into ``generationConfig``,
    others (``safetySettings``, ``cachedContent``, ...) at the top level.
    """
    body: dict[str, Any] = {"contents": [_content(m) for m in request.messages]}
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    config: dict[str, Any] = {}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.seed is not None:
        config["seed"] = request.seed
    if request.output is not None:
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = dict(request.output.schema)
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _tool_choice(request.tool_choice)}
    for key, value in request.options.items():
        if key in CONFIG_OPTIONS:
            config[key] = value
        elif key == "generationConfig" and isinstance(value, dict):
            config.update(value)
        else:
            body[key] = value
    if config:
        body["generationConfig"] = config
    return body


def _content(message: Message) -> dict[str, Any]:
    role = ROLES.get(message.role)
    if role is None:
        raise UnsupportedRequestError(
            f"Gemini takes 'user' and 'assistant' messages (and a system prompt), "
            f"not a {message.role!r} message"
        )
    if isinstance(message.content, str):
        return {"role": role, "parts": [{"text": message.content}]}
    signatures = {
        p.data.get("call_id"): p.data.get("signature")
        for p in message.content
        if isinstance(p, VendorPart) and p.provider == GEMINI and p.data.get("type") == SIGNATURE
    }
    parts = [_part(p, signatures) for p in message.content if not isinstance(p, VendorPart)]
    return {"role": role, "parts": parts or [{"text": ""}]}


def _part(part: Part, signatures: dict[Any, Any]) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ImagePart):
        if part.url is not None:
            kind = part.media_type or mimetypes.guess_type(part.url)[0] or "image/jpeg"
            return {"fileData": {"fileUri": part.url, "mimeType": kind}}
        return {"inlineData": {"mimeType": part.media_type, "data": part.base64}}
    if isinstance(part, ToolCall):
        call: dict[str, Any] = {"name": part.name, "args": dict(part.arguments)}
        if part.id:
            call["id"] = part.id
        wire: dict[str, Any] = {"functionCall": call}
        if signatures.get(part.id):
            wire["thoughtSignature"] = signatures[part.id]
        return wire
    assert isinstance(part, ToolResult)
    key = "error" if part.is_error else "result"
    response: dict[str, Any] = {"name": part.name, "response": {key: part.content}}
    if part.call_id:
        response["id"] = part.call_id
    return {"functionResponse": response}


def _declaration(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "parametersJsonSchema": dict(spec.parameters),
    }


def _tool_choice(choice: ToolChoice) -> dict[str, Any]:
    if choice == "auto":
        return {"mode": "AUTO"}
    if choice == "required":
        return {"mode": "ANY"}
    if choice == "none":
        return {"mode": "NONE"}
    return {"mode": "ANY", "allowedFunctionNames": [choice]}


BATCH_EMBED_INPUTS = 100
"""Texts per ``batchEmbedContents`` request, at most (on the Gemini API and Vertex AI)."""


def embed_body(request: EmbeddingRequest) -> dict[str, Any]:
    """The JSON body of a ``batchEmbedContents`` call: one request per text.

    ``dimensions`` is ``outputDimensionality``; options (``taskType``, ``title``) go
    into every request.
    """
    model = f"models/{request.model}"
    requests = []
    for text in request.texts:
        one: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            one["outputDimensionality"] = request.dimensions
        one.update(request.options)
        requests.append(one)
    return {"requests": requests}
