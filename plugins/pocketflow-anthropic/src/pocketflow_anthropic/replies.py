"""Messages API replies as :class:`~pocketflow.providers.LLMResponse`: a whole JSON
message, or a stream of events gathered by :class:`StreamedReply`.

The text is the concatenation of the ``text`` content blocks; ``tool_use`` blocks
are the tool calls (their ``input`` the arguments), except a call of the forced
output tool (``output_tool``), whose input is the structured answer: it becomes
the text, as JSON. Thinking and other blocks are left out. ``stop_reason`` becomes
``finish_reason`` unchanged (``end_turn``, ``max_tokens``, ``stop_sequence``, ...).
Usage maps ``input_tokens``, ``output_tokens``, ``cache_read_input_tokens`` ->
``cache_read_tokens`` and ``cache_creation_input_tokens`` -> ``cache_write_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pocketflow.errors import LLMConnectionError, MalformedResponseError
from pocketflow.parts import ToolCall, VendorPart
from pocketflow.providers import LLMResponse, Usage, first_line

THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
"""Blocks that must go back with the tool calls they led to (extended thinking)."""

_USAGE_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_input_tokens": "cache_read_tokens",
    "cache_creation_input_tokens": "cache_write_tokens",
}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def update_usage(usage: Usage, reported: Mapping[str, Any]) -> None:
    """Copy the token counts ``reported`` (vendor field names) into ``usage``."""
    for vendor_field, field in _USAGE_FIELDS.items():
        count = _count(reported.get(vendor_field))
        if count is not None:
            setattr(usage, field, count)


def parse_message(
    body: bytes,
    *,
    provider: str,
    model: str,
    request_id: str | None,
    output_tool: str | None = None,
) -> LLMResponse:
    """The :class:`LLMResponse` for a Messages API reply ``body`` (JSON bytes).

    Raises MalformedResponseError when the body is not JSON or has no content list.
    """

    def malformed(reason: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"{reason}; expected a Messages API message",
            provider=provider,
            model=model,
            request_id=request_id,
        )

    try:
        payload = json.loads(body)
    except ValueError as error:
        shown = first_line(body.decode("utf-8", errors="replace"), 120)
        raise malformed(f"the reply is not JSON (it starts {shown!r})") from error
    content = payload.get("content") if isinstance(payload, dict) else None
    if not isinstance(content, list):
        raise malformed("the reply has no 'content' list")
    texts = []
    calls: list[ToolCall] = []
    kept: list[VendorPart] = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise malformed("a text content block has no text")
            texts.append(text)
        elif isinstance(block, dict) and block.get("type") == "tool_use":
            arguments = block.get("input")
            if not isinstance(block.get("name"), str) or not isinstance(arguments, dict):
                raise malformed("a tool_use block has no name or no input object")
            if block["name"] == output_tool:
                texts = [json.dumps(arguments, ensure_ascii=False)]
            else:
                calls.append(ToolCall(str(block.get("id") or ""), block["name"], arguments))
        elif isinstance(block, dict) and block.get("type") in THINKING_BLOCKS:
            kept.append(VendorPart("anthropic", block))
    usage = Usage()
    if isinstance(payload.get("usage"), dict):
        update_usage(usage, payload["usage"])
    stop_reason = payload.get("stop_reason")
    return LLMResponse(
        text="".join(texts),
        model=str(payload.get("model") or model),
        provider=provider,
        usage=usage,
        finish_reason=stop_reason if isinstance(stop_reason, str) else None,
        request_id=request_id,
        tool_calls=calls,
        vendor_parts=kept if calls else [],
        response_id=payload.get("id") if isinstance(payload.get("id"), str) else None,
    )


class StreamedReply:
    """Gathers a stream's events: ``feed`` each one, then ``response()`` at the end.

    ``message_start`` gives the model and the input tokens, ``content_block_delta``
    (``text_delta``) the text, ``message_delta`` the stop reason and the output tokens
    (cumulative), ``message_stop`` the end. Other events (pings, block starts and
    stops, non-text deltas) carry nothing the response keeps.
    """

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        request_id: str | None,
        output_tool: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.output_tool = output_tool
        self.tool_blocks: dict[int, dict[str, Any]] = {}
        self.parts: list[str] = []
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.finished = False

    def feed(self, event: object) -> str | None:
        """Take in ``event`` (its JSON, as a dict); return the text it adds, if any.

        Parts of an event that do not have the documented shape are ignored.
        """
        if not isinstance(event, dict):
            return None
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if isinstance(text, str) and text:
                    self.parts.append(text)
                    return text
            if isinstance(delta, dict) and delta.get("type") == "input_json_delta":
                return self._input_delta(event.get("index"), delta.get("partial_json"))
        elif kind == "content_block_start":
            block = event.get("content_block")
            if isinstance(block, dict) and block.get("type") == "tool_use":
                self.tool_blocks[int(event.get("index") or 0)] = {
                    "id": str(block.get("id") or ""),
                    "name": str(block.get("name") or ""),
                    "json": "",
                }
        elif kind == "message_start":
            message = event.get("message")
            if isinstance(message, dict):
                model = message.get("model")
                if isinstance(model, str) and model:
                    self.model = model
                self._add_usage(message.get("usage"))
        elif kind == "message_delta":
            delta = event.get("delta")
            stop_reason = delta.get("stop_reason") if isinstance(delta, dict) else None
            if isinstance(stop_reason, str) and stop_reason:
                self.stop_reason = stop_reason
            self._add_usage(event.get("usage"))
        elif kind == "message_stop":
            self.finished = True
        return None

    def _input_delta(self, index: object, partial: object) -> str | None:
        block = self.tool_blocks.get(index) if isinstance(index, int) else None
        if block is None or not isinstance(partial, str) or not partial:
            return None
        block["json"] += partial
        if block["name"] == self.output_tool:  # the structured answer streams as text
            self.parts.append(partial)
            return partial
        return None

    def _tool_calls(self) -> list[ToolCall]:
        calls = []
        for _, block in sorted(self.tool_blocks.items()):
            if block["name"] == self.output_tool:
                continue
            try:
                arguments = json.loads(block["json"]) if block["json"] else {}
            except ValueError as error:
                raise MalformedResponseError(
                    f"a streamed tool call's input is not JSON ({error})",
                    provider=self.provider,
                    model=self.model,
                    request_id=self.request_id,
                ) from error
            calls.append(ToolCall(block["id"], block["name"], arguments))
        return calls

    def _add_usage(self, reported: object) -> None:
        if isinstance(reported, dict):
            update_usage(self.usage, reported)

    def response(self) -> LLMResponse:
        """The whole answer; raises LLMConnectionError if ``message_stop`` never came."""
        if not self.finished:
            raise LLMConnectionError(
                "the reply stream ended before its message_stop event: the connection "
                "was cut short",
                provider=self.provider,
                model=self.model,
                request_id=self.request_id,
            )
        return LLMResponse(
            text="".join(self.parts),
            model=self.model,
            provider=self.provider,
            usage=self.usage,
            finish_reason=self.stop_reason,
            request_id=self.request_id,
            tool_calls=self._tool_calls(),
        )
