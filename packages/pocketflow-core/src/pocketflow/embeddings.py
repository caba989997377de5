"""The embeddings facade: ``embed_async(texts, model=...)`` and its sync twin ``embed``.

    result = await embed_async(["a cat sat", "a dog ran"])    # the configured model
    result.vectors        # one list of floats per text, in the order given
    result.usage.input_tokens, result.batches, result.provider, result.model
    (await embed_async("one text")).vector                    # a single text

A call goes: model string (argument, else ``POCKETFLOW_EMBEDDING``, else ``embedding``
in the config file) -> alias -> provider, which must declare the model an embedding
model (``Capabilities.embeddings``). The texts are split into batches of at most the
provider's ``max_embedding_inputs`` (or ``batch_size``, when smaller); the batches run
concurrently, each under the call policy of ``call_llm_async`` (the provider's
concurrency and rate limits, retries, a deadline per batch), and the vectors come back
in input order. When a batch fails for good with a retryable error, the whole list is
embedded again on the next model of ``embedding_fallbacks``; a fallback whose vectors
have another length is refused (:class:`~pocketflow.errors.EmbeddingDimensionError`),
since its vectors could not be compared with the first model's. Inside a durable run
the result is journaled, so a resumed run does not pay for it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pocketflow import policy
from pocketflow.calls import EmbeddingCallRecord, EmbeddingCallStart, record_embedding_call
from pocketflow.capabilities import Capabilities
from pocketflow.config import ENV_EMBEDDING
from pocketflow.cost import estimate_cost
from pocketflow.durability import journaled
from pocketflow.errors import (
    ConfigError,
    EmbeddingDimensionError,
    LLMError,
    MalformedResponseError,
    UnsupportedRequestError,
)
from pocketflow.providers import EmbeddingRequest, EmbeddingResponse, Usage
from pocketflow.runtime import LiveProvider, ModelRef, Runtime, current_runtime
from pocketflow.sync import run_sync

T = TypeVar("T")

Texts = str | Sequence[str]
"""One text, or a list of texts."""

EXAMPLE_MODEL = "openai:text-embedding-3-small"


@dataclass(slots=True)
class Embeddings:
    """The vectors of an ``embed_async`` call, in the order of its texts, and what they cost.

    ``provider`` and ``model`` name who answered (a fallback may differ from the model
    asked for); ``usage.input_tokens`` counts the tokens embedded; ``latency`` is the
    seconds of the whole call, ``attempts`` the vendor requests tried (every batch,
    retries included), ``batches`` the requests the texts were split into; ``cost``
    the estimated US dollars, None when unknown.
    """

    vectors: list[list[float]]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    attempts: int = 1
    batches: int = 1
    cost: float | None = None

    @property
    def dimensions(self) -> int:
        """The length of each vector (0 when there are none)."""
        return len(self.vectors[0]) if self.vectors else 0

    @property
    def vector(self) -> list[float]:
        """The one vector of a call that embedded one text."""
        if len(self.vectors) != 1:
            raise ValueError(
                f"This result holds {len(self.vectors)} vectors, not one: read .vectors "
                "(.vector is for a call that embedded a single text)."
            )
        return self.vectors[0]


@journaled("embedding")
async def embed_async(
    texts: Texts,
    model: str | None = None,
    *,
    dimensions: int | None = None,
    batch_size: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    fallbacks: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Embeddings:
    """Turn ``texts`` (a string or a list of strings) into vectors, one per text.

    ``model`` is "provider:model" or an alias (default: the configured ``embedding``);
    ``dimensions`` asks for shorter vectors where the model allows it; ``batch_size``
    caps the texts per vendor request below the provider's own maximum. ``timeout``
    covers each batch, retries included; ``max_retries`` overrides the provider's;
    ``fallbacks`` overrides ``embedding_fallbacks``. ``options`` is passed to the
    vendor unchanged.
    """
    items = _checked_texts(texts)
    _check_positive("dimensions", dimensions)
    _check_positive("batch_size", batch_size)
    runtime = current_runtime()
    candidates = _candidates(runtime, model, fallbacks)
    call = _Call(runtime, candidates[0], items, dimensions, dict(options or {}))
    try:
        embeddings = await call.run(candidates, batch_size, timeout, max_retries)
    except BaseException as error:
        call.finish(None, error)
        raise
    call.finish(embeddings, None)
    return embeddings


def embed(texts: Texts, model: str | None = None, **kwargs: Any) -> Embeddings:
    """Sync twin of :func:`embed_async`, for sync nodes and scripts."""
    return run_sync(embed_async(texts, model, **kwargs))


# --- checking the arguments ------------------------------------------------------------------


def _checked_texts(texts: Texts) -> tuple[str, ...]:
    if isinstance(texts, str):
        return (texts,)
    if not isinstance(texts, Sequence):
        raise TypeError(
            f"embed_async takes a string or a list of strings, not {type(texts).__name__}."
        )
    items = tuple(texts)
    if not items:
        raise ValueError("embed_async got an empty list: pass at least one text to embed.")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(
                f"embed_async: text {index} is {type(item).__name__} {_short(item)}, not a "
                "string. Turn each item into text first (str(item), or the field to embed)."
            )
    return items


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and (type(value) is not int or value <= 0):
        raise ValueError(f"{name} must be a whole number greater than 0, not {value!r}.")


def _candidates(runtime: Runtime, model: str | None, fallbacks: Sequence[str] | None) -> list[str]:
    config = runtime.config
    first = model if model is not None else config.embedding
    if not first:
        installed = ", ".join(sorted({*runtime.plugins.llm_providers, *config.providers}))
        raise ConfigError(
            f"No embedding model is configured. Installed providers: {installed or 'none'} "
            f"(`pocketflow models` shows which can embed). Choose one with an environment "
            f"variable (export {ENV_EMBEDDING}={EXAMPLE_MODEL}), a pocketflow.toml line "
            f'(embedding = "{EXAMPLE_MODEL}"), or model= in the call. '
            f"To try without a vendor: {ENV_EMBEDDING}=offline:hash."
        )
    chosen = list(fallbacks) if fallbacks is not None else list(config.embedding_fallbacks)
    return [first, *(f for f in chosen if f != first)]


def _embedding_capabilities(live: LiveProvider, ref: ModelRef) -> Capabilities:
    capabilities = live.provider.capabilities_for(ref.model)
    if not capabilities.embeddings:
        named = f"'{ref.requested}' ({ref})" if ref.requested != str(ref) else f"'{ref}'"
        raise UnsupportedRequestError(
            f"{named} is not an embedding model: provider '{ref.provider}' does not make "
            f"embeddings with it. Choose an embedding model (`pocketflow models` shows the "
            f"providers that can embed), e.g. {EXAMPLE_MODEL} or offline:hash."
        )
    return capabilities


# --- one call ------------------------------------------------------------------------------


class _Call:
    """One ``embed_async`` call: its candidates in turn, its batches, its report."""

    def __init__(
        self,
        runtime: Runtime,
        requested: str,
        texts: tuple[str, ...],
        dimensions: int | None,
        options: dict[str, Any],
    ) -> None:
        self.runtime = runtime
        self.requested = requested
        self.texts = texts
        self.dimensions = dimensions
        self.options = options
        self.started = policy.clock.now()
        self.tries = 0
        self.limit_wait = 0.0
        self.start: EmbeddingCallStart | None = None
        self.first: ModelRef | None = None
        self.expected: int | None = dimensions
        """The vector length every candidate must give (None: not known yet)."""

    async def run(
        self,
        candidates: list[str],
        batch_size: int | None,
        timeout: float | None,
        max_retries: int | None,
    ) -> Embeddings:
        """Embed every text on the first candidate that answers."""
        for index, candidate in enumerate(candidates):
            ref = self.runtime.resolve(candidate)
            live = self.runtime.provider(ref.provider)
            capabilities = _embedding_capabilities(live, ref)
            declared = self.dimensions or capabilities.embedding_dimensions
            if index == 0:
                self.first = ref
                self.expected = declared
                self._report_start(ref)
            else:
                self._check_fallback(ref, declared)
            limit = max(1, capabilities.max_embedding_inputs)
            size = min(limit, batch_size) if batch_size else limit
            try:
                result = await self._embed_on(
                    live, ref, size, live.policy.overridden(timeout, max_retries), index == 0
                )
            except LLMError as error:
                if not error.retryable or index == len(candidates) - 1:
                    error.locate(ref.provider, ref.model)
                    raise error from error.__cause__
                continue
            if index > 0:
                self._check_fallback(ref, result.dimensions)
            return result
        raise AssertionError("unreachable: the last candidate returns or raises")

    def _check_fallback(self, ref: ModelRef, dimensions: int | None) -> None:
        assert self.first is not None
        if self.expected is not None and dimensions is not None and dimensions != self.expected:
            raise EmbeddingDimensionError(str(self.first), self.expected, str(ref), dimensions)

    async def _embed_on(
        self,
        live: LiveProvider,
        ref: ModelRef,
        size: int,
        call_policy: policy.RetryPolicy,
        first: bool,
    ) -> Embeddings:
        batches = [self.texts[at : at + size] for at in range(0, len(self.texts), size)]
        requests = [
            EmbeddingRequest(ref.model, batch, self.dimensions, self.options) for batch in batches
        ]
        runs = [self._batch(live, ref, request, call_policy, first) for request in requests]
        responses = await _all_in_order(runs)
        vectors = [vector for response in responses for vector in response.vectors]
        last = responses[-1]
        usage = Usage(input_tokens=sum(_count(r.usage.input_tokens) for r in responses))
        return Embeddings(
            vectors=vectors,
            model=last.model,
            provider=last.provider,
            usage=usage,
            batches=len(batches),
        )

    async def _batch(
        self,
        live: LiveProvider,
        ref: ModelRef,
        request: EmbeddingRequest,
        call_policy: policy.RetryPolicy,
        first: bool,
    ) -> EmbeddingResponse:
        attempts = policy.Attempts()
        try:
            response = await policy.call_with_policy(
                _bind(live, ref, request), call_policy, live.gate.limiter, attempts
            )
        finally:
            self.tries += attempts.tries
            self.limit_wait += attempts.limit_wait
        if first and self.expected is None and response.vectors:
            self.expected = len(response.vectors[0])  # a fallback must match what was made
        return response

    def _report_start(self, ref: ModelRef) -> None:
        if not self.runtime.observes_calls:
            return
        request = EmbeddingRequest(ref.model, self.texts, self.dimensions, self.options)
        self.start = EmbeddingCallStart(self.requested, ref.provider, request)
        self.runtime.plugins.hooks.hook.embedding_call_started(call=self.start)

    def finish(self, embeddings: Embeddings | None, error: BaseException | None) -> None:
        """Fill in the result's totals, count the call and report it to the observers."""
        duration = policy.clock.now() - self.started
        if embeddings is not None:
            embeddings.latency = duration
            embeddings.attempts = self.tries
            embeddings.cost = self._cost(embeddings)
        record = EmbeddingCallRecord(
            model=self.requested,
            embeddings=embeddings,
            error=error,
            duration=duration,
            attempts=self.tries,
            limit_wait=self.limit_wait,
            call=self.start,
        )
        record_embedding_call(record)
        if self.runtime.observes_calls:
            self.runtime.plugins.hooks.hook.embedding_call_finished(record=record)

    def _cost(self, embeddings: Embeddings) -> float | None:
        config = self.runtime.config
        kind = config.providers.get(embeddings.provider, {}).get("kind")
        return estimate_cost(
            embeddings.provider, embeddings.model, embeddings.usage, config.prices, kind,
            self.requested,
        )  # fmt: skip


