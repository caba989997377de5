"""Engine overhead: microseconds per node step, beside bare Python/asyncio and PocketFlow 0.0.3.

Prints one JSON line. Every figure is the best of a few repeats (time.perf_counter).
Each ``*_us`` is microseconds per node step (or per batch item); ``*_vs_bare`` is ours
divided by the same work done without an engine; ``*_vs_003`` is ours divided by
PocketFlow 0.0.3 (1.0 or less: we are no slower).

PocketFlow 0.0.3 shares the import name ``pocketflow``, so it is loaded by file path
from ``$POCKETFLOW_003_DIR`` (the directory holding its ``pocketflow/`` package),
by default ``bench/.pocketflow-0.0.3`` (fetch it with ``bench/get_pocketflow_003.sh``).
Without it the ``*_003`` figures are null.

    uv run python bench/engine.py
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import itertools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pocketflow
from pocketflow import observers

CHAIN_NODES = 10_000
LOOP_STEPS = 100_000
BATCH_ITEMS = 100_000
BOUND = 100
REPEATS = 5


def load_pocketflow_003() -> ModuleType | None:
    """PocketFlow 0.0.3 loaded under another module name, or None if it is not there."""
    default = Path(__file__).parent / ".pocketflow-0.0.3"
    directory = Path(os.environ.get("POCKETFLOW_003_DIR", default))
    path = directory / "pocketflow" / "__init__.py"
    if not path.is_file():
        path = directory / "__init__.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("pocketflow_003", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pocketflow_003"] = module
    spec.loader.exec_module(module)
    return module


def best_seconds(run: Callable[[], Any], repeats: int = REPEATS) -> float:
    """The fastest of ``repeats`` timed calls of ``run`` (a gc.collect() before each)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def per_step_us(seconds: float, steps: int) -> float:
    return round(seconds / steps * 1e6, 3)


# --- The workloads, written once against either engine --------------------------------


def sync_chain(lib: Any) -> Callable[[], Any]:
    class Step(lib.Node):  # type: ignore[misc]  # lib is either engine (Any)
        pass

    nodes = [Step() for _ in range(CHAIN_NODES)]
    for left, right in itertools.pairwise(nodes):
        left >> right
    flow = lib.Flow(start=nodes[0])
    return lambda: flow.run({})


def async_chain(lib: Any) -> Callable[[], Any]:
    class Step(lib.AsyncNode):  # type: ignore[misc]  # lib is either engine (Any)
        pass

    nodes = [Step() for _ in range(CHAIN_NODES)]
    for left, right in itertools.pairwise(nodes):
        left >> right
    flow = lib.AsyncFlow(start=nodes[0])
    return lambda: asyncio.run(flow.run_async({}))


def async_loop(lib: Any) -> Callable[[], Any]:
    class Ping(lib.AsyncNode):  # type: ignore[misc]  # lib is either engine (Any)
        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["steps"] += 1
            return "pong" if shared["steps"] < LOOP_STEPS else "done"

    class Pong(lib.AsyncNode):  # type: ignore[misc]  # lib is either engine (Any)
        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["steps"] += 1
            return "ping"

    ping, pong = Ping(), Pong()
    ping - "pong" >> pong
    pong - "ping" >> ping
    flow = lib.AsyncFlow(start=ping)
    return lambda: asyncio.run(flow.run_async({"steps": 0}))


def parallel_batch(lib: Any, **options: Any) -> Callable[[], Any]:
    class Items(lib.AsyncParallelBatchNode):  # type: ignore[misc]  # lib is either engine (Any)
        async def prep_async(self, shared: Any) -> Any:
            return range(BATCH_ITEMS)

    node = Items(**options)
    return lambda: asyncio.run(node.run_async({}))


# --- The same work without an engine --------------------------------------------------


def bare_sync_chain() -> None:
    def noop() -> None:
        return None

    for _ in range(CHAIN_NODES):
        noop()
        noop()
        noop()


async def _noop() -> None:
    return None


def bare_async_steps(steps: int) -> Callable[[], Any]:
    async def main() -> None:
        for _ in range(steps):
            await _noop()
            await _noop()
            await _noop()

    return lambda: asyncio.run(main())


def bare_gather() -> Any:
    async def main() -> None:
        await asyncio.gather(*(_noop() for _ in range(BATCH_ITEMS)))

    return asyncio.run(main())


# --------------------------------------------------------------------------------------


def measure(
    lib: ModuleType | None, make: Callable[..., Callable[[], Any]], repeats: int, **kw: Any
) -> float:
    if lib is None:
        return float("nan")
    run = make(lib, **kw)
    run()  # warm up
    return best_seconds(run, repeats)


def ratio(ours: float, theirs: float) -> float | None:
    if theirs != theirs or theirs == 0:  # NaN: no baseline
        return None
    return round(ours / theirs, 3)


def main() -> None:
    # Measure the engine alone. With no observer plugin installed, the plugin layer
    # turns this off at the first step anyway.
    observers.active = False
    # The ping-pong loop ends on an unconnected action, on purpose (no extra step).
    warnings.filterwarnings("ignore", message="Flow ends")
    old = load_pocketflow_003()

    cases: list[tuple[str, Callable[..., Callable[[], Any]], dict[str, Any], int]] = [
        ("sync_chain", sync_chain, {}, CHAIN_NODES),
        ("async_chain", async_chain, {}, CHAIN_NODES),
        ("async_loop", async_loop, {}, LOOP_STEPS),
        ("parallel_batch", parallel_batch, {}, BATCH_ITEMS),
        ("parallel_batch_bounded", parallel_batch, {"max_concurrency": BOUND}, BATCH_ITEMS),
    ]
    bare = {
        "sync_chain": best_seconds(bare_sync_chain, REPEATS * 4) / CHAIN_NODES,
        "async_chain": best_seconds(bare_async_steps(CHAIN_NODES), REPEATS * 4) / CHAIN_NODES,
        "async_loop": best_seconds(bare_async_steps(LOOP_STEPS)) / LOOP_STEPS,
        "parallel_batch": best_seconds(bare_gather) / BATCH_ITEMS,
    }
    bare["parallel_batch_bounded"] = bare["parallel_batch"]

    report: dict[str, Any] = {
        "bench": "engine",
        "python": sys.version.split()[0],
        "pocketflow_003": old is not None,
        "bare_work": {
            "sync_chain": "3 no-op calls per step",
            "async_chain": "3 awaited no-op coroutines per step",
            "async_loop": "3 awaited no-op coroutines per step",
            "parallel_batch": "asyncio.gather of no-op coroutines",
            "parallel_batch_bounded": "asyncio.gather of no-op coroutines (unbounded)",
        },
    }
    for name, make, options, steps in cases:
        # Short runs get more repeats, so a busy machine disturbs them less.
        repeats = REPEATS * 4 if steps == CHAIN_NODES else REPEATS
        ours = measure(pocketflow, make, repeats, **options) / steps
        # 0.0.3 has no max_concurrency: its bounded figure is its unbounded batch.
        theirs = measure(old, make, repeats) / steps
        report[f"{name}_us"] = per_step_us(ours, 1)
        report[f"{name}_bare_us"] = per_step_us(bare[name], 1)
        report[f"{name}_vs_bare"] = ratio(ours, bare[name])
        report[f"{name}_003_us"] = None if old is None else per_step_us(theirs, 1)
        report[f"{name}_vs_003"] = ratio(ours, theirs)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
