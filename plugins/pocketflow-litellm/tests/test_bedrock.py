"""Bedrock through LiteLLM: requests signed with SigV4 from the environment's AWS
credentials, the Converse API's replies and errors, and no secret in any message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from pocketflow import complete_async
from pocketflow.errors import RateLimitError

Run = Callable[..., Any]
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
URL = f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{MODEL.replace(':', '%3A')}/converse"
ACCESS_KEY_ID = "AKIATESTKEYID0001"
SECRET_ACCESS_KEY = "test-secret-access-key-0123456789"


@pytest.fixture(autouse=True)
def aws(litellm_env: pytest.MonkeyPatch) -> None:
    litellm_env.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    litellm_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    litellm_env.setenv("AWS_REGION_NAME", "us-east-1")


def converse_reply(text: str) -> httpx.Response:
    body = {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
        "metrics": {"latencyMs": 10},
    }
    return httpx.Response(200, json=body, headers={"x-amzn-requestid": "aws-req-1"})


def test_a_call_is_signed_with_sigv4_and_read(vendor_http: respx.MockRouter, run: Run) -> None:
    route = vendor_http.post(URL).mock(return_value=converse_reply("Hello from Bedrock."))
    response = run(complete_async("Hi", model=f"litellm:bedrock/{MODEL}", system="Be brief."))
    assert response.text == "Hello from Bedrock."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 4)
    assert response.request_id == "aws-req-1"
    request = route.calls[0].request
    assert request.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/"
    )
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]
    body = json.loads(request.content)
    assert body["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    assert body["system"] == [{"text": "Be brief."}]


def test_throttling_is_a_rate_limit_without_secrets(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    vendor_http.post(URL).mock(
        return_value=httpx.Response(
            429,
            json={"message": f"Too many requests for {SECRET_ACCESS_KEY}"},
            headers={"x-amzn-errortype": "ThrottlingException", "x-amzn-requestid": "aws-req-2"},
        )
    )
    with pytest.raises(RateLimitError) as caught:
        run(complete_async("Hi", model=f"litellm:bedrock/{MODEL}", max_retries=0))
    message = str(caught.value)
    assert "request id aws-req-2" in message and "Too many requests for [redacted]" in message
    assert SECRET_ACCESS_KEY not in repr(caught.value.__cause__)
