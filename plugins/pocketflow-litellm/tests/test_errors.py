"""LiteLLM's exceptions become the core's errors, with what a user needs and never a key;
LiteLLM itself retries nothing, so each attempt of the core's policy is one request."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
import respx
from wires import ANTHROPIC_URL, MISTRAL_URL, chat_completion

from pocketflow import call_llm_async
from pocketflow.errors import (
    AuthenticationError,
    ContextTooLongError,
    LLMConnectionError,
    LLMTimeoutError,
    MalformedResponseError,
    MissingKeyError,
    ModelNotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from pocketflow.testing import FakeClock

SECRET = "sk-litellm-test-0123456789abcdef"
MISTRAL = "litellm:mistral/mistral-large-latest"
ANTHROPIC = "litellm:anthropic/claude-haiku-4-5"
Run = Callable[..., Any]


@pytest.fixture(autouse=True)
def keys(litellm_env: pytest.MonkeyPatch) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", SECRET)
    litellm_env.setenv("ANTHROPIC_API_KEY", SECRET)


def mistral_error(status: int, message: str, **headers: str) -> httpx.Response:
    body = {"object": "error", "message": message, "type": "invalid_request_error"}
    return httpx.Response(status, json=body, headers=headers)


def test_rate_limit_waits_as_the_vendor_asks_then_succeeds(
    vendor_http: respx.MockRouter, fake_clock: FakeClock, run: Run
) -> None:
    route = vendor_http.post(MISTRAL_URL).mock(
        side_effect=[
            mistral_error(429, "slow down", **{"retry-after": "7"}),
            httpx.Response(200, json=chat_completion("ok")),
        ]
    )
    assert run(call_llm_async("Hi", model=MISTRAL)) == "ok"
    assert route.call_count == 2  # one request per attempt: LiteLLM retried nothing
    assert fake_clock.sleeps == [7.0]


def test_rate_limit_error_says_what_and_when(vendor_http: respx.MockRouter, run: Run) -> None:
    vendor_http.post(MISTRAL_URL).mock(
        return_value=mistral_error(429, "slow down", **{"retry-after": "3", "x-request-id": "r1"})
    )
    with pytest.raises(RateLimitError) as caught:
        run(call_llm_async("Hi", model=MISTRAL, max_retries=0))
    assert caught.value.retry_after == 3.0
    assert str(caught.value) == (
        "Rate limited on litellm:mistral/mistral-large-latest "
        "(HTTP 429, request id r1, retry after 3s): slow down"
    )


def test_server_errors_are_retried_within_the_budget_only(
    vendor_http: respx.MockRouter, fake_clock: FakeClock, run: Run
) -> None:
    route = vendor_http.post(MISTRAL_URL).mock(return_value=mistral_error(500, "boom"))
    with pytest.raises(ServerError, match=r"HTTP 500.*boom"):
        run(call_llm_async("Hi", model=MISTRAL, max_retries=2))
    assert route.call_count == 3


def test_an_overloaded_vendor_is_an_overload_not_a_plain_server_error(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    vendor_http.post(ANTHROPIC_URL).mock(return_value=httpx.Response(529, json=body))
    with pytest.raises(OverloadedError, match=r"HTTP 529.*Overloaded"):
        run(call_llm_async("Hi", model=ANTHROPIC, max_retries=0))


def test_authentication_error_hides_the_key_everywhere(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    vendor_http.post(MISTRAL_URL).mock(return_value=mistral_error(401, f"bad key {SECRET}"))
    with pytest.raises(AuthenticationError) as caught:
        run(call_llm_async("Hi", model=MISTRAL))
    message = str(caught.value)
    assert "bad key [redacted]" in message and "api_key_env" in message
    chained: BaseException | None = caught.value
    while chained is not None:
        assert SECRET not in str(chained) and SECRET not in repr(chained.args)
        chained = chained.__cause__ or chained.__context__


def test_context_window_exceeded(vendor_http: respx.MockRouter, run: Run) -> None:
    message = "prompt is too long: 300000 tokens > 200000 maximum"
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    vendor_http.post(ANTHROPIC_URL).mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(ContextTooLongError, match="prompt is too long"):
        run(call_llm_async("Hi", model=ANTHROPIC))


def test_unknown_model(vendor_http: respx.MockRouter, run: Run) -> None:
    vendor_http.post(MISTRAL_URL).mock(return_value=mistral_error(404, "no such model"))
    with pytest.raises(ModelNotFoundError, match=r"HTTP 404.*no such model"):
        run(call_llm_async("Hi", model=MISTRAL))


def test_a_dropped_connection(vendor_http: respx.MockRouter, run: Run) -> None:
    vendor_http.post(MISTRAL_URL).mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(LLMConnectionError, match="RemoteProtocolError: peer closed"):
        run(call_llm_async("Hi", model=MISTRAL, max_retries=0))


def test_a_timeout_names_the_setting(vendor_http: respx.MockRouter, run: Run) -> None:
    vendor_http.post(MISTRAL_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(LLMTimeoutError) as caught:
        run(call_llm_async("Hi", model=MISTRAL, max_retries=0))
    assert str(caught.value) == (
        "Timed out on litellm:mistral/mistral-large-latest: no reply within 120s "
        "(timeout under [providers.litellm] sets it)"
    )


def test_a_reply_that_is_not_json(vendor_http: respx.MockRouter, run: Run) -> None:
    vendor_http.post(ANTHROPIC_URL).mock(return_value=httpx.Response(200, content=b"<html>"))
    with pytest.raises(MalformedResponseError, match="the reply is not JSON"):
        run(call_llm_async("Hi", model=ANTHROPIC, max_retries=0))


def test_a_missing_key_names_the_variable_before_sending(
    litellm_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Run
) -> None:
    litellm_env.delenv("MISTRAL_API_KEY")
    route = vendor_http.post(MISTRAL_URL)
    with pytest.raises(MissingKeyError) as caught:
        run(call_llm_async("Hi", model=MISTRAL))
    assert "MISTRAL_API_KEY is not set" in str(caught.value)
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("model", "url"),
    [
        ("mistral/mistral-large-latest", MISTRAL_URL),
        ("openai/gpt-4o-mini", "https://api.openai.com/v1/chat/completions"),
        ("groq/llama-3.3-70b-versatile", "https://api.groq.com/openai/v1/chat/completions"),
        ("mistral/mistral-embed", "https://api.mistral.ai/v1/embeddings"),
        ("text-embedding-3-small", "https://api.openai.com/v1/embeddings"),
    ],
)
def test_litellm_retries_nothing_on_any_route(
    litellm_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Run,
    model: str,
    url: str,
) -> None:
    """One request per attempt, also where LiteLLM drives the OpenAI SDK (whose
    ``max_retries=0`` LiteLLM would turn into its default of 2 on some routes)."""
    from pocketflow.providers import EmbeddingRequest
    from pocketflow.runtime import current_runtime

    litellm_env.setenv("OPENAI_API_KEY", SECRET)
    litellm_env.setenv("GROQ_API_KEY", SECRET)
    route = vendor_http.post(url).mock(return_value=httpx.Response(500, json={"message": "boom"}))
    attempt: Coroutine[Any, Any, object]
    if "embed" in model:
        provider = current_runtime().provider("litellm").provider
        attempt = provider.embed(EmbeddingRequest(model=model, texts=("otters",)))
    else:
        attempt = call_llm_async("Hi", model=f"litellm:{model}", max_retries=0)
    with pytest.raises(ServerError, match="boom"):
        run(attempt)
    assert route.call_count == 1
