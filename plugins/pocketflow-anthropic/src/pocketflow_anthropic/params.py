"""An :class:`~pocketflow.providers.LLMRequest` as a Messages API request: the JSON
body, and the SDK request options (headers, query, timeout) for ``client.post``.

What is mapped, and how:

* ``system`` (the core has already lifted system messages into it) -> ``system``.
* ``messages`` -> ``messages``, with consecutive messages of the same role merged
  (their texts joined by a blank line), since the API wants user and assistant turns
  to alternate. The API also wants the conversation to open with a user turn: when it
  opens with an assistant message (or has no message at all, only a system prompt),
  a one-character user turn, :data:`OPENING_USER_TURN`, is put first. A trailing
  assistant message is sent as is: the API treats it as the start of the reply
  (a "prefill") and returns only its continuation.
* ``max_tokens`` -> ``max_tokens``; when the request has none, the provider's
  configured default (``max_tokens`` under ``[providers.anthropic]``), else
  :data:`DEFAULT_MAX_TOKENS`. The API requires it.
* ``stop`` -> ``stop_sequences``.
* ``temperature`` -> ``temperature``, sent only when the caller sets it.
* ``seed`` is not supported by the Messages API and is ignored.
* ``options`` (any other keyword given to the facade) are passed through as
  ``messages.create`` would take them: ``extra_headers``, ``extra_query``,
  ``extra_body`` and ``timeout`` as request options; ``user_profile_id`` and
  ``workspace_id`` as the headers ``messages.create`` sends them in; every other key
  (``metadata``, ``tools``, ``thinking``, ``top_k``, a ``system`` given as blocks,
  ...) into the JSON body, overriding the mapped values. ``extra_body`` is merged
  over the body last, as the SDK does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic

from pocketflow.providers import LLMRequest, Message

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when neither the request nor the configuration sets it."""

OPENING_USER_TURN = "."
"""The user turn put before a conversation that would open with the assistant."""

MERGE_SEPARATOR = "\n\n"
"""What joins the texts of consecutive messages of the same role."""

HEADER_PARAMETERS = {
    "user_profile_id": "anthropic-user-profile-id",
    "workspace_id": "anthropic-workspace-id",
}
"""Parameters of ``messages.create`` that it sends as headers, not in the body."""

# Chosen by the provider, never by options: it decides whether to stream.
_RESERVED = frozenset({"stream"})


@dataclass(slots=True)
class MessagesCall:
    """What ``client.post("/v1/messages", ...)`` is given for one request."""

    body: dict[str, Any]
    options: anthropic.RequestOptions = field(default_factory=lambda: anthropic.RequestOptions())


def merge_turns(messages: Iterable[Message]) -> list[dict[str, str]]:
    """The messages as alternating API turns, opening with a user turn."""
    turns: list[dict[str, str]] = []
    for message in messages:
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += MERGE_SEPARATOR + message.content
        else:
            turns.append({"role": message.role, "content": message.content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": OPENING_USER_TURN})
    return turns


def build_call(request: LLMRequest, default_max_tokens: int, *, stream: bool) -> MessagesCall:
    """The body and request options that carry ``request`` (streamed or not)."""
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else default_max_tokens,
        "messages": merge_turns(request.messages),
    }
    if request.system:
        body["system"] = request.system
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
    call = MessagesCall(body)
    if request.options:
        _add_options(call, request.options)
    return call


def _add_options(call: MessagesCall, options: Mapping[str, Any]) -> None:
    reserved = _RESERVED.intersection(options)
    if reserved:
        raise ValueError(
            f"The option {sorted(reserved)[0]!r} cannot be passed to the anthropic provider: "
            "call stream_llm_async(...) to stream, complete_async(...) not to."
        )
    headers: dict[str, Any] = {}
    extra_headers: Mapping[str, Any] | None = None
    for key, value in options.items():
        if key in HEADER_PARAMETERS:
            headers[HEADER_PARAMETERS[key]] = value
        elif key == "extra_headers":
            extra_headers = value
        elif key == "extra_query":
            if value is not None:
                call.options["params"] = value
        elif key == "extra_body":
            if value is not None:
                call.options["extra_json"] = value
        elif key == "timeout":
            call.options["timeout"] = value
        else:
            call.body[key] = value
    headers.update(extra_headers or {})
    if headers:
        call.options["headers"] = headers
