"""No log record LiteLLM or PocketFlow writes during a failing call holds the key, even at
DEBUG level."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from wires import MISTRAL_URL

from pocketflow import call_llm_async
from pocketflow.errors import AuthenticationError

SECRET = "sk-litellm-logs-0123456789abcdef"


def test_a_failed_call_logs_no_key(
    litellm_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", SECRET)
    body = {"object": "error", "message": f"key {SECRET} is revoked", "type": "auth"}
    vendor_http.post(MISTRAL_URL).mock(return_value=httpx.Response(401, json=body))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError):
        run(call_llm_async("Hi", model="litellm:mistral/mistral-large-latest"))
    assert any(r.name.startswith("LiteLLM") for r in caplog.records)  # it did log
    for record in caplog.records:
        assert SECRET not in record.getMessage()
