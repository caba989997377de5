"""The LLM facades user code awaits: ``call_llm_async``, ``complete_async``,
``stream_llm_async``, and their sync twins.

A call goes: model string (argument, else ``POCKETFLOW_LLM``, else the config file)
-> alias -> provider -> the call policy (limits, retries, deadline) -> the provider;
if the model fails for good with a retryable error, each configured fallback is
tried in turn. Every finished call is counted (:mod:`pocketflow.calls`) and reported
to the ``llm_call_finished`` observer hook.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pocketflow import policy
from pocketflow.calls import LLMCallRecord, LLMCallStart, record_call
from pocketflow.cost import estimate_cost
from pocketflow.durability import current_calls, journaled
from pocketflow.errors import ConfigError, LLMError
from pocketflow.providers import LLMRequest, LLMResponse, Message
from pocketflow.runtime import LiveProvider, ModelRef, Runtime, current_runtime
from pocketflow.sync import run_sync

Prompt = str | Sequence[Message | Mapping[str, str]]
"""A prompt string (one user message), or messages as Message or {"role", "content"}."""


def build_request(
    prompt: Prompt,
    model: str,
    *,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: str | Iterable[str] | None = None,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> LLMRequest:
    """The provider-neutral request for ``prompt``; system messages are lifted into ``system``."""
    if isinstance(prompt, str):
        messages: tuple[Message, ...] = (Message("user", prompt),)
    else:
        messages = tuple(_message(item) for item in prompt)
        if not messages:
            raise ValueError("The prompt has no messages: pass a string or at least one message.")
    system_parts = [system] if system else []
    system_parts += [m.content for m in messages if m.role == "system"]
    messages = tuple(m for m in messages if m.role != "system")
    stops = (stop,) if isinstance(stop, str) else (tuple(stop) if stop is not None else None)
    return LLMRequest(
        model=model,
        messages=messages,
        system="\n\n".join(system_parts) or None,
        temperature=temperature,
        max_tokens=max_tokens,
        stop=stops,
        seed=seed,
        options=dict(options or {}),
    )


def _message(item: Message | Mapping[str, str]) -> Message:
    if isinstance(item, Message):
        return item
    try:
        role, content = item["role"], item["content"]
    except (KeyError, TypeError):
        raise ValueError(
            f"A message must be a Message or a mapping with 'role' and 'content', not {item!r}."
        ) from None
    if role not in ("system", "user", "assistant"):
        raise ValueError(f"A message's role must be system, user or assistant, not {role!r}.")
    return Message(role, content)


def _candidates(runtime: Runtime, model: str | None, fallbacks: Sequence[str] | None) -> list[str]:
    first = model if model is not None else runtime.config.llm
    if not first:
        runtime.resolve(None)  # raises the "nothing configured" error
    chosen = list(fallbacks) if fallbacks is not None else list(runtime.config.fallbacks)
    return [str(first), *(f for f in chosen if f != first)]


def _policy_for(
    live: LiveProvider, timeout: float | None, max_retries: int | None
) -> policy.RetryPolicy:
    if timeout is None and max_retries is None:
        return live.policy
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"timeout must be greater than 0 seconds, not {timeout!r}.")
    if max_retries is not None and max_retries < 0:
        raise ConfigError(f"max_retries must be 0 or more, not {max_retries!r}.")
    return replace(
        live.policy,
        timeout=live.policy.timeout if timeout is None else timeout,
        max_retries=live.policy.max_retries if max_retries is None else max_retries,
    )


def _label(error: LLMError, ref: ModelRef) -> LLMError:
    error.locate(ref.provider, ref.model)
    return error


def _finish(
    runtime: Runtime,
    requested: str,
    response: LLMResponse | None,
    error: BaseException | None,
    duration: float,
    attempts: policy.Attempts,
    call: LLMCallStart | None = None,
) -> None:
    if response is not None and response.cost is None:
        response.cost = _cost(runtime, requested, response)
    record = LLMCallRecord(
        model=requested,
        response=response,
        error=error,
        duration=duration,
        attempts=attempts.tries,
        limit_wait=attempts.limit_wait,
        call=call,
    )
    record_call(record)
    if runtime.observes_calls:
        runtime.plugins.hooks.hook.llm_call_finished(record=record)


def _cost(runtime: Runtime, requested: str, response: LLMResponse) -> float | None:
    config = runtime.config
    kind = config.providers.get(response.provider, {}).get("kind")
    return estimate_cost(
        response.provider, response.model, response.usage, config.prices, kind, requested
    )


def _started(
    runtime: Runtime, requested: str, ref: ModelRef, request: LLMRequest, stream: bool
) -> LLMCallStart | None:
    """Report a call's start to the observers; the start, for its finish record."""
    if not runtime.observes_calls:
        return None
    call = LLMCallStart(requested, ref.provider, request, stream)
    runtime.plugins.hooks.hook.llm_call_started(call=call)
    return call


