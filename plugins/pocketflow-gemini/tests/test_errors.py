"""Errors as a user sees them: statuses, Gemini's own error shapes, safety blocks, cut
streams and replies that are not JSON; never the key."""

from __future__ import annotations

import traceback
from typing import Any

import httpcore2
import pytest
import respx
from gemini_fakes import API_KEY, Runner, error_json, reply_json, sse, text_json

from pocketflow import call_llm_async, stream_llm_async
from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    LLMConnectionError,
    MalformedResponseError,
    ModelNotFoundError,
    OverloadedError,
    RateLimitError,
)


def test_an_invalid_key_is_an_authentication_error_naming_the_variable(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    body = error_json(400, "API key not valid. Please pass a valid API key.")
    body["error"]["details"] = [{"reason": "API_KEY_INVALID"}]
    gemini_api.respond(400, json=body)
    with pytest.raises(AuthenticationError) as caught:
        run(call_llm_async("Hi"))
    assert "environment variable GEMINI_API_KEY" in str(caught.value)
    assert gemini_api.call_count == 1


def test_a_429_carries_the_retry_delay_gemini_sends_in_its_details(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    body = error_json(429, "Resource has been exhausted (e.g. check quota).")
    body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}
    ]
    gemini_api.respond(429, json=body)
    with pytest.raises(RateLimitError) as caught:
        run(call_llm_async("Hi", max_retries=0))
    assert caught.value.retry_after == 17.0
    assert "Resource has been exhausted" in str(caught.value)


def test_a_retry_after_header_wins(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(429, json=error_json(429, "slow down"), headers={"retry-after": "2"})
    with pytest.raises(RateLimitError) as caught:
        run(call_llm_async("Hi", max_retries=0))
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize(("status", "error"), [(503, OverloadedError), (404, ModelNotFoundError)])
def test_statuses_map_to_the_core_errors(
    gemini_env: pytest.MonkeyPatch,
    gemini_api: respx.Route,
    run: Runner,
    status: int,
    error: type[Exception],
) -> None:
    gemini_api.respond(status, json=error_json(status, "nope"))
    with pytest.raises(error, match="nope"):
        run(call_llm_async("Hi", max_retries=0))


def test_a_blocked_prompt_is_a_bad_request_saying_why(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json={"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(BadRequestError, match=r"the prompt was blocked \(SAFETY\)"):
        run(call_llm_async("Hi", max_retries=2))
    assert gemini_api.call_count == 1  # the same prompt gets the same verdict


def test_a_withheld_answer_is_a_bad_request(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json=reply_json(finish_reason="RECITATION"))
    with pytest.raises(BadRequestError, match=r"withheld \(RECITATION\)"):
        run(call_llm_async("Hi"))


def test_a_reply_without_candidates_is_malformed(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json={"usageMetadata": {}})
    with pytest.raises(MalformedResponseError, match="no candidates"):
        run(call_llm_async("Hi", max_retries=0))


def test_a_stream_cut_before_its_finish_reason_is_not_taken_as_complete(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    cut = sse(text_json("Hel", finish_reason=None))
    gemini_api.respond(content=cut, headers={"content-type": "text/event-stream"})

    async def scenario() -> Any:
        return [chunk async for chunk in stream_llm_async("Hi", max_retries=0)]

    with pytest.raises(MalformedResponseError, match="cut short"):
        run(scenario())


def test_a_dropped_connection_is_a_connection_error(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.side_effect = httpcore2.RemoteProtocolError("peer closed connection")
    with pytest.raises(
        LLMConnectionError, match=r"cannot reach https://generativelanguage\.googleapis\.com"
    ):
        run(call_llm_async("Hi", max_retries=0))


def test_an_echoed_key_is_in_no_message_nor_traceback(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(400, json=error_json(400, f"Bad key {API_KEY} in request"))
    with pytest.raises(BadRequestError) as caught:
        run(call_llm_async("Hi"))
    printed = "".join(traceback.format_exception(caught.value))
    assert API_KEY not in printed and "[redacted]" in printed


def test_a_prompt_over_the_context_window_is_context_too_long(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    message = (
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
    )
    gemini_api.respond(400, json=error_json(400, message))
    with pytest.raises(ContextTooLongError, match=r"input token count \(1200000\)"):
        run(call_llm_async("Hi"))
