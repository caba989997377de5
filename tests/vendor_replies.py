"""Minimal OpenAI, Anthropic and Gemini replies (text, tool calls, structured output) and
readers of their request bodies, for the cross-vendor tests in this folder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from pocketflow.parts import ToolCall

URLS = {
    "openai": "https://api.openai.com/v1/chat/completions",
    "anthropic": "https://api.anthropic.com/v1/messages",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
    ":generateContent",
}
MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-haiku-4-5",
    "gemini": "gemini:gemini-2.5-flash",
}
KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}
VENDORS = sorted(URLS)


def reply(vendor: str, *, text: str = "", calls: Sequence[ToolCall] = ()) -> httpx.Response:
    """A whole reply of ``vendor`` with ``text`` and the tool ``calls``."""
    if vendor == "openai":
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}}
                for c in calls
            ]  # fmt: skip
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": "tool_calls" if calls else "stop",
        }
        body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                "model": "gpt-4o-mini", "choices": [choice],
                "usage": {"prompt_tokens": 20, "completion_tokens": 6}}  # fmt: skip
        return httpx.Response(200, json=body)
    if vendor == "gemini":
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        parts += [{"functionCall": {"id": c.id, "name": c.name, "args": dict(c.arguments)}}
                  for c in calls]  # fmt: skip
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
        usage = {"promptTokenCount": 19, "candidatesTokenCount": 5}
        body = {"candidates": [candidate], "usageMetadata": usage,
                "modelVersion": "gemini-2.5-flash"}  # fmt: skip
        return httpx.Response(200, json=body)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [{"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
                for c in calls]  # fmt: skip
    body = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": content, "stop_reason": "tool_use" if calls else "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 21, "output_tokens": 7}}  # fmt: skip
    return httpx.Response(200, json=body)


def sent_schema(vendor: str, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The output schema a request body asks for."""
    if vendor == "openai":
        fmt = body.get("response_format")
        return fmt["json_schema"]["schema"] if fmt else None
    if vendor == "gemini":
        schema: Mapping[str, Any] | None = body.get("generationConfig", {}).get(
            "responseJsonSchema"
        )
        return schema
    config = body.get("output_config")
    return config["format"]["schema"] if config else None


def sent_tool_names(vendor: str, body: Mapping[str, Any]) -> list[str]:
    """The names of the tools a request offers."""
    if vendor == "openai":
        return [t["function"]["name"] for t in body.get("tools", [])]
    if vendor == "gemini":
        return [d["name"] for t in body.get("tools", []) for d in t["functionDeclarations"]]
    return [t["name"] for t in body.get("tools", [])]


def sent_tool_results(vendor: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(call id, content) of every tool result a request sends back."""
    if vendor == "openai":
        return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]
    if vendor == "gemini":
        return [
            (p["functionResponse"]["id"], p["functionResponse"]["response"]["result"])
            for c in body["contents"] for p in c["parts"] if "functionResponse" in p
        ]  # fmt: skip
    return [
        (b["tool_use_id"], b["content"])
        for m in body["messages"] if isinstance(m["content"], list)
        for b in m["content"] if b["type"] == "tool_result"
    ]  # fmt: skip
