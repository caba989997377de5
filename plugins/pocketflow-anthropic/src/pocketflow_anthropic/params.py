"""An :class:`~pocketflow.providers.LLMRequest` as a Messages API request: the JSON
body, and the SDK request options (headers, query, timeout) for ``client.post``.

What is mapped, and how:

* ``system`` (the core has already lifted system messages into it) -> ``system``.
* ``messages`` -> ``messages``, with consecutive messages of the same role merged
  (their texts joined by a blank line), since the API wants user and assistant turns
  to alternate. The API also wants the conversation to open with a user turn: when it
  opens with an assistant message (or has no message at all, only a system prompt),
  a one-character user turn, :data:`OPENING_USER_TURN`, is put first. A trailing
  assistant message is sent as is: the API treats it as the start of the reply
  (a "prefill") and returns only its continuation.
* ``max_tokens`` -> ``max_tokens``; when the request has none, the provider's
  configured default (``max_tokens`` under ``[providers.anthropic]``), else
  :data:`DEFAULT_MAX_TOKENS`. The API requires it.
* ``stop`` -> ``stop_sequences``.
* ``temperature`` -> ``temperature``, sent only when the caller sets it.
* ``seed`` is not supported by the Messages API and is ignored.
* Message parts -> content blocks: text -> ``text``, an image -> ``image`` (a
  ``base64`` or ``url`` source), a tool call -> ``tool_use``, a tool result ->
  ``tool_result`` (put first in its user turn, as the API wants).
* ``tools`` -> ``tools`` (``name``, ``description``, ``input_schema``);
  ``tool_choice`` "auto"/"required"/"none"/a name -> ``{"type": "auto"|"any"|"none"}``
  or ``{"type": "tool", "name": ...}``.
* ``output`` -> with the ``native`` mechanism, ``output_config.format`` (a
  ``json_schema`` made by the SDK's ``transform_schema``); with the ``tool``
  mechanism (models before structured outputs), a tool :func:`output_tool_name`
  whose input is the schema, which the model is made to call (``tool_choice``
  that tool, or "any" when the request has tools of its own); the reply's call of
  it is read back as the answer's JSON text.
* ``options`` (any other keyword given to the facade) are passed through as
  ``messages.create`` would take them: ``extra_headers``, ``extra_query``,
  ``extra_body`` and ``timeout`` as request options; ``user_profile_id`` and
  ``workspace_id`` as the headers ``messages.create`` sends them in; every other key
  (``metadata``, ``tools``, ``thinking``, ``top_k``, a ``system`` given as blocks,
  ...) into the JSON body, overriding the mapped values. ``extra_body`` is merged
  over the body last, as the SDK does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anthropic

from pocketflow.capabilities import ToolSpec
from pocketflow.parts import ImagePart, Part, TextPart, ToolCall, VendorPart
from pocketflow.providers import LLMRequest, Message
from pocketflow.schema import vendor_form

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when neither the request nor the configuration sets it."""

OPENING_USER_TURN = "."
"""The user turn put before a conversation that would open with the assistant."""

MERGE_SEPARATOR = "\n\n"
"""What joins the texts of consecutive messages of the same role."""

HEADER_PARAMETERS = {
    "user_profile_id": "anthropic-user-profile-id",
    "workspace_id": "anthropic-workspace-id",
}
"""Parameters of ``messages.create`` that it sends as headers, not in the body."""

# Chosen by the provider, never by options: it decides whether to stream.
_RESERVED = frozenset({"stream"})

OutputMechanism = Literal["native", "tool"]
"""How the provider asks for structured output: ``output_config.format``, or a forced tool."""

OUTPUT_TOOL_PREFIX = "respond_with_"
"""The forced tool of the ``tool`` mechanism is named this plus the output's name."""


def output_tool_name(request: LLMRequest) -> str:
    """The name of the tool that carries structured output (``tool`` mechanism)."""
    assert request.output is not None
    return (OUTPUT_TOOL_PREFIX + request.output.name)[:64]


