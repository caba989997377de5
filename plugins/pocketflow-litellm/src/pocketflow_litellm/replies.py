"""LiteLLM's replies (OpenAI-shaped ``ModelResponse`` objects) as the core's responses.

A whole reply becomes an :class:`~pocketflow.providers.LLMResponse`; a stream's chunks
are folded by :class:`StreamedReply`; an embedding reply becomes an
:class:`~pocketflow.providers.EmbeddingResponse`. Fields are read by attribute with
defaults, since LiteLLM fills them differently per vendor; a reply without what the
API promises (no choices, arguments that are not JSON) raises
:class:`~pocketflow.errors.MalformedResponseError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pocketflow.errors import MalformedResponseError
from pocketflow.parts import ToolCall
from pocketflow.providers import EmbeddingResponse, LLMResponse, Usage

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "apim-request-id")
"""Where vendors put the id of an HTTP request (LiteLLM keeps them as ``llm_provider-*``)."""


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """Who was asked: the provider name and the LiteLLM model."""

    provider: str
    model: str

    def malformed(self, reason: str, request_id: str | None = None) -> MalformedResponseError:
        """A MalformedResponseError saying ``reason``, located."""
        return MalformedResponseError(
            reason, provider=self.provider, model=self.model, request_id=request_id
        )


def parse_completion(reply: Any, context: ReplyContext) -> LLMResponse:
    """The :class:`LLMResponse` in a ``litellm.acompletion`` reply."""
    request_id = request_id_of(reply)
    choices = getattr(reply, "choices", None)
    if not choices:
        raise context.malformed("the reply has no choices", request_id)
    choice = choices[0]
    message = getattr(choice, "message", None)
    if message is None:
        raise context.malformed("the reply's first choice has no message", request_id)
    content = getattr(message, "content", None)
    if content is not None and not isinstance(content, str):
        kind = type(content).__name__
        raise context.malformed(f"the message content is a {kind}, not text", request_id)
    calls = getattr(message, "tool_calls", None) or []
    return LLMResponse(
        text=content or "",
        model=_text(getattr(reply, "model", None)) or context.model,
        provider=context.provider,
        usage=parse_usage(getattr(reply, "usage", None)),
        finish_reason=_text(getattr(choice, "finish_reason", None)),
        request_id=request_id,
        tool_calls=[_tool_call(call, context, request_id) for call in calls],
        response_id=_text(getattr(reply, "id", None)),
        cost=_cost(reply),
    )


def _tool_call(call: Any, context: ReplyContext, request_id: str | None) -> ToolCall:
    function = getattr(call, "function", None)
    name = getattr(function, "name", None)
    if not isinstance(name, str) or not name:
        raise context.malformed("a tool call has no function name", request_id)
    arguments = arguments_of(getattr(function, "arguments", None), context, request_id)
    return ToolCall(str(getattr(call, "id", None) or ""), name, arguments)


def arguments_of(raw: Any, context: ReplyContext, request_id: str | None = None) -> dict[str, Any]:
    """A tool call's arguments (JSON text, or already a dict) as a dict."""
    if raw in (None, ""):
        return {}
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as error:
        reason = f"a tool call's arguments are not JSON ({error})"
        raise context.malformed(reason, request_id) from error
    if not isinstance(arguments, dict):
        raise context.malformed("a tool call's arguments are not a JSON object", request_id)
    return arguments


def parse_usage(usage: Any) -> Usage:
    """Token counts from LiteLLM's OpenAI-shaped ``usage``: cached prompt tokens are cache
    reads, ``cache_creation_input_tokens`` (Anthropic, Bedrock) cache writes."""
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        input_tokens=_count(getattr(usage, "prompt_tokens", 0)),
        output_tokens=_count(getattr(usage, "completion_tokens", 0)),
        cache_read_tokens=_count(getattr(details, "cached_tokens", 0)),
        cache_write_tokens=_count(getattr(usage, "cache_creation_input_tokens", 0)),
    )


