"""Batch items on Dask: the node scattered once, items sent with ``client.map`` in windows.

Settings (``[executors.dask]``): ``address`` of a scheduler (``"tcp://host:8786"``;
checked with a TCP connection first, so a wrong one fails fast with
:class:`~pocketflow.errors.ClusterUnreachableError`), or none for a ``LocalCluster``
of ``workers`` processes (2 by default) with ``threads_per_worker`` threads (1);
``connect_timeout`` in seconds (10). The client is a synchronous one made on a helper
thread; finished tasks reach the event loop through done callbacks, so the executor
works from any event loop.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pocketflow.errors import ClusterUnreachableError
from pocketflow.executors.contract import ExecutorSettings, Job, ResultCallback
from pocketflow.executors.network import check_reachable

DEFAULT_PORT = 8786


class DaskExecutor:
    """Runs shipped items as Dask tasks (see the module docstring for its settings)."""

    name = "dask"

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="pocketflow-dask")
        self._lock = threading.Lock()
        self.client: Any = None
        self._cluster: Any = None

    async def connect(self) -> None:
        """Connect to the scheduler (or start a local cluster); later calls return at once."""
        if self.client is None:
            await asyncio.get_running_loop().run_in_executor(self._helper, self._connect)

    def _connect(self) -> None:
        with self._lock:
            if self.client is not None:
                return
            distributed = _distributed()
            table = self.settings.table
            address: str | None = table.get("address")
            timeout = table.get("connect_timeout", 10)
            if address:
                check_reachable("dask", address, DEFAULT_PORT)
                try:
                    self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
                except (OSError, TimeoutError) as error:
                    raise ClusterUnreachableError("dask", address, str(error)) from error
                return
            self._cluster = distributed.LocalCluster(
                n_workers=table.get("workers", 2),
                threads_per_worker=table.get("threads_per_worker", 1),
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = distributed.Client(self._cluster, set_as_default=False)

    async def map(self, job: Job, on_result: ResultCallback) -> None:
        """Run ``job``'s items as Dask tasks, ``max_concurrency`` in flight at a time."""
        await self.connect()
        client = self.client
        loop = asyncio.get_running_loop()
        shipment = job.shipment
        scattered = await loop.run_in_executor(
            self._helper,
            lambda: client.scatter(
                {shipment.token: shipment.as_tuple()}, hash=False, broadcast=True
            ),
        )
        window = _Window(client, job, scattered[shipment.token], loop)
        pump = threading.Thread(target=window.pump, name="pocketflow-dask-results", daemon=True)
        pump.start()
        try:
            while True:
                kind, payload = await window.arrivals.get()
                if kind == "done":
                    break
                if kind == "error":
                    raise payload
                for index, outcome in payload:
                    await on_result(index, outcome)
        except BaseException:
            window.stop()
            raise
        finally:
            scattered[shipment.token].release()

    async def aclose(self) -> None:
        """Close the client, and the local cluster if this executor started one."""
        client, cluster = self.client, self._cluster
        self.client = self._cluster = None

        def close() -> None:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()

        await asyncio.get_running_loop().run_in_executor(self._helper, close)
        self._helper.shutdown(wait=False)


class _Window:
    """One batch on Dask: a helper thread gathers finished tasks in batches (one
    ``gather`` per batch, not per item) and sends more as slots free up."""

    def __init__(self, client: Any, job: Job, node: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.node = node
        self.loop = loop
        self.items = iter(job.items)
        self.limit = job.max_concurrency or len(job.items) or 1
        self.retries = job.max_retries - 1
        self.arrivals: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.in_flight: dict[Any, tuple[int, Any]] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def send(self, count: int) -> list[Any]:
        """Submit the next ``count`` items with one ``client.map``."""
        from pocketflow.executors.worker import run_item

        chunk = list(itertools.islice(self.items, count))
        if not chunk or self.stopped.is_set():
            return []
        payloads = [item for _, item in chunk]
        tasks: list[Any] = self.client.map(
            run_item, [self.node] * len(chunk), payloads, pure=False, retries=self.retries
        )
        with self.lock:
            for (index, _), task in zip(chunk, tasks, strict=True):
                self.in_flight[task.key] = (index, task)
        return tasks

    def pump(self) -> None:
        """On the helper thread: gather finished tasks, hand them to the loop, refill."""
        try:
            finished = _distributed().as_completed(self.send(self.limit), loop=self.client.loop)
            for batch in finished.batches():
                if self.stopped.is_set():
                    return
                # One gather per batch of finished tasks: a batch grows with the backlog,
                # so a large batch costs a few round trips, not one per item.
                outcomes = self.client.gather(batch)
                with self.lock:
                    indexes = [self.in_flight.pop(task.key)[0] for task in batch]
                self._deliver("results", list(zip(indexes, outcomes, strict=True)))
                finished.update(self.send(len(batch)))
            self._deliver("done", None)
        except BaseException as error:
            self._deliver("error", error)

    def stop(self) -> None:
        """Cancel what is in flight on the cluster and send nothing more."""
        self.stopped.set()
        with self.lock:
            tasks = [task for _, task in self.in_flight.values()]
            self.in_flight.clear()
        if tasks:
            self.client.cancel(tasks, asynchronous=False)

    def _deliver(self, kind: str, payload: Any) -> None:
        if not self.stopped.is_set() and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.arrivals.put_nowait, (kind, payload))


def _distributed() -> Any:
    """The ``distributed`` package, imported on first use (its calls are untyped)."""
    return importlib.import_module("distributed")
