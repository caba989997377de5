"""A fleet of ``pocketflow runs worker`` processes draining a queue of durable runs.

Shared by tests/test_run_fleet.py and bench/postgres_fleet.py: a project folder whose
flow (5 steps, an LLM call each, against the local vendor server) is queued N times,
then worked off by worker processes that can be killed and replaced.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STEPS = 5

FLOW_MODULE = f"""
from pocketflow import AsyncFlow, AsyncNode, call_llm_async

class Step(AsyncNode):
    async def prep_async(self, shared):
        return len(shared["effects"]), shared["run"]

    async def exec_async(self, step):
        n, run = step
        return await call_llm_async(f"step {{n}} [call-{{run}}-{{n}}]")

    async def post_async(self, shared, step, answer):
        n = step[0]
        shared["effects"].append(n)  # a step's effect: once per step in the final state
        return "next" if n + 1 < {STEPS} else "end"

def build():
    step = Step()
    step - "next" >> step
    return AsyncFlow(start=step)
"""


@dataclass
class Fleet:
    """Worker processes over one project folder and one store."""

    folder: Path
    store: str
    base_url: str
    concurrency: int = 8
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def prepare(cls, folder: Path, store: str, base_url: str, concurrency: int = 8) -> Fleet:
        """Write the flow module and a pocketflow.toml pointing at the vendor server."""
        (folder / "fleet_flow.py").write_text(FLOW_MODULE)
        (folder / "pocketflow.toml").write_text(
            'llm = "local:gpt-4o-mini"\n'
            f'[providers.local]\nkind = "openai"\nbase_url = "{base_url}/v1"\n'
            'api_key_env = "LOCAL_KEY"\nmax_concurrency = 256\n'
            f'[runs]\nstore = "{store}"\nlease_seconds = 30\n'
            # a few connections per worker: eight workers stay well inside the server's
            # max_connections (100 by default), even with a second suite beside them
            + ("pool_size = 4\n" if store.startswith("postgres") else "")
        )
        return cls(folder, store, base_url, concurrency)

    def environment(self) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("POCKETFLOW_", "OPENAI_", "ANTHROPIC_"))
        }
        environment["LOCAL_KEY"] = "sk-fleet"
        return environment

    async def enqueue(self, count: int, prefix: str = "fleet") -> list[str]:
        """Queue ``count`` runs (in this process) and return their ids."""
        from pocketflow.runs import enqueue
        from pocketflow.runtime import reset_runtime

        here = os.getcwd()
        os.chdir(self.folder)
        try:
            reset_runtime()
            ids = []
            for index in range(count):
                run_id = f"{prefix}-{index}"
                await enqueue(
                    "fleet_flow:build", {"effects": [], "run": run_id}, run_id=run_id,
                    store=self.store,
                )  # fmt: skip
                ids.append(run_id)
            return ids
        finally:
            os.chdir(here)
            reset_runtime()

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start one more worker process."""
        log = (self.folder / f"worker-{len(self.workers)}.log").open("wb")
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "pocketflow", "runs", "worker", "--store", self.store,
                "--concurrency", str(self.concurrency), "--poll", "0.05",
            ],
            cwd=self.folder,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        log.close()  # the worker has its own copy
        self.workers.append(worker)
        return worker

    def reports(self) -> list[str]:
        """What every worker reported (its stdout: a line per run resumed, ended or requeued)."""
        return [log.read_text() for log in sorted(self.folder.glob("worker-*.log"))]

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL one worker and reap it."""
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    def stop(self) -> list[bytes]:
        """SIGTERM every live worker; return what each wrote to stderr."""
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        errors = []
        for worker in self.workers:
            try:
                _, stderr = worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                _, stderr = worker.communicate()
            errors.append(stderr)
        return errors


async def statuses(store_url: str, folder: Path) -> dict[str, int]:
    """How many runs are in each status."""
    infos = await _store(store_url, folder).list_runs(None, limit=1_000_000)
    counts: dict[str, int] = {}
    for info in infos:
        counts[info.status] = counts.get(info.status, 0) + 1
    return counts


async def final_states(store_url: str, folder: Path, run_ids: list[str]) -> dict[str, Any]:
    """Each run's stored shared state."""
    from pocketflow.runs.serialize import SERIALIZERS

    store = _store(store_url, folder)
    states = {}
    for run_id in run_ids:
        info = await store.get(run_id)
        assert info is not None and info.state is not None
        states[run_id] = SERIALIZERS[info.serializer].loads(info.state)
    return states


def _store(store_url: str, folder: Path) -> Any:
    from pocketflow.config import load_config
    from pocketflow.runs import open_store

    return open_store(store_url, load_config(folder))


async def wait_until(store_url: str, folder: Path, done: int, timeout: float) -> dict[str, int]:
    """Poll the store until ``done`` runs are done; the last counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await statuses(store_url, folder)
        if counts.get("done", 0) >= done or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.1)
