"""The ``litellm.acompletion`` arguments for an :class:`~pocketflow.providers.LLMRequest`.

LiteLLM takes the OpenAI Chat Completions form (messages, ``tools``, ``tool_choice``,
``response_format``) and turns it into each vendor's own; so this is that form, plus
the connection settings (key, base URL, timeout, headers) and LiteLLM's retries off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketflow.capabilities import ToolChoice, ToolSpec
from pocketflow.parts import ImagePart, TextPart, ToolCall, ToolResult
from pocketflow.providers import LLMRequest, Message
from pocketflow.schema import strict, vendor_form

NO_RETRIES: Mapping[str, int] = {"num_retries": 0, "max_retries": 0}
"""LiteLLM's retries (``num_retries``) and the vendor SDK's under it (``max_retries``) off."""

DECIDED_HERE = frozenset({"stream", "model", "messages", "num_retries", "max_retries"})
"""Options the provider sets itself, which a caller's ``options`` may not override."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and how calls go: the key (None: LiteLLM reads the vendor's own variable),
    base URL, timeout in seconds and extra headers."""

    api_key: str | None = field(default=None, repr=False)
    api_base: str | None = None
    timeout: float = 120.0
    headers: Mapping[str, str] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        """The connection as ``acompletion``/``aembedding`` keyword arguments."""
        out: dict[str, Any] = {"timeout": self.timeout, **NO_RETRIES}
        if self.api_key is not None:
            out["api_key"] = self.api_key
        if self.api_base is not None:
            out["api_base"] = self.api_base
        if self.headers:
            out["extra_headers"] = dict(self.headers)
        return out


def completion_kwargs(
    request: LLMRequest, connection: Connection, *, native_schema: bool = True
) -> dict[str, Any]:
    """Everything ``litellm.acompletion`` is called with, except ``stream``.

    Structured output is a strict ``json_schema`` response format when the model takes
    one (``native_schema``; else it is in the system prompt already), tools are function
    tools; ``request.options`` are passed through unchanged and win over the fields set
    from the request (not over the model, the messages or the retries).
    """
    kwargs: dict[str, Any] = {"model": request.model, "messages": messages_of(request)}
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_tokens"] = request.max_tokens
    if request.stop:
        kwargs["stop"] = list(request.stop)
    if request.seed is not None:
        kwargs["seed"] = request.seed
    if request.output is not None and native_schema:
        json_schema: dict[str, Any] = {
            "name": request.output.name,
            "schema": vendor_form(request.output.schema, strict),
            "strict": True,
        }
        if request.output.description:
            json_schema["description"] = request.output.description
        kwargs["response_format"] = {"type": "json_schema", "json_schema": json_schema}
    if request.tools:
        kwargs["tools"] = [_tool(spec) for spec in request.tools]
        if request.tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(request.tool_choice)
    kwargs.update(connection.kwargs())
    for key, value in request.options.items():
        if key not in DECIDED_HERE:
            kwargs[key] = value
    return kwargs


def messages_of(request: LLMRequest) -> list[dict[str, Any]]:
    """The conversation in the OpenAI form, the system prompt first."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    for message in request.messages:
        if isinstance(message.content, str):
            messages.append({"role": message.role, "content": message.content})
        else:
            messages += _messages_of_parts(message)
    return messages


def _messages_of_parts(message: Message) -> list[dict[str, Any]]:
    """Tool results become ``tool`` messages (first: they answer the calls before them),
    tool calls the assistant's ``tool_calls``, text and images content parts."""
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
