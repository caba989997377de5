"""Vendor replies as the OpenAI API sends them, and the test key: shared by the tests.

(A plain module, on the path through conftest.py, so tests import it by name.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

SECRET = "sk-test-0123456789abcdef"
"""The OPENAI_API_KEY of the tests; no error message may contain it."""

CHAT_URL = "https://api.openai.com/v1/chat/completions"


def chat_completion(
    text: str = "Hello there.",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    finish_reason: str = "stop",
    prompt_tokens: int = 12,
    completion_tokens: int = 3,
    cached_tokens: int = 0,
) -> dict[str, Any]:
    """A Chat Completions reply as the API sends it."""
    return {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_123",
    }


def sse_stream(*chunks: dict[str, Any]) -> bytes:
    """Server-sent events as the API streams them: ``data: {...}`` blocks, then [DONE]."""
    events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return "".join([*events, "data: [DONE]\n\n"]).encode()


def error_body(
    message: str, *, code: str | None = None, kind: str = "invalid_request_error"
) -> dict[str, Any]:
    """An API error reply body."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


Runner = Callable[[Coroutine[Any, Any, Any]], Any]
"""The ``run`` fixture: runs a coroutine on a fresh loop, then closes the clients."""
