"""An :class:`~pocketflow.providers.LLMRequest` as Messages API parameters.

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
* ``temperature`` -> ``temperature`` in the body. anthropic 2.14 no longer declares it
  as a parameter of ``messages.create``, so it goes through ``extra_body``; it is sent
  only when the caller sets it.
* ``seed`` is not supported by the Messages API and is ignored.
* ``options`` (any other keyword given to the facade) are passed through unchanged:
  the ones ``messages.create`` declares (``metadata``, ``tools``, ``thinking``,
  ``extra_headers``, a ``system`` given as blocks, ...) as keyword arguments,
  overriding the mapped values; any other key is added to the JSON body.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from pocketflow.providers import LLMRequest, Message

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when neither the request nor the configuration sets it."""

OPENING_USER_TURN = "."
"""The user turn put before a conversation that would open with the assistant."""

MERGE_SEPARATOR = "\n\n"
"""What joins the texts of consecutive messages of the same role."""

# Chosen by the provider, never by options: it decides whether to stream.
_RESERVED = frozenset({"stream"})


@functools.cache
def _declared_parameters() -> frozenset[str]:
    """The keyword parameters of ``AsyncMessages.create`` in the installed SDK."""
    from anthropic.resources.messages import AsyncMessages

    signature = inspect.signature(AsyncMessages.create)
    return frozenset(name for name in signature.parameters if name != "self")


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


def build_params(request: LLMRequest, default_max_tokens: int) -> dict[str, Any]:
    """Keyword arguments for ``client.messages.create`` that carry ``request``."""
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else default_max_tokens,
        "messages": merge_turns(request.messages),
    }
    if request.system:
        params["system"] = request.system
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    extra_body: dict[str, Any] = {}
    if request.temperature is not None:
        extra_body["temperature"] = request.temperature
    _add_options(params, extra_body, request.options)
    if extra_body:
        params["extra_body"] = extra_body
    return params


def _add_options(
    params: dict[str, Any], extra_body: dict[str, Any], options: Mapping[str, Any]
) -> None:
    reserved = _RESERVED.intersection(options)
    if reserved:
        raise ValueError(
            f"The option {sorted(reserved)[0]!r} cannot be passed to the anthropic provider: "
            "call stream_llm_async(...) to stream, complete_async(...) not to."
        )
    declared = _declared_parameters()
    for key, value in options.items():
        if key == "extra_body":
            extra_body.update(value or {})
        elif key in declared:
            params[key] = value
        else:
            extra_body[key] = value