def _count(tokens: object) -> int:
    return tokens if type(tokens) is int else 0


def _bind(
    live: LiveProvider, ref: ModelRef, request: EmbeddingRequest
) -> Callable[[], Awaitable[EmbeddingResponse]]:
    provider = live.provider

    async def attempt() -> EmbeddingResponse:
        response = await provider.embed(request)
        _check_reply(response, request, ref)
        return response

    return attempt


def _check_reply(response: EmbeddingResponse, request: EmbeddingRequest, ref: ModelRef) -> None:
    """A provider's answer must hold one vector per text, all of one length."""
    vectors = response.vectors
    problem = None
    if not isinstance(vectors, list) or len(vectors) != len(request.texts):
        count = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
        problem = f"the reply holds {count} vectors for {len(request.texts)} texts"
    elif len({len(vector) for vector in vectors}) > 1:
        problem = "the reply's vectors are not all of one length"
    if problem is not None:
        raise MalformedResponseError(problem, provider=ref.provider, model=ref.model)


async def _all_in_order(runs: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Await ``runs`` concurrently; their results in order. The first failure (in order)
    is raised once the others are cancelled."""
    if len(runs) == 1:
        return [await runs[0]]
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    # Every failure is retrieved (else asyncio logs the others as never retrieved).
    failures = [task.exception() for task in tasks if not task.cancelled()]
    for failure in failures:
        if failure is not None:
            raise failure
    return [task.result() for task in tasks]
