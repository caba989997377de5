"""Streamed replies: server-sent events into text chunks, then usage at the end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2
import pytest
import respx
from anthropic_fakes import Runner, error_json, sse

from pocketflow import stream_llm_async
from pocketflow.errors import (
    LLMConnectionError,
    LLMTimeoutError,
    MalformedResponseError,
    OverloadedError,
)
from pocketflow.testing import FakeClock

MESSAGE_START = {
    "type": "message_start",
    "message": {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 10},
    },
}
BLOCK_START = {
    "type": "content_block_start",
    "index": 0,
    "content_block": {"type": "text", "text": ""},
}
PING = {"type": "ping"}


def text_delta(text: str) -> dict[str, Any]:
    return {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": text},
    }


BLOCK_STOP = {"type": "content_block_stop", "index": 0}
MESSAGE_DELTA = {
    "type": "message_delta",
    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
    "usage": {"output_tokens": 9},
}
MESSAGE_STOP = {"type": "message_stop"}
SSE_HEADERS = {"content-type": "text/event-stream", "request-id": "req_stream_1"}


async def collect(stream: Any) -> list[str]:
    return [chunk async for chunk in stream]


def test_a_stream_yields_text_then_holds_usage(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    events: list[dict[str, Any]] = [
        MESSAGE_START,
        BLOCK_START,
        PING,
        text_delta("Hel"),
        text_delta("lo"),
    ]
    events += [text_delta(" there."), BLOCK_STOP, MESSAGE_DELTA, MESSAGE_STOP]
    messages_api.respond(content=sse(*events), headers=SSE_HEADERS)
    stream = stream_llm_async("Hi")

    chunks = run(collect(stream))

    assert chunks == ["Hel", "lo", " there."]
    response = stream.response
    assert response is not None
    assert (response.text, response.finish_reason, response.request_id) == (
        "Hello there.",
        "end_turn",
        "req_stream_1",
    )
    assert (response.model, response.provider) == ("claude-haiku-4-5-20251001", "anthropic")
    assert (
        response.usage.input_tokens,
        response.usage.output_tokens,
        response.usage.cache_read_tokens,
    ) == (25, 9, 10)


def test_a_stream_asks_the_api_to_stream(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(
        content=sse(MESSAGE_START, text_delta("ok"), MESSAGE_DELTA, MESSAGE_STOP),
        headers=SSE_HEADERS,
    )

    run(collect(stream_llm_async("Hi", system="Be brief.")))

    body = json.loads(messages_api.calls.last.request.content)
    assert (body["stream"], body["system"], body["max_tokens"]) == (True, "Be brief.", 4096)


def test_an_error_event_mid_stream_is_a_normalised_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    messages_api.respond(
        content=sse(MESSAGE_START, text_delta("Partial"), error), headers=SSE_HEADERS
    )
    seen: list[str] = []

    async def read() -> None:
        async for chunk in stream_llm_async("Hi"):
            seen.append(chunk)

    with pytest.raises(OverloadedError, match=r"Overloaded \(overloaded_error, sent mid-stream\)"):
        run(read())
    assert seen == ["Partial"]


def test_a_stream_cut_before_message_stop_is_a_connection_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(content=sse(MESSAGE_START, text_delta("Partial")), headers=SSE_HEADERS)

    with pytest.raises(LLMConnectionError, match="ended before its message_stop"):
        run(collect(stream_llm_async("Hi")))


def test_an_http_error_before_the_stream_is_retried(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.side_effect = [
        _response(529, json=error_json("overloaded_error", "Overloaded")),
        _response(200, content=sse(MESSAGE_START, text_delta("ok"), MESSAGE_STOP)),
    ]

    chunks = run(collect(stream_llm_async("Hi")))

    assert chunks == ["ok"]
    assert messages_api.call_count == 2
    assert len(fake_clock.sleeps) == 1


def _response(status: int, **kwargs: Any) -> httpx.Response:
    headers = {"content-type": "text/event-stream"} if "content" in kwargs else {}
    return httpx.Response(status, headers=headers, **kwargs)


def test_a_read_timeout_mid_stream_is_a_timeout_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield sse(MESSAGE_START, text_delta("Partial"))
        raise httpx2.ReadTimeout("The read operation timed out")

    messages_api.respond(content=stalled(), headers=SSE_HEADERS)
    seen: list[str] = []

    async def read() -> None:
        async for chunk in stream_llm_async("Hi"):
            seen.append(chunk)

    with pytest.raises(LLMTimeoutError, match=r"no reply from https://api\.anthropic\.com"):
        run(read())
    assert seen == ["Partial"]


def test_non_text_deltas_are_left_out(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    thinking = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": "Let me see."},
    }
    messages_api.respond(
        content=sse(MESSAGE_START, thinking, text_delta("Yes."), MESSAGE_DELTA, MESSAGE_STOP),
        headers=SSE_HEADERS,
    )
    stream = stream_llm_async("Hi")

    chunks = run(collect(stream))

    assert chunks == ["Yes."]
    assert stream.response is not None
    assert stream.response.text == "Yes."


def test_an_event_that_is_not_json_is_a_malformed_reply(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    broken = b"event: content_block_delta\ndata: {not json\n\n"
    messages_api.respond(content=sse(MESSAGE_START) + broken, headers=SSE_HEADERS)

    with pytest.raises(MalformedResponseError, match="does not match the Messages API"):
        run(collect(stream_llm_async("Hi", max_retries=0)))
