"""Parallel batches: ordering, bounded concurrency, failure and cancellation."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncNode, AsyncParallelBatchFlow, AsyncParallelBatchNode

Work = Callable[[Any], Awaitable[Any]]


class Items(AsyncParallelBatchNode):
    """Runs ``work`` on each of ``items``; stores the results in shared["results"]."""

    def __init__(self, items: Any, work: Work, **options: Any) -> None:
        super().__init__(**options)
        self.items, self.work = items, work

    async def prep_async(self, shared: Any) -> Any:
        return self.items

    async def exec_async(self, prep_res: Any) -> Any:
        return await self.work(prep_res)

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["results"] = exec_res


class InFlight:
    """Counts items in flight and remembers the peak."""

    def __init__(self, notify_at: int | None = None) -> None:
        self.now = self.peak = self.started = 0
        self.cancelled: list[Any] = []
        self.notify_at = notify_at
        self.reached = asyncio.Event()  # set once `notify_at` items are in flight

    async def hold(self, item: Any, ticks: int = 3) -> Any:
        self.now += 1
        self.started += 1
        self.peak = max(self.peak, self.now)
        if self.now == self.notify_at:
            self.reached.set()
        try:
            for _ in range(ticks):
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.cancelled.append(item)
            raise
        finally:
            self.now -= 1
        return item

    async def hold_forever(self, item: Any) -> Any:
        return await self.hold(item, ticks=10**9)


def run(node: AsyncNode, shared: dict[str, Any] | None = None) -> dict[str, Any]:
    shared = {} if shared is None else shared
    asyncio.run(node.run_async(shared))
    return shared


def test_results_keep_input_order_when_later_items_finish_first() -> None:
    finished: list[int] = []

    async def slower_first(item: int) -> int:
        for _ in range(10 - item):
            await asyncio.sleep(0)
        finished.append(item)
        return item * 2

    shared = run(Items(list(range(10)), slower_first))
    assert finished == list(reversed(range(10)))
    assert shared["results"] == [item * 2 for item in range(10)]


def test_unbounded_batch_has_every_item_in_flight_at_once() -> None:
    tracker = InFlight()
    run(Items(list(range(50)), tracker.hold))
    assert tracker.peak == 50


def test_max_concurrency_bounds_items_in_flight_and_keeps_order() -> None:
    tracker = InFlight()
    shared = run(Items(list(range(40)), tracker.hold, max_concurrency=3))
    assert tracker.peak == 3
    assert shared["results"] == list(range(40))


def test_max_concurrency_can_be_set_as_an_attribute() -> None:
    tracker = InFlight()
    node = Items(list(range(10)), tracker.hold)
    node.max_concurrency = 2
    run(node)
    assert tracker.peak == 2


def test_max_concurrency_above_the_item_count_runs_all_at_once() -> None:
    tracker = InFlight()
    run(Items(list(range(5)), tracker.hold, max_concurrency=100))
    assert tracker.peak == 5


def test_invalid_max_concurrency_raises_value_error() -> None:
    tracker = InFlight()
    with pytest.raises(ValueError, match=r"max_concurrency must be None or an int >= 1, not 0"):
        run(Items([1, 2], tracker.hold, max_concurrency=0))


def test_empty_none_single_and_generator_batches() -> None:
    tracker = InFlight()
    assert run(Items([], tracker.hold))["results"] == []
    assert run(Items(None, tracker.hold))["results"] == []
    assert run(Items([7], tracker.hold))["results"] == [7]
    assert run(Items((n for n in range(3)), tracker.hold))["results"] == [0, 1, 2]


def test_non_iterable_batch_raises_saying_what_prep_must_return() -> None:
    with pytest.raises(TypeError, match="prep must return an iterable of items"):
        run(Items(12, InFlight().hold))


def test_item_rescued_by_fallback_does_not_stop_the_batch() -> None:
    class Rescued(Items):
        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return f"fallback-{prep_res}"

    async def odd_fails(item: int) -> Any:
        await asyncio.sleep(0)
        if item % 2:
            raise ValueError(item)
        return item

    shared = run(Rescued([0, 1, 2, 3], odd_fails))
    assert shared["results"] == [0, "fallback-1", 2, "fallback-3"]


def test_items_retry_on_their_own_in_a_parallel_batch() -> None:
    failed: set[int] = set()

    async def fails_once(item: int) -> int:
        await asyncio.sleep(0)
        if item not in failed:
            failed.add(item)
            raise ValueError(item)
        return item

    shared = run(Items([1, 2, 3], fails_once, max_retries=2))
    assert shared["results"] == [1, 2, 3]


def failing_batch(tracker: InFlight, error: Exception) -> Work:
    """Item "bad" fails after a tick; every other item waits until cancelled."""

    async def work(item: Any) -> Any:
        if item == "bad":
            await asyncio.sleep(0)
            raise error
        return await tracker.hold_forever(item)

    return work


@pytest.mark.parametrize("max_concurrency", [None, 3])
def test_failure_raises_the_original_error_and_cancels_items_in_flight(
    max_concurrency: int | None,
) -> None:
    tracker, error = InFlight(), ValueError("bad item")
    node = Items(
        ["a", "bad", "b", "c"], failing_batch(tracker, error), max_concurrency=max_concurrency
    )
    with pytest.raises(ValueError) as caught:
        run(node)
    assert caught.value is error
    assert sorted(tracker.cancelled) == sorted(["a", "b", "c"][: tracker.started])
    assert tracker.started >= 2 and tracker.now == 0


@pytest.mark.parametrize("max_concurrency", [None, 2])
def test_failure_leaves_no_task_pending(max_concurrency: int | None) -> None:
    tracker = InFlight()
    node = Items(["a", "bad", "b", "c", "d"], failing_batch(tracker, KeyError("x")))
    node.max_concurrency = max_concurrency

    async def main() -> set[asyncio.Task[Any]]:
        with pytest.raises(KeyError):
            await node.run_async({})
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(main()) == set()


def test_bounded_failure_starts_no_more_items() -> None:
    tracker = InFlight()
    items = ["bad"] + [f"item-{n}" for n in range(20)]
    with pytest.raises(RuntimeError):
        run(Items(items, failing_batch(tracker, RuntimeError("stop")), max_concurrency=2))
    assert tracker.started == 1


def test_failure_emits_no_warning_and_logs_no_destroyed_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = InFlight()
    node = Items([f"item-{n}" for n in range(20)] + ["bad"], failing_batch(tracker, OSError()))
    with caplog.at_level(logging.WARNING, logger="asyncio"), warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(OSError):
            run(node)
        gc.collect()
    assert caplog.records == []
    assert len(tracker.cancelled) == 20


def test_error_raised_while_others_are_cancelled_does_not_replace_the_first() -> None:
    first = ValueError("first")

    async def work(item: str) -> None:
        if item == "first":
            raise first
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise LookupError("raised during cancellation") from None

    with pytest.raises(ValueError) as caught:
        run(Items(["x", "first", "y"], work))
    assert caught.value is first


@pytest.mark.parametrize("max_concurrency", [None, 3])
def test_cancelling_a_running_flow_cancels_items_in_flight_at_once(
    max_concurrency: int | None,
) -> None:
    expected_in_flight = 6 if max_concurrency is None else max_concurrency
    tracker = InFlight(notify_at=expected_in_flight)
    node = Items(list(range(6)), tracker.hold_forever, max_concurrency=max_concurrency)

    async def main() -> tuple[bool, set[asyncio.Task[Any]]]:
        task = asyncio.create_task(AsyncFlow(start=node).run_async({}))
        await tracker.reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled(), asyncio.all_tasks() - {asyncio.current_task()}

    cancelled, left = asyncio.run(main())
    assert cancelled and left == set()
    assert sorted(tracker.cancelled) == list(range(expected_in_flight))
    assert tracker.now == 0


# --- AsyncParallelBatchFlow -----------------------------------------------------------


class HoldParam(AsyncNode):
    """Holds shared["tracker"] for the item named by its params."""

    async def exec_async(self, prep_res: Any) -> Any:
        tracker: InFlight = self.params["tracker"]
        if self.params["item"] == "bad":
            await asyncio.sleep(0)
            raise ValueError("bad run")
        return await tracker.hold(self.params["item"], ticks=self.params.get("ticks", 3))


class ParallelRuns(AsyncParallelBatchFlow):
    async def prep_async(self, shared: Any) -> Any:
        return [{"item": item} for item in shared["items"]]


def test_parallel_batch_flow_runs_every_param_set_at_once() -> None:
    tracker = InFlight()
    flow = ParallelRuns(start=HoldParam())
    flow.set_params({"tracker": tracker})
    run(flow, {"items": list(range(8))})
    assert (tracker.peak, tracker.started) == (8, 8)


def test_parallel_batch_flow_max_concurrency_bounds_runs_in_flight() -> None:
    tracker = InFlight()
    flow = ParallelRuns(start=HoldParam(), max_concurrency=2)
    flow.set_params({"tracker": tracker})
    run(flow, {"items": list(range(8))})
    assert (tracker.peak, tracker.started) == (2, 8)


def test_parallel_batch_flow_failure_cancels_other_runs_and_raises_the_error() -> None:
    tracker = InFlight()
    flow = ParallelRuns(start=HoldParam())
    flow.set_params({"tracker": tracker, "ticks": 10**9})

    async def main() -> set[asyncio.Task[Any]]:
        with pytest.raises(ValueError, match="bad run"):
            await flow.run_async({"items": ["a", "bad", "b"]})
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(main()) == set()
    assert sorted(tracker.cancelled) == ["a", "b"]


def test_parallel_batch_flow_returns_post_async_result() -> None:
    class Reporting(ParallelRuns):
        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return len(prep_res)

    flow = Reporting(start=HoldParam())
    flow.set_params({"tracker": InFlight()})
    assert asyncio.run(flow.run_async({"items": [1, 2, 3]})) == 3


@pytest.mark.parametrize("max_concurrency", [None, 2])
def test_item_ending_in_a_cancellation_of_its_own_fails_the_batch_instead_of_hanging(
    max_concurrency: int | None,
) -> None:
    async def awaits_a_cancelled_future(item: int) -> int:
        if item == 1:
            future = asyncio.get_running_loop().create_future()
            future.cancel()
            await future  # raises CancelledError, though nobody cancelled this task
        await asyncio.sleep(0)
        return item

    node = Items([0, 1, 2, 3], awaits_a_cancelled_future, max_concurrency=max_concurrency)

    async def main() -> None:
        # wait_for only turns a hang into a failure; a correct engine ends at once.
        await asyncio.wait_for(node.run_async({}), timeout=10)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
