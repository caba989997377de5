"""Reading ``generateContent`` replies straight from their JSON (no SDK models built).

A whole reply becomes an :class:`~pocketflow.providers.LLMResponse`; a stream's
chunks (each a partial ``GenerateContentResponse``) are folded by
:class:`StreamedReply`. Thought signatures on function calls are kept as
:class:`~pocketflow.parts.VendorPart` so that a tool loop sends them back. A reply
that is not what the API promises raises
:class:`~pocketflow.errors.MalformedResponseError`; a prompt or answer the vendor
blocked (safety, recitation, ...) raises :class:`~pocketflow.errors.BadRequestError`
saying why (asking again gets the same verdict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketflow.errors import BadRequestError, MalformedResponseError
from pocketflow.parts import ToolCall, VendorPart
from pocketflow.providers import LLMResponse, Usage, first_line
from pocketflow_gemini import GEMINI
from pocketflow_gemini.body import SIGNATURE

BLOCKED_FINISH_REASONS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)
"""Finish reasons meaning the vendor withheld the answer."""


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """Who was asked: for the response and for errors."""

    provider: str
    model: str

    def malformed(self, reason: str) -> MalformedResponseError:
        """A MalformedResponseError saying ``reason``, located."""
        return MalformedResponseError(reason, provider=self.provider, model=self.model)

    def blocked(self, reason: str) -> BadRequestError:
        """A BadRequestError: the vendor blocked the prompt or withheld the answer."""
        return BadRequestError(reason, provider=self.provider, model=self.model)


def load_json(text: str, context: ReplyContext) -> dict[str, Any]:
    """``text`` parsed as a JSON object, or a MalformedResponseError quoting its start."""
    try:
        data = json.loads(text)
    except ValueError as error:
        snippet = first_line(text, 80)
        raise context.malformed(f"the reply is not JSON ({error}): {snippet!r}") from error
    if not isinstance(data, dict):
        raise context.malformed(f"the reply is a JSON {type(data).__name__}, not an object")
    return data


def parse_usage(usage: Any) -> Usage:
    """Token counts from ``usageMetadata``: thinking tokens count as output, cached
    prompt tokens as cache reads. A count that is not a whole number is taken as 0."""
    if not isinstance(usage, Mapping):
        return Usage()
    return Usage(
        input_tokens=_count(usage.get("promptTokenCount")),
        output_tokens=_count(usage.get("candidatesTokenCount"))
        + _count(usage.get("thoughtsTokenCount")),
        cache_read_tokens=_count(usage.get("cachedContentTokenCount")),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(slots=True)
class Folded:
    """What the parts of one or more replies add up to."""

    context: ReplyContext
    texts: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    kept: list[VendorPart] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    response_id: str | None = None

    def add(self, data: Mapping[str, Any]) -> str:
        """Take one reply (or stream chunk); return the text it adds."""
        feedback = data.get("promptFeedback")
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            message = feedback.get("blockReasonMessage") or ""
            raise self.context.blocked(
                f"the prompt was blocked ({feedback['blockReason']}){': ' if message else ''}"
                f"{message}"
            )
        if "usageMetadata" in data:
            self.usage = parse_usage(data["usageMetadata"])
        model = data.get("modelVersion")
        self.model = model if isinstance(model, str) and model else self.model
        response_id = data.get("responseId")
        self.response_id = response_id if isinstance(response_id, str) else self.response_id
        candidates = data.get("candidates")
        if candidates is None:
            return ""
        if not isinstance(candidates, list) or (
            candidates and not isinstance(candidates[0], Mapping)
        ):
            raise self.context.malformed("the reply's candidates is not a list of objects")
        if not candidates:
            return ""
        candidate = candidates[0]
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, Mapping) else None
        if parts is None:
            return ""
        if not isinstance(parts, list):
            raise self.context.malformed("a candidate's content has no list of parts")
        added = [self._part(part) for part in parts]
        return "".join(added)

    def _part(self, part: Any) -> str:
        if not isinstance(part, Mapping):
            raise self.context.malformed(f"a content part is a {type(part).__name__}")
        call = part.get("functionCall")
        if call is not None:
            self._call(call, part.get("thoughtSignature"))
            return ""
        text = part.get("text")
        if text is None or part.get("thought"):
            return ""  # thinking summaries and non-text parts are not the answer
        if not isinstance(text, str):
            raise self.context.malformed(f"a text part is a {type(text).__name__}, not text")
        self.texts.append(text)
        return text

    def _call(self, call: Any, signature: Any) -> None:
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            raise self.context.malformed("a functionCall part has no name")
        arguments = call.get("args") or {}
        if not isinstance(arguments, Mapping):
            raise self.context.malformed("a functionCall's args is not a JSON object")
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            call_id = f"call_{len(self.calls) + 1}"  # the Gemini API may send no id
        self.calls.append(ToolCall(call_id, call["name"], dict(arguments)))
        if isinstance(signature, str) and signature:
            data = {"type": SIGNATURE, "call_id": call_id, "signature": signature}
            self.kept.append(VendorPart(GEMINI, data))

    def response(self) -> LLMResponse:
        """The whole answer; a BadRequestError if the vendor withheld it."""
        if self.finish_reason in BLOCKED_FINISH_REASONS and not self.texts and not self.calls:
            raise self.context.blocked(f"the answer was withheld ({self.finish_reason})")
        return LLMResponse(
            text="".join(self.texts),
            model=self.model or self.context.model,
            provider=self.context.provider,
            usage=self.usage,
            finish_reason=self.finish_reason,
            tool_calls=self.calls,
            vendor_parts=self.kept if self.calls else [],
            response_id=self.response_id,
        )


def parse_reply(text: str, context: ReplyContext) -> LLMResponse:
    """The :class:`LLMResponse` in a ``generateContent`` reply body."""
    data = load_json(text, context)
    folded = Folded(context)
    folded.add(data)
    if not isinstance(data.get("candidates"), list) or not data["candidates"]:
        raise context.malformed("the reply has no candidates")
    return folded.response()


def parse_embeddings(text: str, count: int, context: ReplyContext) -> list[list[float]]:
    """The vectors of a ``batchEmbedContents`` reply, checked to be ``count`` lists of
    numbers."""
    embeddings = load_json(text, context).get("embeddings")
    if not isinstance(embeddings, list) or len(embeddings) != count:
        got = len(embeddings) if isinstance(embeddings, list) else "no"
        raise context.malformed(f"the reply has {got} embeddings for {count} texts")
    return vectors_of(embeddings, context)


def vectors_of(embeddings: list[Any], context: ReplyContext) -> list[list[float]]:
    """Each embedding's ``values``, checked to be a list of numbers."""
    vectors = []
    for embedding in embeddings:
        values = embedding.get("values") if isinstance(embedding, Mapping) else None
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise context.malformed("an embedding has no list of numbers as values")
        vectors.append([float(v) for v in values])
    return vectors
