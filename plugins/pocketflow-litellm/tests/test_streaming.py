"""Streams through LiteLLM: a connection cut mid-stream is a connection error (which
the core may retry only before the first chunk), never a silently short answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from wires import MISTRAL_URL

from pocketflow import stream_llm_async
from pocketflow.errors import LLMConnectionError

Run = Callable[..., Any]
MODEL = "litellm:mistral/mistral-large-latest"


@pytest.fixture(autouse=True)
def key(litellm_env: pytest.MonkeyPatch) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", "sk-test-streaming")


class CutStream(httpx.AsyncByteStream):
    """One chunk of an answer, then the connection drops."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        choice = {"index": 0, "delta": {"content": "Once"}, "finish_reason": None}
        chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1,
                 "model": "mistral-large-latest", "choices": [choice]}  # fmt: skip
        yield f"data: {json.dumps(chunk)}\n\n".encode()
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message")


def test_a_stream_cut_short_is_a_connection_error(vendor_http: respx.MockRouter, run: Run) -> None:
    headers = {"content-type": "text/event-stream"}
    vendor_http.post(MISTRAL_URL).mock(
        return_value=httpx.Response(200, stream=CutStream(), headers=headers)
    )
    received: list[str] = []

    async def scenario() -> None:
        async for chunk in stream_llm_async("Tell a story", model=MODEL, max_retries=0):
            received.append(chunk)

    with pytest.raises(LLMConnectionError, match="peer closed connection"):
        run(scenario())
    assert received == ["Once"]
