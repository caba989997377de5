"""Two of LiteLLM's vendors as the conformance suite needs to know them: Mistral (the
OpenAI Chat Completions wire) and Anthropic (the Messages wire), as LiteLLM sends to them.

(A plain module, on the path through conftest.py, so tests import it by name.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pocketflow.parts import ToolCall
from pocketflow.testing import SentMessage, VendorWire

MISTRAL_URL = "https://api.mistral.ai/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"


def sse(*events: Mapping[str, Any], done: bool = True) -> bytes:
    """Server-sent events: ``data: {...}`` blocks, then ``[DONE]`` (OpenAI style)."""
    lines = [f"data: {json.dumps(event)}\n\n" for event in events]
    return "".join([*lines, "data: [DONE]\n\n" if done else ""]).encode()


def chat_completion(
    text: str | None, *, prompt_tokens: int = 12, completion_tokens: int = 3
) -> dict[str, Any]:
    """A Chat Completions reply as Mistral sends it."""
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "mistral-large-latest",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "cmpl-s",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mistral-large-latest",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


class MistralWire(VendorWire):
    """``litellm:mistral/mistral-large-latest``: the OpenAI-like wire."""

    model = "litellm:mistral/mistral-large-latest"
    url = MISTRAL_URL
    key_variable = "MISTRAL_API_KEY"

    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        return chat_completion(text, prompt_tokens=input_tokens, completion_tokens=output_tokens)

    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        reply = chat_completion(None)
        reply["choices"][0]["finish_reason"] = "tool_calls"
        reply["choices"][0]["message"]["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
            }
            for call in calls
        ]
        return reply

    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        assert body["response_format"]["type"] == "json_schema"
        return chat_completion(json.dumps(value))

    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        usage = {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        events = [_chunk({"role": "assistant", "content": ""})]
        events += [_chunk({"content": text}) for text in chunks]
        events.append(_chunk({}, "stop", usage))
        return sse(*events)

    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        events = [_chunk({"role": "assistant", "content": None})]
        for index, call in enumerate(calls):
            arguments = json.dumps(dict(call.arguments))
            first = {"index": index, "id": call.id, "type": "function",
                     "function": {"name": call.name, "arguments": arguments[:5]}}  # fmt: skip
            rest = {"index": index, "function": {"arguments": arguments[5:]}}
            events += [_chunk({"tool_calls": [first]}), _chunk({"tool_calls": [rest]})]
        events.append(_chunk({}, "tool_calls"))
        return sse(*events)

    def error_reply(self, status: int, message: str) -> Any:
        return {"object": "error", "message": message, "type": "invalid_request_error"}

    def sent_messages(self, body: Mapping[str, Any]) -> list[SentMessage]:
        sent: list[SentMessage] = []
        for message in body["messages"]:
            content = message.get("content")
            if message["role"] == "tool":
                sent.append(SentMessage("user", tool_results=((message["tool_call_id"], content),)))
                continue
            calls = tuple(
                ToolCall(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in message.get("tool_calls") or ()
            )
            if isinstance(content, list):
                text = "".join(p["text"] for p in content if p["type"] == "text")
                images = sum(1 for p in content if p["type"] == "image_url")
            else:
                text, images = content or "", 0
            sent.append(SentMessage(message["role"], text, calls, images=images))
        return sent

    def sent_tools(self, body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {t["function"]["name"]: t["function"]["parameters"] for t in body.get("tools", [])}

    def sent_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        response_format = body.get("response_format")
        if not response_format:
            return None
        schema: Mapping[str, Any] = response_format["json_schema"]["schema"]
        return schema

    def sent_streaming(self, body: Mapping[str, Any]) -> bool:
        return body.get("stream") is True


ANTHROPIC_MODEL = "claude-haiku-4-5"
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}


def message_json(
    text: str, *, stop_reason: str = "end_turn", input_tokens: int = 10, output_tokens: int = 5
) -> dict[str, Any]:
    """A Messages API reply."""
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_sse(*events: Mapping[str, Any]) -> bytes:
    """Server-sent events as the Messages API streams them (``event:`` and ``data:``)."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def _anthropic_stream(
    blocks: list[dict[str, Any]], deltas: list[list[dict[str, Any]]], stop: str,
    input_tokens: int, output_tokens: int,
) -> bytes:  # fmt: skip
    start = {**message_json(""), "stop_reason": None,
             "usage": {"input_tokens": input_tokens, "output_tokens": 1}}  # fmt: skip
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, (block, block_deltas) in enumerate(zip(blocks, deltas, strict=True)):
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events += [
            {"type": "content_block_delta", "index": index, "delta": d} for d in block_deltas
        ]
        events.append({"type": "content_block_stop", "index": index})
    events.append({"type": "message_delta", "delta": {"stop_reason": stop},
                   "usage": {"output_tokens": output_tokens}})  # fmt: skip
    events.append({"type": "message_stop"})
    return anthropic_sse(*events)


