"""Malformed vendor data never crashes a call: it is ignored, or a MalformedResponseError.

Usage counts that are not integers are ignored (the answer is still good), a
``Retry-After`` date in any RFC 5322 form is honoured, and a stream cut short is an
error, never a shorter answer.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion, error_body

from pocketflow import complete_async, stream_llm_async, track_usage
from pocketflow.errors import MalformedResponseError
from pocketflow.testing import FakeClock

SSE_HEADERS = {"content-type": "text/event-stream"}


def delta(content: str) -> dict[str, Any]:
    """One ``chat.completion.chunk`` carrying ``content``."""
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }


def events(*chunks: dict[str, Any]) -> bytes:
    return "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks).encode()


@pytest.mark.parametrize("bad", ["3", [1], 2.5, True, {"n": 1}], ids=repr)
def test_usage_that_is_not_an_integer_is_ignored_and_the_call_counted_once(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner, bad: Any
) -> None:
    reply = chat_completion("Fine.")
    reply["usage"].update(prompt_tokens=bad, completion_tokens=4)
    reply["usage"]["prompt_tokens_details"]["cached_tokens"] = bad
    vendor_http.post(CHAT_URL).respond(json=reply)

    with track_usage() as usage:
        response = run(complete_async("hi"))

    assert response.text == "Fine."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (0, 4)
    assert (usage.calls, usage.failed_calls, usage.output_tokens) == (1, 0, 4)


def test_streamed_usage_that_is_not_an_integer_is_ignored(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    usage_chunk = {"choices": [], "usage": {"prompt_tokens": "9", "completion_tokens": [3]}}
    body = events(delta("Fine."), usage_chunk) + b"data: [DONE]\n\n"
    vendor_http.post(CHAT_URL).respond(content=body, headers=SSE_HEADERS)

    async def consume() -> Any:
        stream = stream_llm_async("hi")
        assert [text async for text in stream] == ["Fine."]
        return stream.response

    with track_usage() as usage:
        response = run(consume())

    assert response.usage.total_tokens == 0
    assert (usage.calls, usage.failed_calls) == (1, 0)


def test_a_model_or_finish_reason_that_is_not_text_is_ignored(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion("Fine.")
    reply["model"] = ["gpt"]
    reply["choices"][0]["finish_reason"] = {"why": "stop"}
    vendor_http.post(CHAT_URL).respond(json=reply)

    response = run(complete_async("hi"))

    assert (response.text, response.model, response.finish_reason) == ("Fine.", "gpt-4o-mini", None)


def test_a_streamed_model_or_finish_reason_that_is_not_text_is_ignored(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    odd = {**delta(" there."), "model": 7}
    odd["choices"][0]["finish_reason"] = ["stop"]
    body = events(delta("Hello"), odd) + b"data: [DONE]\n\n"
    vendor_http.post(CHAT_URL).respond(content=body, headers=SSE_HEADERS)

    async def consume() -> Any:
        stream = stream_llm_async("hi")
        assert [text async for text in stream] == ["Hello", " there."]
        return stream.response

    response = run(consume())

    assert (response.model, response.finish_reason) == ("gpt-4o-mini", None)


def test_a_retry_after_date_in_minus_zero_form_is_honoured(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
) -> None:
    past = {"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}  # RFC 5322: UTC, zone unknown
    route = vendor_http.post(CHAT_URL).mock(
        side_effect=[
            httpx.Response(429, json=error_body("Slow down.", kind="requests"), headers=past),
            httpx.Response(200, json=chat_completion("Done.")),
        ]
    )

    assert run(complete_async("hi")).text == "Done."
    assert fake_clock.sleeps == [0.0]
    assert route.call_count == 2


@pytest.mark.parametrize(
    "body",
    [
        events(delta("The sky"), delta(" is")),  # no [DONE]
        events(delta("The sky")) + b'data: {"id": "chatcmpl-9", "choi',  # cut mid-event
    ],
    ids=["without-done", "mid-event"],
)
def test_a_stream_cut_short_is_an_error_not_an_answer(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
    body: bytes,
) -> None:
    vendor_http.post(CHAT_URL).respond(content=body, headers=SSE_HEADERS)
    received: list[str] = []

    async def consume() -> None:
        async for text in stream_llm_async("What colour is the sky?"):
            received.append(text)

    with (
        track_usage() as usage,
        pytest.raises(MalformedResponseError, match=r"stream ended before .*\[DONE\]"),
    ):
        run(consume())

    assert received == ["The sky", " is"][: len(received)]
    assert (usage.calls, usage.failed_calls) == (1, 1)