def request_id_of(reply: Any) -> str | None:
    """The vendor's request id, from the response headers LiteLLM kept."""
    hidden = getattr(reply, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    if not isinstance(headers, dict):
        return None
    for name in REQUEST_ID_HEADERS:
        value = headers.get(f"llm_provider-{name}")
        if isinstance(value, str) and value:
            return value
    return None


def _cost(reply: Any) -> float | None:
    """LiteLLM's own price estimate of the reply, from its model table."""
    hidden = getattr(reply, "_hidden_params", None)
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None


def _count(value: Any) -> int:
    """A token count as reported, or 0 when it is not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(slots=True)
class StreamedReply:
    """Folds LiteLLM's stream chunks into the text deltas and a final response."""

    context: ReplyContext
    parts: list[str] = field(default_factory=list)
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    request_id: str | None = None
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, chunk: Any) -> str:
        """Take one chunk; return its text delta ("" when it carries none)."""
        self.model = _text(getattr(chunk, "model", None)) or self.model
        self.request_id = self.request_id or request_id_of(chunk)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = parse_usage(usage)
        choices = getattr(chunk, "choices", None)
        if not choices:
            return ""
        choice = choices[0]
        self.finish_reason = _text(getattr(choice, "finish_reason", None)) or self.finish_reason
        delta = getattr(choice, "delta", None)
        calls = getattr(delta, "tool_calls", None)
        if calls:
            self._add_calls(calls)
        text = getattr(delta, "content", None)
        if not text:
            return ""
        if not isinstance(text, str):
            kind = type(text).__name__
            raise self.context.malformed(f"a stream delta is a {kind}, not text", self.request_id)
        self.parts.append(text)
        return text

    def _add_calls(self, deltas: Any) -> None:
        """The first delta of each index has the id and name, every one a piece of the
        arguments' JSON."""
        for position, delta in enumerate(deltas):
            index = getattr(delta, "index", None)
            index = index if isinstance(index, int) else position
            call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
            function = getattr(delta, "function", None)
            call["id"] = getattr(delta, "id", None) or call["id"]
            call["name"] = getattr(function, "name", None) or call["name"]
            call["arguments"] += getattr(function, "arguments", None) or ""

    def response(self) -> LLMResponse:
        """The whole answer, once the stream has ended."""
        calls = [
            ToolCall(c["id"], c["name"], arguments_of(c["arguments"], self.context))
            for _, c in sorted(self.calls.items())
        ]
        return LLMResponse(
            text="".join(self.parts),
            model=self.model or self.context.model,
            provider=self.context.provider,
            usage=self.usage,
            finish_reason=self.finish_reason,
            request_id=self.request_id,
            tool_calls=calls,
        )


def parse_embeddings(reply: Any, count: int, context: ReplyContext) -> EmbeddingResponse:
    """The vectors of a ``litellm.aembedding`` reply, in the order of the ``count`` texts."""
    data = getattr(reply, "data", None)
    if not isinstance(data, list) or len(data) != count:
        got = len(data) if isinstance(data, list) else "no"
        raise context.malformed(f"the reply holds {got} embeddings for {count} texts")
    vectors: list[list[float] | None] = [None] * count
    for position, item in enumerate(data):
        index = _field(item, "index")
        vector = _field(item, "embedding")
        index = index if isinstance(index, int) and 0 <= index < count else position
        if not isinstance(vector, list) or not vector:
            raise context.malformed(f"embedding {index} is not a list of numbers")
        vectors[index] = [float(x) for x in vector]
    if any(vector is None for vector in vectors):
        raise context.malformed("the reply's embeddings do not cover every text")
    usage = getattr(reply, "usage", None)
    return EmbeddingResponse(
        vectors=[vector for vector in vectors if vector is not None],
        model=_text(getattr(reply, "model", None)) or context.model,
        provider=context.provider,
        usage=Usage(input_tokens=_count(getattr(usage, "prompt_tokens", 0))),
    )


def _field(item: Any, name: str) -> Any:
    """``item[name]`` or ``item.name``: LiteLLM's embedding items are dicts or objects."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)
