"""The ``local`` executor: items in this process, through the same shipping as a cluster.

Batch nodes with ``executor="local"`` (the default) never reach it: the engine runs
their items directly, at today's cost. It exists so the executor machinery (shipping,
the worker's per-item path, ordering, cancellation) can be exercised without a
cluster, and as the reference an executor plugin's tests compare against
(:class:`~pocketflow.executor_contract.ExecutorContract`). Items run on threads,
``max_concurrency`` at a time (4 when the node sets none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from pocketflow.executors.contract import ExecutorSettings, ItemOutcome, Job, ResultCallback
from pocketflow.executors.window import run_in_window
from pocketflow.executors.worker import run_item

DEFAULT_THREADS = 4


class LocalExecutor:
    """Runs shipped items on a thread pool of this process."""

    name = "local"

    def __init__(self, settings: ExecutorSettings | None = None) -> None:
        self.settings = settings or ExecutorSettings("local")

    async def map(self, job: Job, on_result: ResultCallback) -> None:
        """Run ``job``'s items on threads, in a window of ``max_concurrency``."""
        threads = job.max_concurrency or DEFAULT_THREADS
        shipment = job.shipment.as_tuple()
        with ThreadPoolExecutor(threads, thread_name_prefix="pocketflow-local") as pool:
            window = Job(job.node_name, job.shipment, job.items, threads, job.max_retries)

            def submit(chunk: Sequence[tuple[int, bytes]]) -> list[Future[ItemOutcome]]:
                return [pool.submit(run_item, shipment, item) for _, item in chunk]

            def cancel(handles: Sequence[Future[ItemOutcome]]) -> None:
                for handle in handles:
                    handle.cancel()

            await run_in_window(window, submit, asyncio.wrap_future, cancel, on_result)

    async def aclose(self) -> None:
        """Nothing to release."""
