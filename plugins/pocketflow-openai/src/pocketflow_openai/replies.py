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
    return LLMResponse(
        text=_text(message.get("content"), context),
        model=_model(data, context),
        provider=context.provider,
        usage=parse_usage(data.get("usage")),
        finish_reason=choice.get("finish_reason"),
        request_id=context.request_id,
        response_id=data.get("id") if isinstance(data.get("id"), str) else None,
    )


def parse_usage(usage: Any) -> Usage:
    """Token counts from a ``usage`` object: cached prompt tokens are cache reads.

    ``input_tokens`` is ``prompt_tokens`` as reported, cached tokens included.
    """
    if not isinstance(usage, Mapping):
        return Usage()
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cache_read_tokens=cached or 0,
    )


def _text(content: Any, context: ReplyContext) -> str:
    if content is None:  # e.g. only tool calls, or a refusal
        return ""
    if not isinstance(content, str):
        raise context.malformed(f"the message content is a {type(content).__name__}, not text")
    return content


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

    def add(self, chunk: object) -> str:
        """Take one chunk; return its text delta ("" when it carries none)."""
        if not isinstance(chunk, dict):
            kind = type(chunk).__name__
            raise self.context.malformed(f"a stream chunk is a {kind}, not an object")
        if chunk.get("model"):
            self.model = chunk["model"]
        if chunk.get("usage"):
            self.usage = parse_usage(chunk["usage"])
        choices = chunk.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return ""
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else None
        if not text:
            return ""
        if not isinstance(text, str):
            raise self.context.malformed(f"a stream delta is a {type(text).__name__}, not text")
        self.parts.append(text)
        return text

    def response(self) -> LLMResponse:
        """The whole answer, once the stream has ended."""
        return LLMResponse(
            text="".join(self.parts),
            model=self.model or self.context.model,
            provider=self.context.provider,
            usage=self.usage,
            finish_reason=self.finish_reason,
            request_id=self.context.request_id,
        )
