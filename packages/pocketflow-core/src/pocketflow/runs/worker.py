"""``pocketflow runs worker``: resumes every run that is ready, several at once.

A run is ready when it is queued: its question was answered (or expired, and its
default applied), or it was queued by a worker that stopped. Each round the worker
applies expired defaults, queues again the runs whose process died, claims what it
has room for (``concurrency``) and resumes each from its ``MODULE:ATTR`` target. On
SIGTERM or SIGINT it stops claiming, cancels what runs, and puts those runs back in
the queue: each resumes later from its last commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pocketflow import durability
from pocketflow.errors import FlowSuspended, StoreUnavailableError
from pocketflow.flows import AsyncFlow
from pocketflow.runs.answers import apply_expired_defaults
from pocketflow.runs.settings import RunSettings
from pocketflow.runs.store import RunInfo, lease_is_free, new_owner
from pocketflow.runs.targets import load_flow
from pocketflow.runtime import current_runtime


class RunWorker:
    """Resumes ready runs from one store, at most ``concurrency`` at a time."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        concurrency: int = 4,
        poll: float = 2.0,
        report: Callable[[str], None] = print,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"--concurrency must be 1 or more, not {concurrency}.")
        self.settings = settings
        self.store = settings.store
        self.concurrency = concurrency
        self.poll = poll
        self.report = report
        self.owner = new_owner()
        self.finished = 0

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> int:
        """Work until ``stop`` is set (or, with ``once``, until nothing is ready)."""
        running: set[asyncio.Future[Any]] = set()
        await self._warm_up()
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                try:
                    claimed = await self._claim(self.concurrency - len(running))
                except StoreUnavailableError as error:  # the store may be back next round
                    self.report(f"the run store is out of reach, trying again: {error}")
                    claimed = []
                running |= {asyncio.ensure_future(self._resume(info)) for info in claimed}
                if once and not running:
                    break
                if once and not claimed and all(task.done() for task in running):
                    break
                work = asyncio.ensure_future(self.store.wait_for_work(self.poll))
                done, _ = await asyncio.wait(
                    {stopping, work, *running}, return_when=asyncio.FIRST_COMPLETED
                )
                work.cancel()
                running -= done
        finally:
            stopping.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        return self.finished

    async def _warm_up(self) -> None:
        """Make the default model's provider (importing its SDK) before claiming runs.

        The import takes seconds, tens on a loaded machine; done by the first call, on
        the loop, it would stall every claimed run's open store transaction and let
        leases run out while nothing runs. It is made off the loop, with no run held.
        """
        warming = current_runtime().warming
        if warming is not None:
            await asyncio.to_thread(warming.join)

    async def _claim(self, room: int) -> list[RunInfo]:
        now = time.time()
        for question in await apply_expired_defaults(self.store, now):
            self.report(f"{question.run_id}: no answer in time, default {question.decision!r}")
        for info in await self.store.list_runs("running", limit=1000):
            owner = info.lease_owner
            stale = owner and owner != self.owner and lease_is_free(info, now)
            if stale and owner and await self.store.requeue(info.run_id, owner, now):
                self.report(f"{info.run_id}: its process is gone; queued again")
        if room <= 0:
            return []
        lease_until = now + self.settings.lease_seconds
        return await self.store.claim(self.owner, lease_until, now, room)

    async def _resume(self, info: RunInfo) -> None:
        run_id = info.run_id
        options = {
            "store": self.store.url, "target": info.target, "owner": self.owner,
            "on_cancel": "queued",
        }  # fmt: skip
        try:
            if not info.target:
                raise ValueError(
                    "it was started from code, not with `pocketflow run`: no worker can load "
                    "its flow; run your program again with its run_id"
                )
            flow = load_flow(info.target)
            runner = durability.get_runner()
            self.report(f"{run_id}: resuming {info.target}")
            if isinstance(flow, AsyncFlow):
                await runner.run_async(flow, {}, run_id, options)
            else:
                await asyncio.to_thread(runner.run, flow, {}, run_id, options)
        except FlowSuspended as suspended:
            self.report(f"{run_id}: waiting again: {suspended.question.content[:80]!r}")
        except asyncio.CancelledError:
            self.report(f"{run_id}: stopped; queued again")
            raise
        except StoreUnavailableError as error:
            self.report(f"{run_id}: the run store failed; queued again: {error}")
        except Exception as error:
            self.report(f"{run_id}: failed: {type(error).__name__}: {error}")
            await self._fail_unstarted(info, error)
        else:
            self.finished += 1
            self.report(f"{run_id}: done")

    async def _fail_unstarted(self, info: RunInfo, error: Exception) -> None:
        """Record a run that failed before the runner took it (its target would not load)."""
        current = await self.store.get(info.run_id)
        if (
            current is not None
            and current.status == "running"
            and current.lease_owner == self.owner
        ):
            await self.store.finish(
                info.run_id, self.owner, "failed", state=None, outcome=None,
                error=f"{type(error).__name__}: {error}", now=time.time(),
            )  # fmt: skip
