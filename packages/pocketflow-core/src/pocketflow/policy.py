"""Call policy, written once for every vendor: retries, deadlines and limits.

* Retries: exponential backoff with full jitter (``uniform(0, min(max_backoff,
  base_delay * 2**n))``), or the vendor's ``Retry-After`` / ``retry-after-ms`` when it
  sends one (capped at ``max_retry_wait``). Only errors marked ``retryable`` are tried
  again: rate limits, 5xx and overload, timeouts, dropped connections, malformed
  replies; never 400/401/403/404.
* Deadline: ``timeout`` seconds cover the whole call (every attempt, every wait, a
  retry's wait for a slot and, for a stream, every chunk). A wait that would end past
  the deadline is not started.
* Limits: at most ``max_concurrency`` calls in flight per provider, and at most
  ``requests_per_minute`` starts, both first come, first served, shared by every call
  to that provider on the event loop.

Time goes through :data:`clock`, which tests replace with a fake one
(``pocketflow.testing.FakeClock``) so that no test really sleeps.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from pocketflow.errors import ConfigError, DeadlineExceededError, LLMError
from pocketflow.providers import PerLoop, ProviderSettings

T = TypeVar("T")


class Clock:
    """Real time: the event loop's clock and ``asyncio.sleep``."""

    def now(self) -> float:
        """Seconds on a monotonic clock."""
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; cancellable."""
        await asyncio.sleep(seconds)


clock: Clock = Clock()
"""The clock the policy uses; replaced by tests."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a call is retried and how long it may take in all.

    Defaults: 4 retries (5 tries), backoff from 0.5 s doubling to at most 30 s, a
    ``Retry-After`` honoured up to 60 s, and 120 s for the whole call.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_backoff: float = 30.0
    max_retry_wait: float = 60.0
    timeout: float = 120.0

    def overridden(self, timeout: float | None, max_retries: int | None) -> RetryPolicy:
        """This policy with a call's own ``timeout`` / ``max_retries`` (None: keep)."""
        if timeout is None and max_retries is None:
            return self
        if timeout is not None and not timeout > 0:  # NaN too
            raise ConfigError(f"timeout must be greater than 0 seconds, not {timeout!r}.")
        if max_retries is not None and max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, not {max_retries!r}.")
        return replace(
            self,
            timeout=self.timeout if timeout is None else timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
        )

    def delay(self, retry: int, error: LLMError) -> float:
        """Seconds to wait before retry number ``retry`` (0-based) after ``error``."""
        if error.retry_after is not None:
            return min(error.retry_after, self.max_retry_wait)
        return random.uniform(0.0, min(self.max_backoff, self.base_delay * 2**retry))


class SlotLease:
    """A concurrency slot a stream holds: given back once, by whoever is first.

    The stream's own end gives it back; so can its reader, at once, on ``break``,
    ``aclose()`` or garbage collection (before the stream's connection is closed).
    """

    __slots__ = ("_limiter",)

    def __init__(self, limiter: ProviderLimiter) -> None:
        self._limiter: ProviderLimiter | None = limiter

    def release(self) -> None:
        """Give the slot back (a no-op once it has been)."""
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter.release()


@dataclass(slots=True)
class Attempts:
    """What one call went through: tries made and seconds spent waiting on limits.

    ``slot`` is the slot a stream holds while it is being read (None between tries).
    """

    tries: int = 0
    limit_wait: float = 0.0
    slot: SlotLease | None = None


class ProviderLimiter:
    """Concurrency and rate limits for one provider, fair to callers (FIFO)."""

    def __init__(self, max_concurrency: int, requests_per_minute: float | None) -> None:
        self.max_concurrency = max_concurrency
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._next_start = 0.0

    async def acquire(self) -> float:
        """Wait for a slot (and the rate limit); return the seconds spent waiting."""
        if not self.interval and self.in_flight < self.max_concurrency and not self._waiters:
            self.in_flight += 1  # the common case: a free slot and no rate limit, no wait
            return 0.0
        started = clock.now()
        if self.in_flight >= self.max_concurrency or self._waiters:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self.release()  # we were handed a slot we will not use
                else:
                    self._waiters.remove(waiter)
                raise
        else:
            self.in_flight += 1
        if self.interval:
            try:
                await self._pace()
            except BaseException:
                self.release()
                raise
        return clock.now() - started

    async def _pace(self) -> None:
        now = clock.now()
        start = max(now, self._next_start)
        self._next_start = start + self.interval
        if start > now:
            await clock.sleep(start - now)

    def release(self) -> None:
        """Give back a slot, handing it to the longest waiter."""
        self.in_flight -= 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters and self.in_flight < self.max_concurrency:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