class AnthropicWire(VendorWire):
    """``litellm:anthropic/claude-haiku-4-5``: the Messages wire, as LiteLLM maps onto it."""

    model = f"litellm:anthropic/{ANTHROPIC_MODEL}"
    url = ANTHROPIC_URL
    key_variable = "ANTHROPIC_API_KEY"

    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        return message_json(text, input_tokens=input_tokens, output_tokens=output_tokens)

    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        reply = message_json("Let me look.", stop_reason="tool_use")
        reply["content"] += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
            for c in calls
        ]
        return reply

    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        assert self.sent_schema(body) is not None
        return message_json(json.dumps(value))

    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        deltas = [{"type": "text_delta", "text": text} for text in chunks]
        return _anthropic_stream(
            [{"type": "text", "text": ""}], [deltas], "end_turn", input_tokens, output_tokens
        )

    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        blocks = [{"type": "tool_use", "id": c.id, "name": c.name, "input": {}} for c in calls]
        deltas = []
        for call in calls:
            arguments = json.dumps(dict(call.arguments))
            pieces = (arguments[:6], arguments[6:])
            deltas.append([{"type": "input_json_delta", "partial_json": p} for p in pieces])
        return _anthropic_stream(blocks, deltas, "tool_use", 5, 9)

    def error_reply(self, status: int, message: str) -> Any:
        kind = ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def sent_messages(self, body: Mapping[str, Any]) -> list[SentMessage]:
        system = body.get("system")
        if isinstance(system, list):
            system = "".join(block["text"] for block in system if block["type"] == "text")
        sent = [SentMessage("system", system)] if system else []
        for message in body["messages"]:
            content = message["content"]
            if isinstance(content, str):
                sent.append(SentMessage(message["role"], content))
                continue
            sent.append(
                SentMessage(
                    message["role"],
                    "".join(b["text"] for b in content if b["type"] == "text"),
                    tuple(ToolCall(b["id"], b["name"], b["input"])
                          for b in content if b["type"] == "tool_use"),
                    tuple((b["tool_use_id"], _result_text(b["content"]))
                          for b in content if b["type"] == "tool_result"),
                    sum(1 for b in content if b["type"] == "image"),
                )
            )  # fmt: skip
        return sent

    def sent_tools(self, body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        forced = (body.get("tool_choice") or {}).get("name")
        return {t["name"]: t["input_schema"] for t in body.get("tools", []) if t["name"] != forced}

    def sent_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        for key in ("output_format", "output_config"):
            if key in body:
                found = body[key]
                schema: Mapping[str, Any] = found.get("schema") or found["format"]["schema"]
                return schema
        forced = (body.get("tool_choice") or {}).get("name")
        return next((t["input_schema"] for t in body.get("tools", []) if t["name"] == forced), None)

    def sent_streaming(self, body: Mapping[str, Any]) -> bool:
        return body.get("stream") is True


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content)
    return str(content)
