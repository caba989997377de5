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
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

from pocketflow import policy
from pocketflow.calls import LLMCallRecord, LLMCallStart, record_call
from pocketflow.capabilities import OutputFormat, ToolChoice, ToolSpec
from pocketflow.cost import estimate_cost
from pocketflow.durability import current_calls, journaled
from pocketflow.errors import LLMError, OutputValidationError
from pocketflow.options import check_extra_options, check_request, check_tool_choice
from pocketflow.providers import LLMRequest, LLMResponse, Message
from pocketflow.runtime import LiveProvider, ModelRef, Runtime, current_runtime
from pocketflow.streams import LLMStream as LLMStream  # re-exported: pocketflow.llm.LLMStream
from pocketflow.sync import run_sync

if TYPE_CHECKING:  # the structured output and tool modules load on first use
    from pocketflow.structured import OutputSpec, OutputType
    from pocketflow.tools import Tool, ToolErrors

    ToolsArg: TypeAlias = Sequence[Tool | Callable[..., Any]] | None
    """Tools: functions (sync or async) or :func:`pocketflow.tools.tool` objects."""

Prompt = str | Sequence[Message | Mapping[str, Any]]
"""A prompt string (one user message), or messages as Message or {"role", "content"};
a content is a string or a list of parts (:mod:`pocketflow.parts`)."""

T = TypeVar("T")


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
    output: OutputFormat | None = None,
    tools: Sequence[ToolSpec] = (),
    tool_choice: ToolChoice = None,
) -> LLMRequest:
    """The provider-neutral request for ``prompt``; system messages are lifted into ``system``."""
    if isinstance(prompt, str):
        messages: tuple[Message, ...] = (Message("user", prompt),)
    else:
        messages = tuple(_message(item) for item in prompt)
        if not messages:
            raise ValueError("The prompt has no messages: pass a string or at least one message.")
    system_parts = [system] if system else []
    system_parts += [m.text for m in messages if m.role == "system"]
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
        output=output,
        tools=tuple(tools),
        tool_choice=tool_choice,
    )


def _message(item: Message | Mapping[str, Any]) -> Message:
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
    if not isinstance(content, str) and not isinstance(content, Sequence):
        raise ValueError(
            "A message's content must be a string or a list of parts, "
            f"not {type(content).__name__}."
        )
    return Message(role, content if isinstance(content, str) else tuple(content))


def _candidates(runtime: Runtime, model: str | None, fallbacks: Sequence[str] | None) -> list[str]:
    first = model if model is not None else runtime.config.llm
    if not first:
        runtime.resolve(None)  # raises the "nothing configured" error
    chosen = list(fallbacks) if fallbacks is not None else list(runtime.config.fallbacks)
    return [str(first), *(f for f in chosen if f != first)]


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
    if response is not None:
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


@dataclass(frozen=True, slots=True)
class RequestArgs:
    """Everything of one call but the prompt and the model: the same for every candidate."""

    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: str | Iterable[str] | None = None
    seed: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    output: OutputSpec | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = None

    def request(self, prompt: Prompt, live: LiveProvider, model: str) -> LLMRequest:
        """The request for ``model`` on ``live``'s provider, checked against what it can take."""
        request = build_request(
            prompt, model, system=self.system, temperature=self.temperature,
            max_tokens=self.max_tokens, stop=self.stop, seed=self.seed, options=self.options,
            output=self.output.format if self.output else None, tools=self.tools,
            tool_choice=self.tool_choice,
        )  # fmt: skip
        if isinstance(prompt, str) and self.output is None and not self.tools:
            return request  # plain text: nothing a provider could refuse
        return check_request(live.provider, request)


def _request_args(
    *,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    stop: str | Iterable[str] | None,
    seed: int | None,
    options: Mapping[str, Any] | None,
    extra: Mapping[str, Any],
    output: OutputType | None,
    tools: Sequence[ToolSpec],
    tool_choice: ToolChoice,
) -> RequestArgs:
    if not extra and not options and output is None and not tools and tool_choice is None:
        return RequestArgs(system, temperature, max_tokens, stop, seed)  # the common case
    from pocketflow.structured import output_spec

    check_extra_options(extra)
    check_tool_choice(tool_choice, tools)
    merged = {**extra, **(options or {})}
    return RequestArgs(
        system, temperature, max_tokens, stop, seed, merged,
        output_spec(output) if output is not None else None, tuple(tools), tool_choice,
    )  # fmt: skip


