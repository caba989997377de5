"""The call policy: retries, Retry-After, deadlines, limits, fallbacks, usage.

Time is virtual (the ``fake_clock`` fixture): no test here really waits for a retry.
The failing provider is ``offline:scripted``, whose replies may be errors to raise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    call_llm_async,
    complete_async,
    stream_llm_async,
    track_usage,
)
from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    ModelNotFoundError,
    RateLimitError,
    ServerError,
)
from pocketflow.offline import OfflineLLM, Script
from pocketflow.policy import ProviderLimiter
from pocketflow.providers import LLMRequest
from pocketflow.testing import FakeClock

ScriptFactory = Callable[..., Script]


def rate_limited(after: float | None = 2.0) -> RateLimitError:
    return RateLimitError("slow down", status=429, retry_after=after)


def test_rate_limit_waits_retry_after_then_succeeds(
    llm_script: ScriptFactory, fake_clock: FakeClock
) -> None:
    script = llm_script([rate_limited(2.0), "fine"])
    response = asyncio.run(complete_async("hi"))
    assert response.text == "fine"
    assert fake_clock.sleeps == [2.0]
    assert response.attempts == 2
    assert len(script.requests) == 2


def test_retry_after_is_capped(llm_script: ScriptFactory, fake_clock: FakeClock) -> None:
    llm_script([rate_limited(3600.0), "fine"])
    assert asyncio.run(call_llm_async("hi", timeout=1000)) == "fine"
    assert fake_clock.sleeps == [60.0]


def test_backoff_grows_exponentially_with_full_jitter(
    llm_script: ScriptFactory, fake_clock: FakeClock
) -> None:
    error = ServerError("boom", status=500)
    llm_script([error, error, error, error, "fine"])
    assert asyncio.run(call_llm_async("hi")) == "fine"
    caps = [0.5, 1.0, 2.0, 4.0]
    assert len(fake_clock.sleeps) == 4
    assert all(0 <= wait <= cap for wait, cap in zip(fake_clock.sleeps, caps, strict=True))


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad key", status=401),
        BadRequestError("bad", status=400),
        ModelNotFoundError("no such model", status=404),
    ],
)
def test_client_errors_are_never_retried(
    llm_script: ScriptFactory, fake_clock: FakeClock, error: Exception
) -> None:
    script = llm_script([error, "never reached"])
    with pytest.raises(type(error)):
        asyncio.run(call_llm_async("hi"))
    assert len(script.requests) == 1
    assert fake_clock.sleeps == []


def test_retries_stop_after_max_retries(llm_script: ScriptFactory, fake_clock: FakeClock) -> None:
    script = llm_script([ServerError("down", status=503)])
    with pytest.raises(ServerError, match=r"Server error on offline:scripted \(HTTP 503\): down"):
        asyncio.run(call_llm_async("hi", max_retries=2))
    assert len(script.requests) == 3


def test_max_retries_from_config(
    llm_script: ScriptFactory, fake_clock: FakeClock, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text("[providers.offline]\nmax_retries = 0\n")
    script = llm_script([ServerError("down", status=500)])
    with pytest.raises(ServerError):
        asyncio.run(call_llm_async("hi"))
    assert len(script.requests) == 1


def test_retry_wait_counts_against_the_deadline(
    llm_script: ScriptFactory, fake_clock: FakeClock
) -> None:
    script = llm_script([rate_limited(30.0), "too late"])
    with pytest.raises(RateLimitError, match="retry after 30s"):
        asyncio.run(call_llm_async("hi", timeout=10))
    assert fake_clock.sleeps == []
    assert len(script.requests) == 1


def test_deadline_ends_a_slow_call(llm_script: ScriptFactory) -> None:
    async def slow(request: LLMRequest) -> str:
        await asyncio.sleep(5)
        return "too late"

    llm_script([slow])
    with pytest.raises(DeadlineExceededError, match=r"within the call's 0\.05s timeout"):
        asyncio.run(call_llm_async("hi", timeout=0.05))


def test_deadline_ends_a_slow_stream(
    llm_script: ScriptFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dripping(self: OfflineLLM, request: LLMRequest) -> AsyncIterator[str]:
        for word in ["one", " two", " three"]:
            yield word
            await asyncio.sleep(0.2)

    llm_script(["unused"])
    monkeypatch.setattr(OfflineLLM, "stream", dripping)
    received: list[str] = []

    async def consume() -> None:
        async for chunk in stream_llm_async("hi", timeout=0.3):
            received.append(chunk)

    with pytest.raises(DeadlineExceededError):
        asyncio.run(consume())
    assert received == ["one", " two"]


def test_concurrency_limit_holds_under_many_callers(
    llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text("[providers.offline]\nmax_concurrency = 3\n")
    in_flight = 0
    peak = 0

    async def counted(request: LLMRequest) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return "ok"

    llm_script([counted])

    async def many() -> list[str]:
        return await asyncio.gather(*(call_llm_async(f"call {i}") for i in range(50)))

    assert asyncio.run(many()) == ["ok"] * 50
    assert peak == 3


def test_concurrency_limit_serves_callers_in_arrival_order(
    llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text("[providers.offline]\nmax_concurrency = 1\n")
    script = llm_script(["ok"])

    async def many() -> None:
        await asyncio.gather(*(call_llm_async(f"call {i}") for i in range(20)))

    asyncio.run(many())
    assert [r.prompt for r in script.requests] == [f"call {i}" for i in range(20)]


def test_requests_per_minute_holds_under_a_burst(
    llm_script: ScriptFactory, fake_clock: FakeClock, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text("[providers.offline]\nrequests_per_minute = 30\n")
    starts: list[float] = []

    def note_start(request: LLMRequest) -> str:
        starts.append(fake_clock.now())
        return "ok"

    llm_script([note_start])

    async def burst() -> None:
        await asyncio.gather(*(call_llm_async(f"call {i}") for i in range(90)))

    asyncio.run(burst())
    assert len(starts) == 90
    for first in range(len(starts)):
        window = [t for t in starts if starts[first] <= t < starts[first] + 60]
        assert len(window) <= 30
    assert max(starts) >= 170  # 90 calls at 30 a minute take about three minutes


def test_fallback_answers_when_the_first_model_keeps_failing(
    llm_script: ScriptFactory, fake_clock: FakeClock, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text('fallbacks = ["offline:echo"]\n')
    llm_script([ServerError("overloaded", status=529)])
    response = asyncio.run(complete_async("hi", max_retries=1))
    assert response.text == "[offline echo] hi"
    assert (response.provider, response.model) == ("offline", "echo")


def test_fallback_is_not_used_for_client_errors(
    llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text('fallbacks = ["offline:echo"]\n')
    llm_script([AuthenticationError("bad key", status=401)])
    with pytest.raises(AuthenticationError):
        asyncio.run(complete_async("hi"))


def test_usage_adds_up_over_a_flow_run(llm_script: ScriptFactory, fake_clock: FakeClock) -> None:
    llm_script([rate_limited(1.0), "alpha beta", "gamma"])

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return await call_llm_async("one two")

        async def post_async(self, shared: dict[str, Any], prep_res: object, exec_res: str) -> None:
            shared.setdefault("answers", []).append(exec_res)

    first = Ask()
    first >> Ask()
    shared: dict[str, Any] = {}
    with track_usage() as usage:
        asyncio.run(AsyncFlow(start=first).run_async(shared))
    assert shared["answers"] == ["alpha beta", "gamma"]
    assert usage.calls == 2
    assert usage.retries == 1
    assert usage.input_tokens == 4
    assert usage.output_tokens == 3
    assert usage.by_model == {"offline:scripted": 2}


def test_node_retries_wrap_call_retries(llm_script: ScriptFactory, fake_clock: FakeClock) -> None:
    """A node's max_retries re-runs exec, and each exec's call retries on its own:
    up to node.max_retries x (call max_retries + 1) requests."""
    script = llm_script([ServerError("down", status=500)])

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return await call_llm_async("hi", max_retries=1)

        async def exec_fallback_async(self, prep_res: object, exc: Exception) -> str:
            return f"gave up: {type(exc).__name__}"

        async def post_async(self, shared: dict[str, Any], prep_res: object, exec_res: str) -> None:
            shared["result"] = exec_res

    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=Ask(max_retries=3)).run_async(shared))
    assert shared["result"] == "gave up: ServerError"
    assert len(script.requests) == 3 * 2


def test_a_retry_queued_for_a_slot_still_ends_at_the_deadline(
    llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch
) -> None:
    """A retry waits for a slot behind a long call; the call's deadline ends the wait."""
    Path("pocketflow.toml").write_text("[providers.offline]\nmax_concurrency = 1\n")
    other_may_finish = asyncio.Event()

    async def down_once_then_fine(request: LLMRequest) -> str:
        await asyncio.sleep(0.01)  # holding the slot while the other call queues for it
        if len([r for r in script.requests if r.prompt == "first"]) == 1:
            raise ServerError("down", status=500, retry_after=0)
        return "first answered"

    async def long_call(request: LLMRequest) -> str:
        await other_may_finish.wait()
        return "second answered"

    script = llm_script(rules={"first": down_once_then_fine, "second": long_call})

    async def both() -> list[object]:
        first = asyncio.create_task(call_llm_async("first", timeout=0.2))
        await asyncio.sleep(0)
        second = asyncio.create_task(call_llm_async("second"))
        try:
            done = await asyncio.wait_for(asyncio.gather(first, return_exceptions=True), 5)
        finally:
            other_may_finish.set()
        return [*done, await second]

    first_result, second_result = asyncio.run(both())
    assert isinstance(first_result, DeadlineExceededError)
    assert "last error: Server error" in str(first_result)
    assert second_result == "second answered"


def test_a_caller_cancelled_as_it_is_handed_a_slot_gives_the_slot_back() -> None:
    """The slot handed to a waiter that is cancelled before it runs is not lost."""

    async def scenario() -> int:
        limiter = ProviderLimiter(max_concurrency=1, requests_per_minute=None)
        await limiter.acquire()
        waiting = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        limiter.release()  # hands the slot to the waiter...
        waiting.cancel()  # ...which is cancelled (a deadline, say) before it runs
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return limiter.in_flight

    assert asyncio.run(scenario()) == 0
