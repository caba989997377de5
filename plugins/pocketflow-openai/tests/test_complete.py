"""A completion through the facades: what is sent, and what comes back."""

from __future__ import annotations

import json

import pytest
import respx
from openai_fakes import CHAT_URL, SECRET, Runner, chat_completion

from pocketflow import call_llm_async, complete_async


def test_the_request_body_carries_the_call(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(
        complete_async(
            "Summarize: the sky is blue.",
            system="Be brief.",
            temperature=0.2,
            max_tokens=64,
            stop=["\n\n"],
            seed=7,
            top_p=0.9,
            response_format={"type": "text"},
        )
    )

    assert json.loads(route.calls.last.request.content) == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Summarize: the sky is blue."},
        ],
        "temperature": 0.2,
        "max_completion_tokens": 64,
        "stop": ["\n\n"],
        "seed": 7,
        "top_p": 0.9,
        "response_format": {"type": "text"},
    }


def test_the_key_is_sent_as_a_bearer_token(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi"))

    assert route.calls.last.request.headers["authorization"] == f"Bearer {SECRET}"


def test_the_sdk_does_not_retry_on_its_own(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi"))

    assert route.calls.last.request.headers["x-stainless-retry-count"] == "0"


def test_an_option_naming_the_token_limit_wins_over_max_tokens(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi", max_tokens=64, max_completion_tokens=10))

    assert json.loads(route.calls.last.request.content)["max_completion_tokens"] == 10


def test_the_text_is_the_first_choice(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    vendor_http.post(CHAT_URL).respond(json=chat_completion("The sky is blue."))

    assert run(call_llm_async("hi")) == "The sky is blue."


def test_the_response_says_who_answered_and_what_it_cost(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion(
        "Blue.", prompt_tokens=1200, completion_tokens=2, cached_tokens=1024, finish_reason="length"
    )
    vendor_http.post(CHAT_URL).respond(json=reply, headers={"x-request-id": "req_abc123"})

    response = run(complete_async("What colour is the sky?"))

    assert (response.provider, response.model) == ("openai", "gpt-4o-mini-2024-07-18")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1200, 2)
    assert response.usage.cache_read_tokens == 1024
    assert response.finish_reason == "length"
    assert response.request_id == "req_abc123"


def test_a_reply_without_content_is_empty_text(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion(finish_reason="tool_calls")
    reply["choices"][0]["message"]["content"] = None
    vendor_http.post(CHAT_URL).respond(json=reply)

    assert run(call_llm_async("hi")) == ""


def test_complete_never_asks_for_a_stream(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion("Whole."))

    assert run(call_llm_async("hi", stream=True)) == "Whole."
    assert "stream" not in json.loads(route.calls.last.request.content)
