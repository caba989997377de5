"""Retries, waits, backoff and fallbacks, sync and async."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from pocketflow import AsyncNode, Node


class Flaky(Node):
    """Fails its first ``failures`` tries, recording cur_retry at each try."""

    def __init__(self, failures: int, **options: Any) -> None:
        super().__init__(**options)
        self.failures = failures
        self.tries: list[int] = []

    def exec(self, prep_res: Any) -> Any:
        self.tries.append(self.cur_retry)
        if len(self.tries) <= self.failures:
            raise ValueError(f"failure {len(self.tries)}")
        return "ok"

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["result"] = exec_res


class AsyncFlaky(AsyncNode):
    def __init__(self, failures: int, **options: Any) -> None:
        super().__init__(**options)
        self.failures = failures
        self.tries: list[int] = []
        self.tried = asyncio.Event()

    async def exec_async(self, prep_res: Any) -> Any:
        self.tries.append(self.cur_retry)
        self.tried.set()
        if len(self.tries) <= self.failures:
            raise ValueError(f"failure {len(self.tries)}")
        return "ok"

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["result"] = exec_res


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the delays passed to time.sleep and asyncio.sleep, without sleeping."""
    delays: list[float] = []

    async def fake_async_sleep(delay: float, result: Any = None) -> Any:
        delays.append(delay)
        return result

    monkeypatch.setattr(time, "sleep", delays.append)
    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return delays


def test_exec_is_retried_until_it_succeeds_with_cur_retry_counting_tries() -> None:
    node = Flaky(failures=2, max_retries=3)
    shared: dict[str, Any] = {}
    node.run(shared)
    assert (node.tries, shared["result"]) == ([0, 1, 2], "ok")


def test_one_try_by_default() -> None:
    node = Flaky(failures=1)
    with pytest.raises(ValueError, match="failure 1"):
        node.run({})
    assert node.tries == [0]


def test_default_fallback_reraises_the_last_error() -> None:
    node = Flaky(failures=5, max_retries=3)
    with pytest.raises(ValueError, match="failure 3"):
        node.run({})


def test_fallback_gets_prep_result_and_last_error_and_its_return_is_the_result() -> None:
    class WithFallback(Flaky):
        def prep(self, shared: Any) -> Any:
            return "prepared"

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return f"{prep_res}: {exc}"

    shared: dict[str, Any] = {}
    WithFallback(failures=5, max_retries=2).run(shared)
    assert shared["result"] == "prepared: failure 2"


def test_zero_max_retries_skips_exec_like_pocketflow() -> None:
    node = Flaky(failures=0, max_retries=0)
    shared: dict[str, Any] = {}
    node.run(shared)
    assert (node.tries, shared["result"]) == ([], None)


def test_no_sleep_without_wait(sleeps: list[float]) -> None:
    Flaky(failures=2, max_retries=3).run({})
    assert sleeps == []


def test_wait_sleeps_that_long_between_tries(sleeps: list[float]) -> None:
    Flaky(failures=2, max_retries=3, wait=0.5).run({})
    assert sleeps == [0.5, 0.5]


def test_no_sleep_after_the_last_try(sleeps: list[float]) -> None:
    with pytest.raises(ValueError):
        Flaky(failures=9, max_retries=2, wait=1).run({})
    assert sleeps == [1]


def test_backoff_multiplies_the_wait_after_each_failure(sleeps: list[float]) -> None:
    Flaky(failures=3, max_retries=4, wait=1, backoff=2).run({})
    assert sleeps == [1, 2, 4]


def test_max_wait_caps_the_delay(sleeps: list[float]) -> None:
    Flaky(failures=3, max_retries=4, wait=1, backoff=10, max_wait=5).run({})
    assert sleeps == [1, 5, 5]


def test_jitter_draws_each_delay_uniformly_up_to_the_capped_delay(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds: list[tuple[float, float]] = []

    def fake_uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    monkeypatch.setattr(random, "uniform", fake_uniform)
    Flaky(failures=3, max_retries=4, wait=1, backoff=3, max_wait=6, jitter=True).run({})
    assert (bounds, sleeps) == ([(0, 1), (0, 3), (0, 6)], [0.5, 1.5, 3])


def test_retry_delay_is_the_documented_formula() -> None:
    node = Node(wait=2, backoff=3, max_wait=10)
    assert [node.retry_delay(failed_try) for failed_try in range(4)] == [2, 6, 10, 10]


def test_keyboard_interrupt_is_not_retried() -> None:
    class Interrupted(Node):
        calls = 0

        def exec(self, prep_res: Any) -> Any:
            Interrupted.calls += 1
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Interrupted(max_retries=3).run({})
    assert Interrupted.calls == 1


# --- Async ----------------------------------------------------------------------------


def test_async_exec_is_retried_with_cur_retry_counting_tries() -> None:
    node = AsyncFlaky(failures=2, max_retries=3)
    shared: dict[str, Any] = {}
    asyncio.run(node.run_async(shared))
    assert (node.tries, shared["result"]) == ([0, 1, 2], "ok")


def test_async_fallback_gets_prep_result_and_last_error() -> None:
    class WithFallback(AsyncFlaky):
        async def prep_async(self, shared: Any) -> Any:
            return "prepared"

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return f"{prep_res}: {exc}"

    shared: dict[str, Any] = {}
    asyncio.run(WithFallback(failures=5, max_retries=2).run_async(shared))
    assert shared["result"] == "prepared: failure 2"


def test_async_default_fallback_reraises_the_last_error() -> None:
    with pytest.raises(ValueError, match="failure 2"):
        asyncio.run(AsyncFlaky(failures=5, max_retries=2).run_async({}))


def test_async_backoff_and_cap_use_asyncio_sleep(sleeps: list[float]) -> None:
    node = AsyncFlaky(failures=3, max_retries=4, wait=1, backoff=2, max_wait=3)
    asyncio.run(node.run_async({}))
    assert sleeps == [1, 2, 3]


def test_async_cancelled_error_from_exec_is_not_retried() -> None:
    class Cancelled(AsyncNode):
        calls = 0

        async def exec_async(self, prep_res: Any) -> Any:
            Cancelled.calls += 1
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(Cancelled(max_retries=3).run_async({}))
    assert Cancelled.calls == 1


def test_async_retry_wait_can_be_cancelled() -> None:
    node = AsyncFlaky(failures=1, max_retries=2, wait=3600)

    async def main() -> bool:
        task = asyncio.create_task(node.run_async({}))
        await node.tried.wait()  # the failed try is now waiting out its hour
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert asyncio.run(main()) is True
    assert node.tries == [0]
