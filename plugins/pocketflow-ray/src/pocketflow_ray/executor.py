"""Batch items on Ray: one remote task per item, the node put in the object store once.

Settings (``[executors.ray]``): ``address`` (``"auto"`` joins the cluster this machine
belongs to, ``"host:port"`` or ``"ray://host:port"`` a given one; unset starts a local
cluster of ``local_cpus`` CPUs with an object store of ``object_store_mb``),
``num_cpus`` and ``resources`` per item, and ``force_cancel`` (kill the worker of an
item that is cancelled mid-run, rather than interrupting it). ``ray.init`` runs on
one long-lived helper thread, off the event loop (a local cluster takes seconds to
start), and an address is checked with a TCP connection first, so a wrong one fails
in seconds with :class:`~pocketflow.errors.ClusterUnreachableError`.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pocketflow.errors import ClusterUnreachableError, ExecutorError
from pocketflow.executors.contract import ExecutorSettings, ItemOutcome, Job, ResultCallback
from pocketflow.executors.network import check_reachable
from pocketflow.executors.window import run_in_window

DEFAULT_PORT = 6379


class RayExecutor:
    """Runs shipped items as Ray tasks (see the module docstring for its settings)."""

    name = "ray"

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="pocketflow-ray")
        self._lock = threading.Lock()
        self._task: Any = None
        self._started_cluster = False

    @property
    def address(self) -> str | None:
        """The configured cluster address, or None for a local cluster."""
        address: str | None = self.settings.table.get("address")
        return address

    async def connect(self) -> None:
        """Join (or start) the cluster; later calls return at once."""
        if self._task is None:
            await asyncio.get_running_loop().run_in_executor(self._helper, self._connect)

    def _connect(self) -> None:
        with self._lock:
            if self._task is not None:
                return
            address = self.address
            if address and address != "auto":
                check_reachable("ray", address, DEFAULT_PORT)
            # Under `uv run`, Ray would package the working directory and start every
            # worker through uv: seconds per worker. Workers share this environment.
            os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
            import ray

            if not ray.is_initialized():
                options: dict[str, Any] = {
                    "include_dashboard": False,
                    "log_to_driver": False,
                    "ignore_reinit_error": True,
                }
                if address:
                    options["address"] = address
                else:
                    options["num_cpus"] = self.settings.table.get("local_cpus")
                    store_mb = self.settings.table.get("object_store_mb")
                    if store_mb:
                        options["object_store_memory"] = store_mb * 1024 * 1024
                self._init(ray, options)
                self._started_cluster = not address
            from pocketflow.executors.worker import run_item

            self._task = ray.remote(run_item)

    def _init(self, ray: Any, options: dict[str, Any]) -> None:
        """``ray.init``; a local cluster that times out starting (a busy machine) gets a
        second try."""
        address = options.get("address")
        tries = 1 if address else 2
        for attempt in range(tries):
            try:
                ray.init(**options)
                return
            except ConnectionError as error:
                raise ClusterUnreachableError("ray", address or "auto", str(error)) from error
            except Exception as error:
                ray.shutdown()
                if attempt + 1 < tries:
                    continue
                what = f"join the cluster at {address}" if address else "start a local cluster"
                raise ExecutorError(
                    f"Ray could not {what}: {type(error).__name__}: {error}"
                ) from error

    async def map(self, job: Job, on_result: ResultCallback) -> None:
        """Run ``job``'s items as Ray tasks, ``max_concurrency`` in flight at a time."""
        await self.connect()
        import ray

        table = self.settings.table
        task = self._task.options(
            num_cpus=table.get("num_cpus", 1),
            resources=table.get("resources") or None,
            max_retries=job.max_retries - 1,
            retry_exceptions=False,
        )
        shipment = ray.put(job.shipment.as_tuple())
        force = bool(table.get("force_cancel", False))

        def submit(chunk: Sequence[tuple[int, bytes]]) -> list[Any]:
            return [task.remote(shipment, item) for _, item in chunk]

        def to_future(ref: Any) -> asyncio.Future[ItemOutcome]:
            return asyncio.wrap_future(ref.future())

        def cancel(refs: Sequence[Any]) -> None:
            for ref in refs:
                try:
                    ray.cancel(ref, force=force)
                except Exception:  # finished meanwhile, or already cancelled
                    continue

        # The node leaves the object store when ``shipment`` (its last reference) goes.
        await run_in_window(job, submit, to_future, cancel, on_result)

    async def aclose(self) -> None:
        """Shut Ray down if this executor started the local cluster."""
        if self._task is not None and self._started_cluster:
            import ray

            await asyncio.get_running_loop().run_in_executor(self._helper, ray.shutdown)
        self._task = None
        self._helper.shutdown(wait=False)
