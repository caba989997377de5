"""Vendor failures as the core's normalised errors: what a user sees, and retries."""

from __future__ import annotations

from pathlib import Path

import anthropic
import httpx
import httpx2
import pytest
import respx
from anthropic_fakes import API_KEY, Runner, error_json, message_json

from pocketflow import call_llm_async, complete_async
from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    ModelNotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from pocketflow.testing import FakeClock


def test_a_429_waits_retry_after_then_succeeds(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.side_effect = [
        httpx.Response(
            429,
            json=error_json("rate_limit_error", "Number of requests has exceeded your rate limit"),
            headers={"retry-after": "2"},
        ),
        httpx.Response(200, json=message_json("Made it.")),
    ]

    response = run(complete_async("Hi"))

    assert response.text == "Made it."
    assert messages_api.call_count == 2
    assert fake_clock.sleeps == [2.0]
    assert response.attempts == 2


def test_a_529_overloaded_is_retried_with_backoff(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.side_effect = [
        httpx.Response(529, json=error_json("overloaded_error", "Overloaded")),
        httpx.Response(200, json=message_json("Made it.")),
    ]

    assert run(call_llm_async("Hi")) == "Made it."
    assert messages_api.call_count == 2
    assert len(fake_clock.sleeps) == 1
    assert 0.0 <= fake_clock.sleeps[0] <= 0.5  # the first backoff step, with jitter


def test_a_429_that_keeps_failing_raises_rate_limited(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.respond(
        429, json=error_json("rate_limit_error", "Slow down"), headers={"retry-after": "3"}
    )

    with pytest.raises(RateLimitError, match=r"HTTP 429.*retry after 3s.*Slow down"):
        run(complete_async("Hi"))
    assert messages_api.call_count == 5  # the core's default: 4 retries
    assert fake_clock.sleeps == [3.0] * 4


def test_a_401_names_the_key_variable_and_hides_the_key(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(
        401,
        json=error_json("authentication_error", f"invalid x-api-key {API_KEY}"),
        headers={"request-id": "req_401"},
    )

    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY") as caught:
        run(complete_async("Hi"))
    message = str(caught.value)
    assert API_KEY not in message
    assert "anthropic:claude-haiku-4-5 (HTTP 401, request id req_401)" in message
    assert messages_api.call_count == 1
    assert isinstance(caught.value.__cause__, anthropic.AuthenticationError)


HTTP_ERRORS = [
    (
        400,
        "invalid_request_error",
        "messages: text content blocks must be non-empty",
        BadRequestError,
    ),
    (
        400,
        "invalid_request_error",
        "prompt is too long: 210000 tokens > 200000",
        ContextTooLongError,
    ),
    (403, "permission_error", "This key may not use the specified model.", PermissionDeniedError),
    (404, "not_found_error", "model: claude-nope", ModelNotFoundError),
    (413, "request_too_large", "Request exceeds the maximum allowed bytes.", ContextTooLongError),
    (500, "api_error", "Internal server error", ServerError),
]


@pytest.mark.parametrize(("status", "kind", "vendor_message", "expected"), HTTP_ERRORS)
def test_http_errors_are_mapped(
    anthropic_env: pytest.MonkeyPatch,
    messages_api: respx.Route,
    run: Runner,
    status: int,
    kind: str,
    vendor_message: str,
    expected: type[LLMError],
) -> None:
    messages_api.respond(status, json=error_json(kind, vendor_message))

    with pytest.raises(expected) as caught:
        run(complete_async("Hi", max_retries=0))
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert f"{vendor_message} ({kind})" in str(caught.value)


def test_a_529_is_overloaded_and_retryable(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(529, json=error_json("overloaded_error", "Overloaded"))

    with pytest.raises(
        OverloadedError, match=r"HTTP 529.*Overloaded \(overloaded_error\)"
    ) as caught:
        run(complete_async("Hi", max_retries=0))
    assert caught.value.retryable


def test_a_400_is_not_retried(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.respond(400, json=error_json("invalid_request_error", "bad"))

    with pytest.raises(BadRequestError):
        run(complete_async("Hi"))
    assert messages_api.call_count == 1
    assert fake_clock.sleeps == []


def test_an_error_without_json_shows_the_body(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(502, text="<html>Bad gateway</html>")

    with pytest.raises(ServerError, match=r"HTTP 502.*<html>Bad gateway</html>"):
        run(complete_async("Hi", max_retries=0))


def test_a_reply_that_is_not_json_is_malformed(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(200, text="<html>Welcome to the captive portal</html>")

    with pytest.raises(MalformedResponseError, match=r"not JSON.*captive portal"):
        run(complete_async("Hi", max_retries=0))


def test_a_reply_without_content_is_malformed(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(200, json={"id": "msg_01", "type": "message"})

    with pytest.raises(MalformedResponseError, match="no 'content' list"):
        run(complete_async("Hi", max_retries=0))


def test_a_timeout_is_a_timeout_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text("[providers.anthropic]\ntimeout = 30\n")
    messages_api.side_effect = httpx2.ReadTimeout("The read operation timed out")

    with pytest.raises(
        LLMTimeoutError, match=r"no reply from https://api.anthropic.com within 30s"
    ) as caught:
        run(complete_async("Hi", max_retries=0))
    assert isinstance(caught.value.__cause__, anthropic.APITimeoutError)


def test_a_refused_connection_is_a_connection_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.side_effect = httpx2.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(
        LLMConnectionError, match=r"cannot reach https://api.anthropic.com: ConnectError: .*refused"
    ) as caught:
        run(complete_async("Hi", max_retries=0))
    assert isinstance(caught.value.__cause__, anthropic.APIConnectionError)


def test_a_dropped_connection_is_retried(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, fake_clock: FakeClock, run: Runner
) -> None:
    messages_api.side_effect = [
        httpx2.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(200, json=message_json("Made it.")),
    ]

    assert run(call_llm_async("Hi")) == "Made it."
    assert messages_api.call_count == 2
