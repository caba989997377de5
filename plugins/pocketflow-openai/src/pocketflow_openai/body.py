"""The Chat Completions request body for an :class:`~pocketflow.providers.LLMRequest`."""

from __future__ import annotations

import json
from typing import Any

from pocketflow.capabilities import ToolChoice, ToolSpec
from pocketflow.parts import ImagePart, TextPart, ToolCall, ToolResult
from pocketflow.providers import LLMRequest, Message
from pocketflow.schema import strict, vendor_form
from pocketflow_openai.connection import MAX_TOKENS_PARAMS

NOT_PASSED_THROUGH = frozenset({"stream"})
"""Options the provider decides itself: ``complete`` never streams, ``stream`` always does."""


def chat_body(request: LLMRequest, max_tokens_param: str) -> dict[str, Any]:
    """The JSON body: model, messages (``system`` first), sampling settings, structured
    output and tools, then options.

    ``max_tokens`` is sent as ``max_tokens_param`` unless the options name either
    spelling themselves. Structured output is a strict ``json_schema``
    ``response_format``; tools are ``function`` tools. Options are passed through
    unchanged and win over the fields set from the request.
    """
    messages = [{"role": "system", "content": request.system}] if request.system else []
    for message in request.messages:
        if isinstance(message.content, str):
            messages.append({"role": message.role, "content": message.content})
        else:
            messages += _messages_of_parts(message)
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None and not any(p in request.options for p in MAX_TOKENS_PARAMS):
        body[max_tokens_param] = request.max_tokens
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.output is not None:
        json_schema: dict[str, Any] = {
            "name": request.output.name,
            "schema": vendor_form(request.output.schema, strict),
            "strict": True,
        }
        if request.output.description:
            json_schema["description"] = request.output.description
        body["response_format"] = {"type": "json_schema", "json_schema": json_schema}
    if request.tools:
        body["tools"] = [_tool(spec) for spec in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = _tool_choice(request.tool_choice)
    for key, value in request.options.items():
        if key not in NOT_PASSED_THROUGH:
            body[key] = value
    return body


def _messages_of_parts(message: Message) -> list[dict[str, Any]]:
    """A message of parts as Chat Completions messages: tool results become ``tool``
    messages (first, answering the calls before them), tool calls the assistant's
    ``tool_calls``, text and images content parts."""
    results = [p for p in message.parts if isinstance(p, ToolResult)]
    calls = [p for p in message.parts if isinstance(p, ToolCall)]
    content = [p for p in message.parts if isinstance(p, (TextPart, ImagePart))]
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in results
    ]
    if message.role == "assistant":
        if content or calls:
            text = "".join(p.text for p in content if isinstance(p, TextPart))
            reply: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                reply["tool_calls"] = [_call(call) for call in calls]
            out.append(reply)
    elif content:
        out.append({"role": message.role, "content": [_content_part(p) for p in content]})
    return out


def _content_part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    return {"type": "image_url", "image_url": {"url": part.data_url}}


def _call(call: ToolCall) -> dict[str, Any]:
    arguments = json.dumps(dict(call.arguments), ensure_ascii=False)
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def _tool(spec: ToolSpec) -> dict[str, Any]:
    function = {
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.parameters),
    }
    return {"type": "function", "function": function}


def _tool_choice(choice: ToolChoice) -> Any:
    if choice in ("auto", "required", "none"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def encode_body(body: dict[str, Any]) -> bytes:
    """``body`` as compact JSON bytes; option values that are pydantic models, dates
    or other objects are encoded as the SDK would (``model_dump``, ISO text)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_jsonable).encode()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_unset=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"An option value of type {type(value).__name__} cannot be sent as JSON.")


def stream_body(request: LLMRequest, max_tokens_param: str) -> dict[str, Any]:
    """The body of a streamed call: usage is asked for in a final chunk."""
    body = chat_body(request, max_tokens_param)
    body["stream"] = True
    body["stream_options"] = {"include_usage": True, **body.get("stream_options", {})}
    return body