class ProviderGate:
    """The limiter of one provider for each event loop it is used on."""

    def __init__(self, settings: ProviderSettings) -> None:
        self._limiters = PerLoop(
            lambda: ProviderLimiter(settings.max_concurrency, settings.requests_per_minute)
        )

    @property
    def limiter(self) -> ProviderLimiter:
        """The running loop's limiter."""
        return self._limiters.get()

    def loops(self) -> list[asyncio.AbstractEventLoop]:
        """The event loops this provider has been called on."""
        return self._limiters.loops()


def _deadline_error(policy: RetryPolicy, last: LLMError | None) -> DeadlineExceededError:
    reason = f"no answer within the call's {policy.timeout:g}s timeout"
    if last is not None:
        reason += f" (last error: {last})"
    return DeadlineExceededError(reason)


async def call_with_policy(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    limiter: ProviderLimiter,
    attempts: Attempts,
) -> T:
    """Run ``attempt`` under the limits, retrying by ``policy`` until the deadline.

    The deadline starts once the first attempt holds its slot: time queued behind
    other calls is not counted, time spent on retries is.
    """
    deadline: float | None = None
    last: LLMError | None = None
    while True:
        deadline = await _take_slot(limiter, policy, attempts, deadline, last)
        try:
            async with asyncio.timeout(_remaining(deadline, policy, last)):
                return await attempt()
        except LLMError as error:
            last = error
        except TimeoutError as error:
            raise _deadline_error(policy, last) from error
        finally:
            limiter.release()
        await _wait_before_retry(last, policy, attempts.tries - 1, deadline)


async def stream_with_policy(
    open_stream: Callable[[], AsyncIterator[T]],
    policy: RetryPolicy,
    limiter: ProviderLimiter,
    attempts: Attempts,
) -> AsyncGenerator[T, None]:
    """Yield from the stream ``open_stream`` makes, retrying until its first item.

    Once an item has been yielded a failure is final (the caller has seen part of an
    answer). The deadline (from the first slot, as for :func:`call_with_policy`) covers
    every item; the limiter slot is held to the end, as ``attempts.slot``, which the
    reader may give back sooner.
    """
    deadline: float | None = None
    last: LLMError | None = None
    while True:
        deadline = await _take_slot(limiter, policy, attempts, deadline, last)
        slot = attempts.slot = SlotLease(limiter)
        started = False
        stream = open_stream()
        try:
            while True:
                try:
                    async with asyncio.timeout(_remaining(deadline, policy, last)):
                        item = await anext(stream)
                except StopAsyncIteration:
                    return
                started = True
                yield item
        except LLMError as error:
            if started:
                raise
            last = error
        except TimeoutError as error:
            raise _deadline_error(policy, last) from error
        finally:
            slot.release()
            attempts.slot = None
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        await _wait_before_retry(last, policy, attempts.tries - 1, deadline)


async def _take_slot(
    limiter: ProviderLimiter,
    policy: RetryPolicy,
    attempts: Attempts,
    deadline: float | None,
    last: LLMError | None,
) -> float:
    """Wait for a slot for the next try; return the call's deadline (set on the first).

    A retry's wait for a slot counts against the deadline, so it ends there.
    """
    if deadline is None:
        attempts.limit_wait += await limiter.acquire()
        attempts.tries += 1
        return clock.now() + policy.timeout
    try:
        async with asyncio.timeout(_remaining(deadline, policy, last)):
            attempts.limit_wait += await limiter.acquire()
    except TimeoutError as error:
        raise _deadline_error(policy, last) from error
    attempts.tries += 1
    return deadline


def _remaining(deadline: float, policy: RetryPolicy, last: LLMError | None) -> float:
    remaining = deadline - clock.now()
    if remaining <= 0:
        raise _deadline_error(policy, last)
    return remaining


async def _wait_before_retry(
    error: LLMError | None, policy: RetryPolicy, retry: int, deadline: float
) -> None:
    assert error is not None  # only reached after an attempt failed with an LLMError
    if not error.retryable or retry >= policy.max_retries:
        raise error
    delay = policy.delay(retry, error)
    if clock.now() + delay >= deadline:
        raise error
    await clock.sleep(delay)
