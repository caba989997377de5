"""The Gemini API as the conformance suite needs to know it.

(A plain module, on the path through conftest.py, so tests import it by name.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gemini_fakes import GENERATE_URL, MODEL, URL_PATTERN, error_json, reply_json, sse, text_json

from pocketflow.parts import ToolCall
from pocketflow.testing import SentMessage, VendorWire


def _call_part(call: ToolCall) -> dict[str, Any]:
    call_part = {"id": call.id, "name": call.name, "args": dict(call.arguments)}
    return {"functionCall": call_part, "thoughtSignature": f"sig-{call.id}"}


class GeminiWire(VendorWire):
    """``gemini:gemini-2.5-flash`` against the mocked Gemini API."""

    model = f"gemini:{MODEL}"
    url = GENERATE_URL
    url_pattern = URL_PATTERN
    key_variable = "GEMINI_API_KEY"

    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        return text_json(text, input_tokens=input_tokens, output_tokens=output_tokens)

    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        return reply_json(*[_call_part(call) for call in calls])

    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        return text_json(json.dumps(value))

    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        events = [text_json(text, finish_reason=None, usage=False) for text in chunks]
        events[-1] = text_json(chunks[-1], input_tokens=input_tokens, output_tokens=output_tokens)
        return sse(*events)

    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        return sse(reply_json(*[_call_part(call) for call in calls]))

    def error_reply(self, status: int, message: str) -> Any:
        return error_json(status, message)

    def sent_messages(self, body: Mapping[str, Any]) -> list[SentMessage]:
        sent = []
        if "systemInstruction" in body:
            text = "".join(p["text"] for p in body["systemInstruction"]["parts"])
            sent.append(SentMessage("system", text))
        for content in body["contents"]:
            parts = content["parts"]
            sent.append(
                SentMessage(
                    "assistant" if content["role"] == "model" else content["role"],
                    "".join(p["text"] for p in parts if "text" in p),
                    tuple(
                        ToolCall(p["functionCall"]["id"], p["functionCall"]["name"],
                                 p["functionCall"]["args"])
                        for p in parts if "functionCall" in p
                    ),
                    tuple(
                        (p["functionResponse"]["id"], p["functionResponse"]["response"]["result"])
                        for p in parts if "functionResponse" in p
                    ),
                    sum(1 for p in parts if "inlineData" in p or "fileData" in p),
                )
            )  # fmt: skip
        return sent

    def sent_tools(self, body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {
            d["name"]: d["parametersJsonSchema"]
            for tool in body.get("tools", [])
            for d in tool.get("functionDeclarations", [])
        }

    def sent_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        schema: Mapping[str, Any] | None = body.get("generationConfig", {}).get(
            "responseJsonSchema"
        )
        return schema

    def sent_streaming(self, body: Mapping[str, Any]) -> bool:
        return True  # the endpoint says it; checked by the stream tests through the URL
