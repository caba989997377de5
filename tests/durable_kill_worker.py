"""The process that tests/test_durable_kill.py kills: it forks one child per attempt.

It imports pocketflow and the openai plugin once, then reads lines from stdin:
``FLOW RUN_ID ATTEMPT``. For each it forks a child that runs (or resumes) that durable
run against the local vendor server and exits 0 when the run finished (writing the
final shared store to ``RUN_ID.json``); it prints ``PID <pid>`` at once and
``EXIT <code>`` (negative: the signal) when the child ends. Forking after the imports
lets an attempt start in milliseconds, so the test can kill many of them.

Every ``exec`` appends ``ATTEMPT KEY`` to ``execs.log`` before it calls the LLM, so
the test can tell which steps ran in which attempt.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from pocketflow import AsyncFlow, AsyncNode, AsyncParallelBatchFlow, call_llm_async
from pocketflow.plugins import get_plugin_manager

STEPS = 30
ITEMS = 200
attempt = "0"


def log_exec(key: str) -> None:
    descriptor = os.open("execs.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(descriptor, f"{attempt} {key}\n".encode())
    finally:
        os.close(descriptor)


class Step(AsyncNode):
    """Step n asks the LLM about n; 30 steps in a loop."""

    async def prep_async(self, shared: dict[str, Any]) -> int:
        return len(shared["answers"])

    async def exec_async(self, n: int) -> str:
        log_exec(f"step{n}")
        return await call_llm_async(f"step {n} [call-{self.params['run']}-{n}]")

    async def post_async(self, shared: dict[str, Any], n: int, answer: str) -> str:
        shared["answers"].append(answer)
        return "next" if n + 1 < STEPS else "end"


class Item(AsyncNode):
    """One item of the parallel batch: asks the LLM about its document."""

    async def exec_async(self, prep_res: Any) -> str:
        doc = self.params["doc"]
        log_exec(f"item{doc}")
        return await call_llm_async(f"doc {doc} [call-{self.params['run']}-{doc}]")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, answer: str) -> None:
        shared["answers"][str(self.params["doc"])] = answer


class AllDocs(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, int]]:
        return [{"doc": doc} for doc in range(ITEMS)]


def build(kind: str, run_id: str) -> tuple[AsyncFlow, dict[str, Any]]:
    if kind == "steps":
        step = Step()
        step - "next" >> step
        flow: AsyncFlow = AsyncFlow(start=step)
        shared: dict[str, Any] = {"answers": []}
    else:
        flow = AllDocs(start=Item(), max_concurrency=20)
        shared = {"answers": {}}
    flow.set_params({"run": run_id})
    return flow, shared


def child(kind: str, run_id: str) -> None:
    flow, shared = build(kind, run_id)
    asyncio.run(flow.run_async(shared, run_id=run_id))
    Path(f"{run_id}.json").write_text(json.dumps(shared))


def main() -> None:
    global attempt
    get_plugin_manager()  # load the plugins once, before forking
    # One plain call loads what a first call loads (the SDK and its lazy modules), so a
    # child's first call costs what every later one does. No store is opened here: a
    # SQLite connection must not cross a fork.
    asyncio.run(call_llm_async("warm up [call-warm-up]"))
    print("READY", flush=True)
    for line in sys.stdin:
        kind, run_id, attempt = line.split()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(kind, run_id)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"PID {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"EXIT {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
