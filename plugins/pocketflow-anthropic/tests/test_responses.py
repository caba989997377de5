"""What a Messages API reply becomes: the text and the LLMResponse fields."""

from __future__ import annotations

import pytest
import respx
from anthropic_fakes import Runner, message_json

from pocketflow import call_llm_async, complete_async


def test_call_llm_async_returns_the_text(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json("A short summary."))

    assert run(call_llm_async("Summarize: a long text")) == "A short summary."


def test_the_response_says_who_answered_and_how(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(
        json=message_json("Done.", model="claude-haiku-4-5-20251001", stop_reason="max_tokens"),
        headers={"request-id": "req_011CabcXYZ"},
    )

    response = run(complete_async("Hi"))

    assert response.text == "Done."
    assert response.provider == "anthropic"
    assert response.model == "claude-haiku-4-5-20251001"
    assert response.finish_reason == "max_tokens"
    assert response.request_id == "req_011CabcXYZ"
    assert response.attempts == 1


def test_usage_maps_input_output_and_cache_tokens(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    usage = {
        "input_tokens": 20,
        "output_tokens": 7,
        "cache_read_input_tokens": 1500,
        "cache_creation_input_tokens": 300,
    }
    messages_api.respond(json=message_json(usage=usage))

    response = run(complete_async("Hi"))

    assert (
        response.usage.input_tokens,
        response.usage.output_tokens,
        response.usage.cache_read_tokens,
        response.usage.cache_write_tokens,
    ) == (20, 7, 1500, 300)


def test_the_text_joins_text_blocks_and_skips_others(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    body = message_json()
    body["content"] = [
        {"type": "thinking", "thinking": "Let me think.", "signature": "sig"},
        {"type": "text", "text": "Part one. "},
        {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}},
        {"type": "text", "text": "Part two."},
    ]
    messages_api.respond(json=body)

    assert run(call_llm_async("Hi")) == "Part one. Part two."


def test_a_reply_without_text_blocks_is_empty_text(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    body = message_json()
    body["content"] = []
    messages_api.respond(json=body)

    assert run(call_llm_async("Hi")) == ""
