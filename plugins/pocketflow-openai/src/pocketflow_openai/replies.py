"""Reading Chat Completions replies straight from their JSON (no SDK models built).

A whole reply becomes an :class:`~pocketflow.providers.LLMResponse`; a stream's
chunks are folded by :class:`StreamedReply`. A reply that is not what the API
promises raises :class:`~pocketflow.errors.MalformedResponseError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketflow.errors import MalformedResponseError
from pocketflow.parts import ToolCall
from pocketflow.providers import LLMResponse, Usage, first_line

REQUEST_ID_HEADER = "x-request-id"


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """Who was asked and how the HTTP reply looked: for the response and for errors."""

    provider: str
    model: str
    status: int | None
    request_id: str | None

    def malformed(self, reason: str) -> MalformedResponseError:
        """A MalformedResponseError saying ``reason``, located and with status and request id."""
        return MalformedResponseError(
            reason,
            provider=self.provider,
            model=self.model,
            status=self.status,
            request_id=self.request_id,
        )


def parse_completion(content: bytes, context: ReplyContext) -> LLMResponse:
    """The :class:`LLMResponse` in a Chat Completions reply body."""
    try:
        data = json.loads(content)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        snippet = first_line(content.decode("utf-8", "replace"), 80)
        raise context.malformed(f"the reply is not JSON ({error}): {snippet!r}") from error
    if not isinstance(data, dict):
        raise context.malformed(f"the reply is a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise context.malformed("the reply has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise context.malformed("the reply's first choice has no message")
    text = _text(message.get("content"), context)
    refusal = message.get("refusal")
    if not text and isinstance(refusal, str):
        text = refusal  # so a refused structured output says why it does not fit
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise context.malformed("the message's tool_calls is not a list")
    return LLMResponse(
        text=text,
        model=_model(data, context),
        provider=context.provider,
        usage=parse_usage(data.get("usage")),
        finish_reason=_text_or_none(choice.get("finish_reason")),
        request_id=context.request_id,
        tool_calls=[_tool_call(call, context) for call in calls],
        response_id=data.get("id") if isinstance(data.get("id"), str) else None,
    )


def _tool_call(call: Any, context: ReplyContext) -> ToolCall:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise context.malformed("a tool call has no function name")
    return ToolCall(
        str(call.get("id") or ""), function["name"], _arguments(function.get("arguments"), context)
    )


def _arguments(raw: Any, context: ReplyContext) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as error:
        raise context.malformed(f"a tool call's arguments are not JSON ({error})") from error
    if not isinstance(arguments, dict):
        raise context.malformed("a tool call's arguments are not a JSON object")
    return arguments


def parse_usage(usage: Any) -> Usage:
    """Token counts from a ``usage`` object: cached prompt tokens are cache reads.

    ``input_tokens`` is ``prompt_tokens`` as reported, cached tokens included. A count
    that is not a whole number is taken as 0: the answer is still good.
    """
    if not isinstance(usage, Mapping):
        return Usage()
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return Usage(
        input_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=_count(usage.get("completion_tokens")),
        cache_read_tokens=_count(cached),
    )


def _count(value: Any) -> int:
    """A token count as reported, or 0 when it is not a whole number (``"3"``, ``[1]``)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(content: Any, context: ReplyContext) -> str:
    if content is None:  # e.g. only tool calls, or a refusal
        return ""
    if not isinstance(content, str):
        raise context.malformed(f"the message content is a {type(content).__name__}, not text")
    return content


def _text_or_none(value: Any) -> str | None:
    """``value`` if it is a non-empty string (a model name, a finish reason), else None."""
    return value if isinstance(value, str) and value else None


def _model(data: Mapping[str, Any], context: ReplyContext) -> str:
    model = data.get("model")
    return model if isinstance(model, str) and model else context.model


@dataclass(slots=True)
class StreamedReply:
    """Folds ``chat.completion.chunk`` objects into the text deltas and a final response."""

    context: ReplyContext
    parts: list[str] = field(default_factory=list)
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, chunk: object) -> str:
        """Take one chunk; return its text delta ("" when it carries none)."""
        if not isinstance(chunk, dict):
            kind = type(chunk).__name__
            raise self.context.malformed(f"a stream chunk is a {kind}, not an object")
        self.model = _text_or_none(chunk.get("model")) or self.model
        if chunk.get("usage"):
            self.usage = parse_usage(chunk["usage"])
        choices = chunk.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return ""
        choice = choices[0]
        self.finish_reason = _text_or_none(choice.get("finish_reason")) or self.finish_reason
        delta = choice.get("delta")
        if isinstance(delta, dict) and delta.get("tool_calls"):
            self._add_calls(delta["tool_calls"])
        text = delta.get("content") if isinstance(delta, dict) else None
        if not text:
            return ""
        if not isinstance(text, str):
            raise self.context.malformed(f"a stream delta is a {type(text).__name__}, not text")
        self.parts.append(text)
        return text

    def _add_calls(self, deltas: Any) -> None:
        """Fold tool call deltas: the first of each index has id and name, every one a
        piece of the arguments' JSON."""
        if not isinstance(deltas, list):
            raise self.context.malformed("a stream delta's tool_calls is not a list")
        for delta in deltas:
            if not isinstance(delta, dict) or not isinstance(delta.get("index"), int):
                raise self.context.malformed("a streamed tool call has no index")
            call = self.calls.setdefault(delta["index"], {"id": "", "name": "", "arguments": ""})
            function = delta.get("function")
            function = function if isinstance(function, dict) else {}
            call["id"] = delta.get("id") or call["id"]
            call["name"] = function.get("name") or call["name"]
            call["arguments"] += function.get("arguments") or ""

    def response(self) -> LLMResponse:
        """The whole answer, once the stream has ended."""
        calls = [
            ToolCall(c["id"], c["name"], _arguments(c["arguments"], self.context))
            for _, c in sorted(self.calls.items())
        ]
        return LLMResponse(
            tool_calls=calls,
            text="".join(self.parts),
            model=self.model or self.context.model,
            provider=self.context.provider,
            usage=self.usage,
            finish_reason=self.finish_reason,
            request_id=self.context.request_id,
        )