def _cost(runtime: Runtime, requested: str, response: LLMResponse) -> float | None:
    config = runtime.config
    kind = config.providers.get(response.provider, {}).get("kind")
    return estimate_cost(
        response.provider, response.model, response.usage, config.prices, kind, requested,
        response.cost,
    )  # fmt: skip


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
    output: OutputType | None = None,
    output_retries: int = 1,
    tools: ToolsArg = None,
    tool_choice: ToolChoice = None,
    options: Mapping[str, Any] | None = None,
    **extra: Any,
) -> LLMResponse:
    """Call an LLM and return the whole :class:`LLMResponse` (text, usage, who answered).

    ``model`` is "provider:model" or an alias (default: the configured model).
    ``timeout`` covers the whole call, retries included; ``max_retries`` overrides the
    provider's; ``fallbacks`` overrides the configured fallback models.

    ``output`` (a pydantic model, dataclass, TypedDict or JSON schema dict) asks for
    structured output: ``response.output`` holds it, validated; a reply that does not
    fit is asked for again ``output_retries`` times with the error, then
    :class:`~pocketflow.errors.OutputValidationError` is raised. ``tools`` are
    functions the model may ask to call: ``response.tool_calls`` lists what it asked
    for (one call; :func:`call_llm_async` runs the loop); ``tool_choice`` is "auto",
    "required", "none" or a tool's name.

    ``options`` is passed to the vendor unchanged (vendor extras: ``top_k``,
    ``metadata``, ``extra_headers``, ...). Other keywords are passed on too, for
    compatibility, except one that looks like a misspelled parameter
    (``temprature=``): that raises :class:`~pocketflow.errors.UnknownOptionError`.
    """
    runtime = current_runtime()
    args = _request_args(
        system=system, temperature=temperature, max_tokens=max_tokens, stop=stop, seed=seed,
        options=options, extra=extra, output=output,
        tools=_tool_specs(tools), tool_choice=tool_choice,
    )  # fmt: skip
    response = await _complete(runtime, prompt, model, fallbacks, timeout, max_retries, args)
    if args.output is not None and not response.tool_calls:
        response = await _validated(
            runtime, prompt, model, fallbacks, timeout, max_retries, args, response, output_retries
        )
    return response


async def _complete(
    runtime: Runtime,
    prompt: Prompt,
    model: str | None,
    fallbacks: Sequence[str] | None,
    timeout: float | None,
    max_retries: int | None,
    args: RequestArgs,
) -> LLMResponse:
    """One call: each candidate model in turn, under the call policy; counted once."""
    started = policy.clock.now()
    attempts = policy.Attempts()
    candidates = _candidates(runtime, model, fallbacks)
    call = None
    try:
        for index, candidate in enumerate(candidates):
            ref = runtime.resolve(candidate)
            live = runtime.provider(ref.provider)
            request = args.request(prompt, live, ref.model)
            if index == 0:
                call = _started(runtime, candidates[0], ref, request, False)
            try:
                response = await policy.call_with_policy(
                    _bind(live, request),
                    live.policy.overridden(timeout, max_retries),
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


async def _validated(
    runtime: Runtime,
    prompt: Prompt,
    model: str | None,
    fallbacks: Sequence[str] | None,
    timeout: float | None,
    max_retries: int | None,
    args: RequestArgs,
    response: LLMResponse,
    output_retries: int,
) -> LLMResponse:
    """``response`` with its output parsed; asks again (with the error) while it does not fit."""
    from pocketflow.structured import ParseFailure, retry_instruction

    assert args.output is not None
    if output_retries < 0:
        raise ValueError(f"output_retries must be 0 or more, not {output_retries!r}.")
    messages: list[Message] | None = None
    for attempt in range(output_retries + 1):
        try:
            response.output = args.output.parse(response.text)
            return response
        except ParseFailure as failure:
            errors = failure.errors
        if attempt == output_retries:
            break
        messages = messages or _as_messages(prompt)
        messages += [
            Message("assistant", response.text),
            Message("user", retry_instruction(errors)),
        ]
        response = await _complete(runtime, messages, model, fallbacks, timeout, max_retries, args)
    raise OutputValidationError(
        response.text, errors, f"{response.provider}:{response.model}", output_retries + 1
    )


def _as_messages(prompt: Prompt) -> list[Message]:
    if isinstance(prompt, str):
        return [Message("user", prompt)]
    return [_message(item) for item in prompt]


def _tool_specs(tools: ToolsArg) -> list[ToolSpec]:
    if not tools:
        return []
    from pocketflow.tools import as_tools

    return [made.spec for made in as_tools(tools).values()]


def _bind(live: LiveProvider, request: LLMRequest) -> Callable[[], Awaitable[LLMResponse]]:
    provider = live.provider

    def attempt() -> Awaitable[LLMResponse]:
        return provider.complete(request)

    return attempt


@overload
async def call_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    output: None = None,
    tools: ToolsArg = None,
    max_turns: int = 10,
    tool_errors: ToolErrors = "send",
    **options: Any,
) -> str: ...


