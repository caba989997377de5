"""Batch items on local Ray and Dask clusters, with facades and durable runs.

One cluster per executor for the whole session: the settings match the plugins' own
tests, so a full run shares their clusters. A node calls ``call_llm_async`` from inside
the cluster against the local vendor server, with the key forwarded only when
``[executors] env`` lists it; a durable batch that failed midway resumes by sending
only its unfinished items.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncParallelBatchNode, call_llm_async
from pocketflow.errors import MissingKeyError
from pocketflow.executor_contract import Pids, run_items
from pocketflow.runtime import reset_runtime

from vendor_server import VendorServer

SETTINGS = {
    "ray": "local_cpus = 2\nobject_store_mb = 100",
    "dask": "workers = 2\nthreads_per_worker = 1",
}
SECRET = "sk-forwarded-0123456789"


def write_config(executor: str, *, forward: bool, base_url: str = "http://127.0.0.1:9") -> None:
    env = 'env = ["OPENAI_API_KEY"]' if forward else ""
    Path("pocketflow.toml").write_text(
        f'llm = "openai:gpt-4o-mini"\n\n[providers.openai]\nbase_url = "{base_url}/v1"\n'
        f"max_retries = 0\n\n[executors]\n{env}\n\n[executors.{executor}]\n"
        f"{SETTINGS[executor]}\n",
        encoding="utf-8",
    )
    reset_runtime()


class AskEach(AsyncParallelBatchNode):
    """Asks the model about each item (on a cluster worker when an executor is set)."""

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        items: list[int] = shared["items"]
        return items

    async def exec_async(self, prep_res: int) -> str:
        return await call_llm_async(f"item {prep_res} [call-{prep_res}]")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["answers"] = exec_res


@pytest.mark.parametrize("executor", ["ray", "dask"])
def test_a_node_calls_the_llm_from_inside_the_cluster_with_the_forwarded_key(
    pocketflow_env: pytest.MonkeyPatch, executor: str
) -> None:
    write_config(executor, forward=False)
    run_items(Pids(executor=executor), [0])  # the cluster's workers start without the key
    pocketflow_env.setenv("OPENAI_API_KEY", SECRET)

    async def ask(forward: bool) -> tuple[dict[str, Any], int]:
        async with VendorServer(latency=0.001) as server:
            write_config(executor, forward=forward, base_url=server.base_url)
            shared: dict[str, Any] = {"items": list(range(12))}
            node = AskEach(max_concurrency=10, executor=executor)
            try:
                await AsyncFlow(node).run_async(shared)
            finally:
                requests = server.stats.requests
            return shared, requests

    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY is not set"):
        asyncio.run(ask(forward=False))
    shared, requests = asyncio.run(ask(forward=True))
    assert shared["answers"] == [f"echo: item {index} [call-{index}]" for index in range(12)]
    assert requests == 12


class SlowTail(AsyncParallelBatchNode):
    """Items below 30 finish at once; the others wait, then fail while ``gate`` exists."""

    def __init__(self, marks: str, gate: str, executor: str) -> None:
        super().__init__(executor=executor)
        self.marks = marks
        self.gate = gate

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(range(40))

    async def exec_async(self, prep_res: int) -> int:
        await asyncio.to_thread(Path(self.marks, f"{prep_res}-{uuid.uuid4().hex}").touch)
        if prep_res >= 30:
            await asyncio.sleep(0.5)
            if await asyncio.to_thread(Path(self.gate).exists):
                raise RuntimeError(f"item {prep_res} failed")
        return prep_res * 10

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["results"] = exec_res


@pytest.mark.parametrize("executor", ["ray", "dask"])
def test_a_resumed_durable_batch_sends_only_its_unfinished_items(
    pocketflow_env: pytest.MonkeyPatch, tmp_path: Path, executor: str
) -> None:
    write_config(executor, forward=False)
    marks, gate = tmp_path / "marks", tmp_path / "gate"
    marks.mkdir()
    gate.touch()
    run_id = f"remote-{executor}-{uuid.uuid4().hex[:8]}"

    def run() -> dict[str, Any]:
        shared: dict[str, Any] = {}
        flow = AsyncFlow(SlowTail(str(marks), str(gate), executor))
        asyncio.run(flow.run_async(shared, run_id=run_id, store="memory://executors"))
        return shared

    with pytest.raises(RuntimeError, match=r"item 3\d failed"):
        run()
    gate.unlink()
    shared = run()
    assert shared["results"] == [index * 10 for index in range(40)]
    runs_per_item = [len(list(marks.glob(f"{index}-*"))) for index in range(40)]
    assert runs_per_item[:30] == [1] * 30  # journaled on arrival: not sent again
    assert all(count >= 1 for count in runs_per_item[30:])