@dataclass(slots=True)
class MessagesCall:
    """What ``client.post("/v1/messages", ...)`` is given for one request."""

    body: dict[str, Any]
    options: anthropic.RequestOptions = field(default_factory=lambda: anthropic.RequestOptions())
    output_tool: str | None = None
    """The forced tool that carries structured output, when the ``tool`` mechanism is used."""


Content = str | list[dict[str, Any]]


def merge_turns(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The messages as alternating API turns, opening with a user turn."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        content: Content = (
            message.content
            if isinstance(message.content, str)
            else [content_block(part) for part in message.content if _ours(part)]
        )
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] = _join(turns[-1]["content"], content)
        else:
            turns.append({"role": message.role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": OPENING_USER_TURN})
    for turn in turns:
        if isinstance(turn["content"], list):  # tool results first, as the API wants
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return turns


def _join(before: Content, after: Content) -> Content:
    if isinstance(before, str) and isinstance(after, str):
        return before + MERGE_SEPARATOR + after
    return _blocks(before) + _blocks(after)


def _blocks(content: Content) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _ours(part: Part) -> bool:
    return not isinstance(part, VendorPart) or part.provider == "anthropic"


def content_block(part: Part) -> dict[str, Any]:
    """One message part as a Messages API content block."""
    if isinstance(part, VendorPart):
        return dict(part.data)  # a thinking block, sent back as it came
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        if part.url:
            return {"type": "image", "source": {"type": "url", "url": part.url}}
        source = {"type": "base64", "media_type": part.media_type, "data": part.base64}
        return {"type": "image", "source": source}
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.arguments)}
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": part.call_id,
        "content": part.content,
    }
    if part.is_error:
        block["is_error"] = True
    return block


def _native_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    return anthropic.transform_schema(dict(schema))


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "input_schema": dict(spec.parameters),
    }


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice == "required":
        return {"type": "any"}
    if choice in ("auto", "none"):
        return {"type": choice}
    return {"type": "tool", "name": choice}


def build_call(
    request: LLMRequest,
    default_max_tokens: int,
    *,
    stream: bool,
    mechanism: OutputMechanism = "native",
) -> MessagesCall:
    """The body and request options that carry ``request`` (streamed or not);
    ``mechanism`` says how structured output is asked for."""
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else default_max_tokens,
        "messages": merge_turns(request.messages),
    }
    if request.system:
        body["system"] = request.system
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
    call = MessagesCall(body)
    tools = [_tool(spec) for spec in request.tools]
    if request.tool_choice is not None and tools:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    if request.output is not None and mechanism == "native":
        schema = vendor_form(request.output.schema, _native_schema)
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    elif request.output is not None:
        call.output_tool = output_tool_name(request)
        description = request.output.description or "Give the answer in this form."
        tools.append(
            {"name": call.output_tool, "description": description,
             "input_schema": dict(request.output.schema)}
        )  # fmt: skip
        forced = {"type": "tool", "name": call.output_tool}
        body["tool_choice"] = {"type": "any"} if request.tools else forced
    if tools:
        body["tools"] = tools
    if request.options:
        _add_options(call, request.options)
    return call


def _add_options(call: MessagesCall, options: Mapping[str, Any]) -> None:
    reserved = _RESERVED.intersection(options)
    if reserved:
        raise ValueError(
            f"The option {sorted(reserved)[0]!r} cannot be passed to the anthropic provider: "
            "call stream_llm_async(...) to stream, complete_async(...) not to."
        )
    headers: dict[str, Any] = {}
    extra_headers: Mapping[str, Any] | None = None
    for key, value in options.items():
        if key in HEADER_PARAMETERS:
            headers[HEADER_PARAMETERS[key]] = value
        elif key == "extra_headers":
            extra_headers = value
        elif key == "extra_query":
            if value is not None:
                call.options["params"] = value
        elif key == "extra_body":
            if value is not None:
                call.options["extra_json"] = value
        elif key == "timeout":
            call.options["timeout"] = value
        elif key == "output_config" and isinstance(call.body.get(key), dict):
            call.body[key] = {**call.body[key], **value}  # e.g. effort beside our format
        else:
            call.body[key] = value
    headers.update(extra_headers or {})
    if headers:
        call.options["headers"] = headers
