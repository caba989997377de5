"""Each of LiteLLM's own exception classes, raised without a vendor HTTP error under it
(LiteLLM's ``mock_response`` raises it as a call would), becomes the core's error."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from pocketflow import call_llm_async
from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

Run = Callable[..., Any]
MODEL = "litellm:mistral/mistral-large-latest"
WHERE = {"llm_provider": "mistral", "model": "mistral-large-latest"}

CASES: list[tuple[str, type[LLMError]]] = [
    ("RateLimitError", RateLimitError),
    ("AuthenticationError", AuthenticationError),
    ("PermissionDeniedError", PermissionDeniedError),
    ("NotFoundError", ModelNotFoundError),
    ("BadRequestError", BadRequestError),
    ("ContextWindowExceededError", ContextTooLongError),
    ("ServiceUnavailableError", OverloadedError),
    ("InternalServerError", ServerError),
    ("BadGatewayError", ServerError),
    ("APIConnectionError", LLMConnectionError),
    ("Timeout", LLMTimeoutError),
    ("MidStreamFallbackError", LLMConnectionError),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_litellm_exception_becomes_the_core_error(
    litellm_env: pytest.MonkeyPatch,
    litellm_module: ModuleType,
    run: Run,
    name: str,
    expected: type[LLMError],
) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", "sk-test-exceptions-0123456789")
    extra: dict[str, Any] = {}
    if name == "PermissionDeniedError":
        extra["response"] = httpx.Response(403, request=httpx.Request("POST", "https://x.test"))
    kind = getattr(litellm_module.exceptions, name)
    raised = kind(message="the vendor said no", **WHERE, **extra)
    with pytest.raises(expected) as caught:
        run(call_llm_async("Hi", model=MODEL, max_retries=0, mock_response=raised))
    assert type(caught.value) is expected
    said = "no reply within 120s" if expected is LLMTimeoutError else "the vendor said no"
    assert said in str(caught.value)
    assert "litellm." not in caught.value.message  # LiteLLM's class prefixes taken off
    assert caught.value.__cause__ is raised
