"""A sliding window over a job's items, for executors whose tasks finish in any order.

An executor supplies three small functions (submit a chunk of items, turn a task
handle into an asyncio future, cancel handles) and :func:`run_in_window` keeps at most
``job.max_concurrency`` items in flight, hands each finished one to ``on_result`` as
it arrives, and cancels whatever is in flight when ``on_result`` raises or the caller
is cancelled. Completions arrive through one queue, so a 10,000-item batch costs
O(items), not O(items²) as repeated ``asyncio.wait`` over the pending set would.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pocketflow.executors.contract import ItemOutcome, Job, ResultCallback

Handle = TypeVar("Handle")


async def run_in_window(
    job: Job,
    submit: Callable[[Sequence[tuple[int, bytes]]], Sequence[Handle]],
    to_future: Callable[[Handle], asyncio.Future[ItemOutcome]],
    cancel: Callable[[Sequence[Handle]], None],
    on_result: ResultCallback,
) -> None:
    """Run ``job``'s items with ``submit`` (one handle per item, in order) in a window."""
    items = iter(job.items)
    limit = job.max_concurrency or len(job.items) or 1
    finished: asyncio.Queue[asyncio.Future[ItemOutcome]] = asyncio.Queue()
    in_flight: dict[asyncio.Future[ItemOutcome], tuple[int, Handle]] = {}

    def send(count: int) -> None:
        chunk = list(itertools.islice(items, count))
        if not chunk:
            return
        handles = submit(chunk)
        for (index, _), handle in zip(chunk, handles, strict=True):
            future = to_future(handle)
            in_flight[future] = (index, handle)
            future.add_done_callback(finished.put_nowait)

    try:
        send(limit)
        while in_flight:
            done = [await finished.get()]
            while not finished.empty():
                done.append(finished.get_nowait())
            for future in done:
                index, _ = in_flight.pop(future)
                await on_result(index, future.result())
            send(len(done))
    except BaseException:
        pending: list[Any] = [handle for _, handle in in_flight.values()]
        for future in in_flight:
            future.cancel()
        if pending:
            cancel(pending)
        raise