@overload
async def call_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    output: type[T],
    tools: ToolsArg = None,
    max_turns: int = 10,
    tool_errors: ToolErrors = "send",
    **options: Any,
) -> T: ...


@overload
async def call_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    output: Mapping[str, Any],
    tools: ToolsArg = None,
    max_turns: int = 10,
    tool_errors: ToolErrors = "send",
    **options: Any,
) -> dict[str, Any]: ...


async def call_llm_async(
    prompt: Prompt,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    output: OutputType | None = None,
    tools: ToolsArg = None,
    max_turns: int = 10,
    tool_errors: ToolErrors = "send",
    **options: Any,
) -> Any:
    """Call an LLM and return its text: the facade the seed program awaits.

    With ``output=T`` it returns a validated ``T`` instead (see :func:`complete_async`).
    With ``tools=[fn, ...]`` it runs the tool loop: call the model, run the tools it
    asks for (concurrently when it asks for several), send the results back, until it
    answers without a tool call; at most ``max_turns`` model calls, else
    :class:`~pocketflow.errors.ToolLoopError` naming the last tool calls. A tool that
    raises sends its error text to the model (``tool_errors="raise"`` stops instead).
    Takes the other keywords of :func:`complete_async`.
    """
    if not tools:
        response = await complete_async(
            prompt, model=model, system=system, temperature=temperature, max_tokens=max_tokens,
            output=output, **options,
        )  # fmt: skip
        return response.output if output is not None else response.text
    from pocketflow.tools import as_tools, run_tool_loop

    by_name = as_tools(tools)
    tool_choice = options.pop("tool_choice", None)

    async def turn(messages: list[Message], choice: ToolChoice) -> LLMResponse:
        return await complete_async(
            messages, model=model, system=system, temperature=temperature,
            max_tokens=max_tokens, output=output, tools=list(by_name.values()),
            tool_choice=choice, **options,
        )  # fmt: skip

    response = await run_tool_loop(
        turn, _as_messages(prompt), by_name, tool_choice=tool_choice,
        max_turns=max_turns, tool_errors=tool_errors,
    )  # fmt: skip
    return response.output if output is not None else response.text


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
    try:
        async for item in chunks:
            if isinstance(item, LLMResponse):
                await slot.record(item)
            yield item
    finally:  # closing this stream closes the vendor's at once
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


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
    fallbacks: Sequence[str] | None = None,
    output: OutputType | None = None,
    tools: ToolsArg = None,
    tool_choice: ToolChoice = None,
    options: Mapping[str, Any] | None = None,
    **extra: Any,
) -> LLMStream:
    """Stream an LLM's answer: ``async for chunk in stream_llm_async(...)``.

    Retries, and fallbacks to the next model, happen only before the first chunk;
    ``timeout`` covers the whole stream. After the loop, ``stream.response`` holds the
    full text and usage, the ``tool_calls`` the model asked for, and with ``output=``
    the validated ``output`` (a reply that does not fit raises
    :class:`~pocketflow.errors.OutputValidationError` at the end; a stream is not
    asked again). Keywords as for :func:`complete_async`.
    """
    runtime = current_runtime()
    args = _request_args(
        system=system, temperature=temperature, max_tokens=max_tokens, stop=stop, seed=seed,
        options=options, extra=extra, output=output,
        tools=_tool_specs(tools), tool_choice=tool_choice,
    )  # fmt: skip
    candidates = _candidates(runtime, model, fallbacks)
    first = runtime.resolve(candidates[0])
    live = runtime.provider(first.provider)
    args.request(prompt, live, first.model)  # a bad prompt fails here, not at the first chunk
    attempts = policy.Attempts()
    chunks = _stream(runtime, prompt, candidates, args, timeout, max_retries, attempts)
    return LLMStream(chunks, attempts)


