"""A streamed completion: text deltas as they arrive, then the whole response with usage."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from openai_fakes import CHAT_URL, Runner, sse_stream

from pocketflow import LLMResponse, stream_llm_async

SSE_HEADERS = {"content-type": "text/event-stream", "x-request-id": "req_stream1"}


def chunk(content: str | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk`` as the API streams it."""
    delta = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


USAGE_CHUNK = {
    "id": "chatcmpl-9",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [],
    "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 0},
    },
}

STREAM = sse_stream(
    {**chunk(), "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    chunk("The sky"),
    chunk(" is"),
    chunk(" blue."),
    chunk(finish_reason="stop"),
    USAGE_CHUNK,
)


async def collect(prompt: str) -> tuple[list[str], LLMResponse | None]:
    stream = stream_llm_async(prompt)
    texts = [text async for text in stream]
    return texts, stream.response


def test_text_arrives_in_deltas(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(content=STREAM, headers=SSE_HEADERS)

    texts, _ = run(collect("What colour is the sky?"))

    assert texts == ["The sky", " is", " blue."]


def test_the_final_response_has_the_text_and_the_usage(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(content=STREAM, headers=SSE_HEADERS)

    _, response = run(collect("What colour is the sky?"))

    assert response is not None
    assert response.text == "The sky is blue."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 3)
    assert (response.finish_reason, response.request_id) == ("stop", "req_stream1")
    assert (response.provider, response.model) == ("openai", "gpt-4o-mini-2024-07-18")


def test_a_stream_asks_for_usage(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(content=STREAM, headers=SSE_HEADERS)

    run(collect("hi"))

    body = json.loads(route.calls.last.request.content)
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
