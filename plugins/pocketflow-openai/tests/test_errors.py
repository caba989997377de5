"""Vendor failures reach the user as the core's normalised errors, with what to do."""

from __future__ import annotations

from pathlib import Path

import httpcore2
import openai
import pytest
import respx
from openai_fakes import CHAT_URL, SECRET, Runner, chat_completion, error_body

from pocketflow import call_llm_async, stream_llm_async
from pocketflow.errors import (
    AuthenticationError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    MissingKeyError,
    ModelNotFoundError,
)

CONTEXT_MESSAGE = (
    "This model's maximum context length is 128000 tokens. However, your messages "
    "resulted in 130512 tokens. Please reduce the length of the messages."
)


def test_a_rejected_key_names_its_variable_and_never_the_key(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body(f"Incorrect API key provided: {SECRET}.", code="invalid_api_key")
    vendor_http.post(CHAT_URL).respond(401, json=body)

    with pytest.raises(AuthenticationError, match=r"HTTP 401.*Check OPENAI_API_KEY") as caught:
        run(call_llm_async("hi"))

    assert SECRET not in str(caught.value)


def test_a_rejected_key_is_not_retried(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(401, json=error_body("Invalid key."))

    with pytest.raises(AuthenticationError):
        run(call_llm_async("hi"))

    assert route.call_count == 1


def test_the_sdk_error_is_chained(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(401, json=error_body("Invalid key."))

    with pytest.raises(AuthenticationError) as caught:
        run(call_llm_async("hi"))

    assert isinstance(caught.value.__cause__, openai.AuthenticationError)


def test_a_prompt_over_the_context_window_is_too_long_and_not_retried(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body(CONTEXT_MESSAGE, code="context_length_exceeded")
    route = vendor_http.post(CHAT_URL).respond(400, json=body)

    with pytest.raises(ContextTooLongError, match="maximum context length is 128000 tokens"):
        run(call_llm_async("a very long prompt"))

    assert route.call_count == 1


def test_the_context_length_code_alone_means_too_long(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body("Request rejected.", code="context_length_exceeded")
    vendor_http.post(CHAT_URL).respond(400, json=body)

    with pytest.raises(ContextTooLongError, match="Request rejected"):
        run(call_llm_async("a very long prompt"))


def test_an_unknown_model_is_not_found_with_the_request_id(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body("The model `gpt-9` does not exist.", code="model_not_found")
    vendor_http.post(CHAT_URL).respond(404, json=body, headers={"x-request-id": "req_404"})

    with pytest.raises(
        ModelNotFoundError,
        match=r"openai:gpt-9 \(HTTP 404, request id req_404\): The model `gpt-9`",
    ):
        run(call_llm_async("hi", model="openai:gpt-9"))


def test_a_reply_that_is_not_json_is_malformed(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(
        200, content=b"<html>gateway</html>", headers={"x-request-id": "req_html"}
    )

    with pytest.raises(
        MalformedResponseError, match=r"HTTP 200, request id req_html\): the reply is not JSON"
    ):
        run(call_llm_async("hi", max_retries=0))


def test_a_reply_without_choices_is_malformed(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(200, json={**chat_completion(), "choices": []})

    with pytest.raises(MalformedResponseError, match="the reply has no choices"):
        run(call_llm_async("hi", max_retries=0))


def test_a_read_timeout_is_a_timeout(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    Path("pocketflow.toml").write_text("[providers.openai]\ntimeout = 30\n")
    vendor_http.post(CHAT_URL).mock(side_effect=httpcore2.ReadTimeout("timed out"))

    with pytest.raises(
        LLMTimeoutError, match=r"no reply from https://api\.openai\.com/v1 within 30s"
    ):
        run(call_llm_async("hi", max_retries=0))


def test_a_refused_connection_is_a_connection_error(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).mock(side_effect=httpcore2.ConnectError("connection refused"))

    with pytest.raises(
        LLMConnectionError, match=r"could not reach https://api.openai.com/v1 .*connection refused"
    ):
        run(call_llm_async("hi", max_retries=0))


def test_a_missing_key_names_the_variable(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.delenv("OPENAI_API_KEY")
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY is not set"):
        run(call_llm_async("hi"))

    assert route.call_count == 0


def test_an_error_event_in_a_stream_is_raised_with_its_message(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    event = b'data: {"error": {"message": "The server had an error.", "type": "server_error"}}\n\n'
    vendor_http.post(CHAT_URL).respond(content=event, headers={"content-type": "text/event-stream"})

    async def consume() -> list[str]:
        return [text async for text in stream_llm_async("hi", max_retries=0)]

    with pytest.raises(LLMError, match="The server had an error"):
        run(consume())


def test_a_stream_chunk_that_is_not_json_is_malformed(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = b'data: {"choices": [{"delta": {"content": "Hel\n\n'
    vendor_http.post(CHAT_URL).respond(content=body, headers={"content-type": "text/event-stream"})

    async def consume() -> list[str]:
        return [text async for text in stream_llm_async("hi", max_retries=0)]

    with pytest.raises(MalformedResponseError, match="a reply is not valid JSON"):
        run(consume())


def test_a_keyless_endpoint_that_wants_a_key_says_how_to_give_one(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    Path("pocketflow.toml").write_text(
        '[providers.local]\nkind = "openai"\nbase_url = "http://localhost:8000/v1"\n'
        "require_key = false\n"
    )
    vendor_http.post("http://localhost:8000/v1/chat/completions").respond(
        401, json={"detail": "Unauthorized"}
    )

    with pytest.raises(
        AuthenticationError,
        match=r"wants an API key: name .* with api_key_env under \[providers\.local\]",
    ):
        run(call_llm_async("hi", model="local:qwen2"))
