"""Running a batch node's items on an executor: ship, map, gather in input order.

The engine calls in through :mod:`pocketflow.executor_seam`. A batch is shipped once
(:mod:`~pocketflow.executors.shipping`: refused whole, before anything is sent, if the
node or an item cannot be serialized), its items run through the executor's
:meth:`~pocketflow.executors.contract.Executor.map`, and each outcome is turned back
into the item's result, or into the item's own exception, raised as itself (which
makes the executor cancel the items still running).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from pocketflow import executor_seam
from pocketflow.executor_seam import ItemCallback
from pocketflow.executors.contract import Executor, ItemOutcome, Job
from pocketflow.executors.settings import LOCAL, default_executor, forwarded_env, get_executor
from pocketflow.executors.shipping import loads, ship_items, ship_node
from pocketflow.nodes import batch_items


class ExecutorDispatch:
    """The :class:`~pocketflow.executor_seam.Dispatch` this layer installs."""

    def remote_executor(self, node: Any) -> Executor | None:
        """The executor for ``node``'s items; None for "local" (today's code path)."""
        name = node.executor or default_executor()
        if name == LOCAL:
            return None
        return get_executor(name)

    async def run(
        self,
        node: Any,
        executor: Any,
        items: Any,
        done: Mapping[int, Any] | None = None,
        on_result: ItemCallback | None = None,
    ) -> list[Any]:
        """Run the items of ``node`` not in ``done`` on ``executor``; results in input order."""
        batch = list(batch_items(node, items))
        results: list[Any] = [None] * len(batch)
        todo = []
        for index, item in enumerate(batch):
            if done is not None and index in done:
                results[index] = done[index]
            else:
                todo.append((index, item))
        if not todo:
            return results
        name = type(node).__name__
        shipment = ship_node(node, forwarded_env())
        job = Job(
            node_name=name,
            shipment=shipment,
            items=ship_items(name, todo),
            max_concurrency=getattr(node, "max_concurrency", None),
            max_retries=max(1, int(getattr(node, "max_retries", 1))),
        )

        async def received(index: int, outcome: ItemOutcome) -> None:
            succeeded, data = outcome
            value = loads(data)
            if not succeeded:
                raise value
            results[index] = value
            if on_result is not None:
                await on_result(index, value)

        await executor.map(job, received)
        return results

    def run_sync(self, node: Any, executor: Any, items: Any) -> list[Any]:
        """:meth:`run` from sync code: on this thread, or on a helper thread inside a loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run(node, executor, items))
        outcome: list[Any] = []

        def run_on_helper() -> None:
            try:
                outcome.append((True, asyncio.run(self.run(node, executor, items))))
            except BaseException as error:
                outcome.append((False, error))

        helper = threading.Thread(target=run_on_helper, name="pocketflow-executor-batch")
        helper.start()
        helper.join()
        succeeded, value = outcome[0]
        if not succeeded:
            raise value
        result: list[Any] = value
        return result


def install() -> None:
    """Install the dispatch in the engine's seam."""
    executor_seam.dispatch = ExecutorDispatch()
