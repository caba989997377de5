"""The Anthropic Messages API as the conformance suite needs to know it.

(A plain module, on the path through conftest.py, so tests import it by name.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from anthropic_fakes import MESSAGES_URL, MODEL, error_json, message_json, sse

from pocketflow.parts import ToolCall
from pocketflow.testing import SentMessage, VendorWire

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}


def _stream_events(
    blocks: list[dict[str, Any]],
    deltas: list[list[dict[str, Any]]],
    stop_reason: str,
    input_tokens: int,
    output_tokens: int,
) -> bytes:
    usage = {"input_tokens": input_tokens, "output_tokens": 1}
    start: dict[str, Any] = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "usage": usage,
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, (block, block_deltas) in enumerate(zip(blocks, deltas, strict=True)):
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events += [
            {"type": "content_block_delta", "index": index, "delta": d} for d in block_deltas
        ]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason},
            "usage": {"output_tokens": output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return sse(*events)


class AnthropicWire(VendorWire):
    """``anthropic:claude-haiku-4-5`` against the mocked Messages endpoint."""

    model = f"anthropic:{MODEL}"
    url = MESSAGES_URL
    key_variable = "ANTHROPIC_API_KEY"

    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        return message_json(text, usage=usage)

    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        reply = message_json("Let me look.", stop_reason="tool_use")
        reply["content"] += [_tool_use(call) for call in calls]
        return reply

    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        if "output_config" in body:
            return message_json(json.dumps(value))
        forced = body["tool_choice"]["name"]  # a model without native structured output
        return {**message_json(""), "content": [_tool_use(ToolCall("toolu_o", forced, value))]}

    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        deltas = [{"type": "text_delta", "text": text} for text in chunks]
        return _stream_events(
            [{"type": "text", "text": ""}], [deltas], "end_turn", input_tokens, output_tokens
        )

    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        blocks = [{"type": "tool_use", "id": c.id, "name": c.name, "input": {}} for c in calls]
        deltas = []
        for call in calls:
            arguments = json.dumps(dict(call.arguments))
            deltas.append(
                [
                    {"type": "input_json_delta", "partial_json": arguments[:6]},
                    {"type": "input_json_delta", "partial_json": arguments[6:]},
                ]
            )
        return _stream_events(blocks, deltas, "tool_use", 5, 9)

    def error_reply(self, status: int, message: str) -> Any:
        return error_json(ERROR_TYPES.get(status, "api_error"), message)

    def stream_headers(self) -> dict[str, str]:
        return {"content-type": "text/event-stream", "request-id": "req_conformance"}

    def sent_messages(self, body: Mapping[str, Any]) -> list[SentMessage]:
        sent = [SentMessage("system", body["system"])] if body.get("system") else []
        for message in body["messages"]:
            content = message["content"]
            if isinstance(content, str):
                sent.append(SentMessage(message["role"], content))
                continue
            sent.append(
                SentMessage(
                    message["role"],
                    "".join(b["text"] for b in content if b["type"] == "text"),
                    tuple(
                        ToolCall(b["id"], b["name"], b["input"])
                        for b in content
                        if b["type"] == "tool_use"
                    ),
                    tuple(
                        (b["tool_use_id"], b["content"])
                        for b in content
                        if b["type"] == "tool_result"
                    ),
                    sum(1 for b in content if b["type"] == "image"),
                )
            )
        return sent

    def sent_tools(self, body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        forced = (body.get("tool_choice") or {}).get("name")
        return {t["name"]: t["input_schema"] for t in body.get("tools", []) if t["name"] != forced}

    def sent_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if "output_config" in body:
            schema: Mapping[str, Any] = body["output_config"]["format"]["schema"]
            return schema
        forced = (body.get("tool_choice") or {}).get("name")
        return next((t["input_schema"] for t in body.get("tools", []) if t["name"] == forced), None)

    def sent_streaming(self, body: Mapping[str, Any]) -> bool:
        return body.get("stream") is True
