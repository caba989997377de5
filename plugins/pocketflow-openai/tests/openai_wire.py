"""The OpenAI Chat Completions and Embeddings APIs as the conformance suites need to know them.

(A plain module, on the path through conftest.py, so tests import it by name.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from openai_fakes import chat_completion, error_body, sse_stream

from pocketflow.parts import ToolCall
from pocketflow.testing import EmbeddingWire, SentMessage, VendorWire


def _chunk(
    delta: dict[str, Any], finish_reason: str | None = None, usage: Any = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        "usage": usage,
    }


def _wire_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
    }


class OpenAIWire(VendorWire):
    """``openai:gpt-4o-mini`` against the mocked Chat Completions endpoint."""

    model = "openai:gpt-4o-mini"
    url = "https://api.openai.com/v1/chat/completions"
    key_variable = "OPENAI_API_KEY"

    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        return chat_completion(text, prompt_tokens=input_tokens, completion_tokens=output_tokens)

    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        reply = chat_completion("", finish_reason="tool_calls")
        message = reply["choices"][0]["message"]
        message["content"] = None
        message["tool_calls"] = [_wire_call(call) for call in calls]
        return reply

    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        assert body["response_format"]["type"] == "json_schema"
        return chat_completion(json.dumps(value))

    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        usage = {"prompt_tokens": input_tokens, "completion_tokens": output_tokens}
        events = [_chunk({"role": "assistant", "content": ""})]
        events += [_chunk({"content": text}) for text in chunks]
        events += [_chunk({}, "stop"), {**_chunk({}), "choices": [], "usage": usage}]
        return sse_stream(*events)

    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        events = [_chunk({"role": "assistant", "content": None})]
        for index, call in enumerate(calls):
            arguments = json.dumps(dict(call.arguments))
            first = {"index": index, "id": call.id, "type": "function",
                     "function": {"name": call.name, "arguments": arguments[:5]}}  # fmt: skip
            rest = {"index": index, "function": {"arguments": arguments[5:]}}
            events += [_chunk({"tool_calls": [first]}), _chunk({"tool_calls": [rest]})]
        events.append(_chunk({}, "tool_calls"))
        return sse_stream(*events)

    def error_reply(self, status: int, message: str) -> Any:
        return error_body(message)

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


class OpenAIEmbeddingWire(EmbeddingWire):
    """``openai:text-embedding-3-small`` against the mocked Embeddings endpoint."""

    model = "openai:text-embedding-3-small"
    url = "https://api.openai.com/v1/embeddings"
    key_variable = "OPENAI_API_KEY"
    max_inputs = 2048

    def embedding_reply(self, vectors: Sequence[Sequence[float]], *, input_tokens: int) -> Any:
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": list(vector)}
                for index, vector in enumerate(vectors)
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": input_tokens, "total_tokens": input_tokens},
        }

    def error_reply(self, status: int, message: str) -> Any:
        return error_body(message)

    def sent_texts(self, body: Mapping[str, Any]) -> list[str]:
        texts = body["input"]
        return [texts] if isinstance(texts, str) else list(texts)

    def sent_dimensions(self, body: Mapping[str, Any]) -> int | None:
        dimensions = body.get("dimensions")
        return dimensions if isinstance(dimensions, int) else None