@journaled("llm")
async def complete_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: str | Iterable[str] | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    fallbacks: Sequence[str] | None = None,
    **options: Any,
) -> LLMResponse:
    """Call an LLM and return the whole :class:`LLMResponse` (text, usage, who answered).

    ``model`` is "provider:model" or an alias (default: the configured model).
    ``timeout`` covers the whole call, retries included; ``max_retries`` overrides the
    provider's; ``fallbacks`` overrides the configured fallback models. Any other
    keyword is passed to the vendor unchanged.
    """
    runtime = current_runtime()
    started = policy.clock.now()
    attempts = policy.Attempts()
    candidates = _candidates(runtime, model, fallbacks)
    call = None
    try:
        for index, candidate in enumerate(candidates):
            ref = runtime.resolve(candidate)
            live = runtime.provider(ref.provider)
            request = build_request(
                prompt, ref.model, system=system, temperature=temperature,
                max_tokens=max_tokens, stop=stop, seed=seed, options=options,
            )  # fmt: skip
            if index == 0:
                call = _started(runtime, candidates[0], ref, request, False)
            try:
                response = await policy.call_with_policy(
                    _bind(live, request),
                    _policy_for(live, timeout, max_retries),
                    live.gate.limiter,
                    attempts,
                )
            except LLMError as error:
                if not error.retryable or index == len(candidates) - 1:
                    raise _label(error, ref) from error.__cause__
                continue
            response.latency = policy.clock.now() - started
            response.attempts = attempts.tries
            _finish(runtime, candidates[0], response, None, response.latency, attempts, call)
            return response
    except BaseException as error:
        _finish(runtime, candidates[0], None, error, policy.clock.now() - started, attempts, call)
        raise
    raise AssertionError("unreachable: the last candidate returns or raises")


def _bind(live: LiveProvider, request: LLMRequest) -> Callable[[], Awaitable[LLMResponse]]:
    provider = live.provider

    def attempt() -> Awaitable[LLMResponse]:
        return provider.complete(request)

    return attempt


async def call_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    **options: Any,
) -> str:
    """Call an LLM and return its text: the facade the seed program awaits.

    Takes the same keywords as :func:`complete_async`.
    """
    response = await complete_async(
        prompt, model=model, system=system, temperature=temperature, max_tokens=max_tokens,
        **options,
    )  # fmt: skip
    return response.text


class LLMStream:
    """An async iterator of text chunks; ``response`` holds usage once it is exhausted."""

    def __init__(self, chunks: AsyncIterator[str | LLMResponse]) -> None:
        self._chunks = chunks
        self.response: LLMResponse | None = None

    def __aiter__(self) -> LLMStream:
        return self

    async def __anext__(self) -> str:
        async for item in self._chunks:
            if isinstance(item, LLMResponse):
                self.response = item
                continue
            return item
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the stream early and release its connection."""
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _journaled_stream(open_stream: Callable[..., LLMStream]) -> Callable[..., LLMStream]:
    """Replay a journaled stream's answer inside a durable step, or record it at its end."""

    @functools.wraps(open_stream)
    def journaled_stream(*args: Any, **kwargs: Any) -> LLMStream:
        journal = current_calls.get()
        if journal is None:
            return open_stream(*args, **kwargs)
        slot = journal.slot("llm")
        if slot.found:
            return LLMStream(_replay(slot.value))
        stream = open_stream(*args, **kwargs)
        stream._chunks = _record_at_end(stream._chunks, slot)
        return stream

    return journaled_stream


async def _replay(response: LLMResponse) -> AsyncIterator[str | LLMResponse]:
    if response.text:
        yield response.text
    yield response


async def _record_at_end(
    chunks: AsyncIterator[str | LLMResponse], slot: Any
) -> AsyncIterator[str | LLMResponse]:
    async for item in chunks:
        if isinstance(item, LLMResponse):
            await slot.record(item)
        yield item


@_journaled_stream
def stream_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: str | Iterable[str] | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    **options: Any,
) -> LLMStream:
    """Stream an LLM's answer: ``async for chunk in stream_llm_async(...)``.

    Retries happen only before the first chunk; ``timeout`` covers the whole stream.
    After the loop, ``stream.response`` holds the full text and usage.
    """
    runtime = current_runtime()
    ref = runtime.resolve(model)
    live = runtime.provider(ref.provider)
    request = build_request(
        prompt, ref.model, system=system, temperature=temperature, max_tokens=max_tokens,
        stop=stop, seed=seed, options=options,
    )  # fmt: skip
    return LLMStream(_stream(runtime, ref, live, request, _policy_for(live, timeout, max_retries)))


async def _stream(
    runtime: Runtime,
    ref: ModelRef,
    live: LiveProvider,
    request: LLMRequest,
    call_policy: policy.RetryPolicy,
) -> AsyncIterator[str | LLMResponse]:
    started = policy.clock.now()
    attempts = policy.Attempts()
    response: LLMResponse | None = None
    call = _started(runtime, ref.requested, ref, request, True)
    try:
        async for item in policy.stream_with_policy(
            lambda: live.provider.stream(request), call_policy, live.gate.limiter, attempts
        ):
            if isinstance(item, LLMResponse):
                response = item
                response.latency = policy.clock.now() - started
                response.attempts = attempts.tries
            yield item
    except BaseException as error:
        _finish(runtime, ref.requested, None, error, policy.clock.now() - started, attempts, call)
        if isinstance(error, LLMError):
            raise _label(error, ref) from error.__cause__
        raise
    _finish(runtime, ref.requested, response, None, policy.clock.now() - started, attempts, call)


def call_llm(prompt: Prompt, **kwargs: Any) -> str:
    """Sync twin of :func:`call_llm_async`, for sync nodes."""
    return run_sync(call_llm_async(prompt, **kwargs))


def complete(prompt: Prompt, **kwargs: Any) -> LLMResponse:
    """Sync twin of :func:`complete_async`."""
    return run_sync(complete_async(prompt, **kwargs))