async def _stream(
    runtime: Runtime,
    prompt: Prompt,
    candidates: list[str],
    args: RequestArgs,
    timeout: float | None,
    max_retries: int | None,
    attempts: policy.Attempts,
) -> AsyncIterator[str | LLMResponse]:
    started = policy.clock.now()
    response: LLMResponse | None = None
    requested = candidates[0]
    call: LLMCallStart | None = None
    try:
        for index, candidate in enumerate(candidates):
            ref = runtime.resolve(candidate)
            live = runtime.provider(ref.provider)
            request = args.request(prompt, live, ref.model)
            if index == 0:
                call = _started(runtime, requested, ref, request, True)
            call_policy = live.policy.overridden(timeout, max_retries)
            yielded = False
            chunks = policy.stream_with_policy(
                _bind_stream(live, request), call_policy, live.gate.limiter, attempts
            )
            try:
                async with aclosing(chunks):  # closed with this generator, not when collected
                    async for item in chunks:
                        if isinstance(item, LLMResponse):
                            response = item
                            response.latency = policy.clock.now() - started
                            response.attempts = attempts.tries
                            if args.output is not None and not response.tool_calls:
                                _parse_streamed(args.output, response)
                        yielded = True
                        yield item
            except LLMError as error:
                if yielded or not error.retryable or index == len(candidates) - 1:
                    raise _label(error, ref) from error.__cause__
                continue
            break
    except BaseException as error:
        _finish(runtime, requested, None, error, policy.clock.now() - started, attempts, call)
        raise
    _finish(runtime, requested, response, None, policy.clock.now() - started, attempts, call)


def _bind_stream(
    live: LiveProvider, request: LLMRequest
) -> Callable[[], AsyncIterator[str | LLMResponse]]:
    provider = live.provider

    def open_stream() -> AsyncIterator[str | LLMResponse]:
        return provider.stream(request)

    return open_stream


def _parse_streamed(spec: OutputSpec, response: LLMResponse) -> None:
    from pocketflow.structured import ParseFailure

    try:
        response.output = spec.parse(response.text)
    except ParseFailure as failure:
        raise OutputValidationError(
            response.text, failure.errors, f"{response.provider}:{response.model}", 1
        ) from None


@overload
def call_llm(prompt: Prompt, *, output: None = None, **kwargs: Any) -> str: ...
@overload
def call_llm(prompt: Prompt, *, output: type[T], **kwargs: Any) -> T: ...
@overload
def call_llm(prompt: Prompt, *, output: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]: ...


def call_llm(prompt: Prompt, *, output: Any = None, **kwargs: Any) -> Any:
    """Sync twin of :func:`call_llm_async`, for sync nodes."""
    return run_sync(call_llm_async(prompt, output=output, **kwargs))


def complete(prompt: Prompt, **kwargs: Any) -> LLMResponse:
    """Sync twin of :func:`complete_async`."""
    return run_sync(complete_async(prompt, **kwargs))
