"""The Chat Completions request body for an :class:`~pocketflow.providers.LLMRequest`."""

from __future__ import annotations

from typing import Any

from pocketflow.providers import LLMRequest
from pocketflow_openai.connection import MAX_TOKENS_PARAMS

NOT_PASSED_THROUGH = frozenset({"stream"})
"""Options the provider decides itself: ``complete`` never streams, ``stream`` always does."""


def chat_body(request: LLMRequest, max_tokens_param: str) -> dict[str, Any]:
    """The JSON body: model, messages (``system`` first), sampling settings, then options.

    ``max_tokens`` is sent as ``max_tokens_param`` unless the options name either
    spelling themselves. Options are passed through unchanged and win over the
    fields set from the request.
    """
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [{"role": m.role, "content": m.content} for m in request.messages]
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None and not any(p in request.options for p in MAX_TOKENS_PARAMS):
        body[max_tokens_param] = request.max_tokens
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    for key, value in request.options.items():
        if key not in NOT_PASSED_THROUGH:
            body[key] = value
    return body


def stream_body(request: LLMRequest, max_tokens_param: str) -> dict[str, Any]:
    """The body of a streamed call: usage is asked for in a final chunk."""
    body = chat_body(request, max_tokens_param)
    body["stream"] = True
    body["stream_options"] = {"include_usage": True, **body.get("stream_options", {})}
    return body
