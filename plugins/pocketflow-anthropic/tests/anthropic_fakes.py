"""What the mocked Messages API sends back, and the names the tests share.

Importable from the tests because ``conftest.py`` puts this folder on ``sys.path``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

API_KEY = "sk-ant-test-0123456789"
MODEL = "claude-haiku-4-5"
MESSAGES_URL = "https://api.anthropic.com/v1/messages"

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
"""The ``run`` fixture: runs a coroutine on a new loop, then closes the clients."""


def message_json(
    text: str = "Hello from Claude.",
    *,
    model: str = "claude-haiku-4-5-20251001",
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Messages API reply as the API sends it."""
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 12, "output_tokens": 5},
    }


def error_json(kind: str, message: str) -> dict[str, Any]:
    """An error body as the API sends it."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def sse(*events: dict[str, Any]) -> bytes:
    """Server-sent events as the API streams them: ``event: <type>`` then the JSON."""
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )
