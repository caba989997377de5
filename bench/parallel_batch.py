"""``AsyncParallelBatchNode`` at scale: CPU per item and peak memory, 10k vs 100k items.

Kinds, each over the same list of items with the same no-op per-item coroutine
(``async def ...(item): return item``, the node's ``exec_async`` itself; ``--work
yield`` makes it ``await asyncio.sleep(0)`` first, so every item really suspends once
and all of them are in flight together when unbounded):

- ``node_unbounded``: ``AsyncParallelBatchNode`` (prep returns the items, exec_async is
  the no-op), ``max_concurrency=None``;
- ``node_bounded_100``: the same with ``max_concurrency=100``;
- ``gather``: bare ``asyncio.gather`` of one coroutine per item;
- ``gather_semaphore_100``: bare ``asyncio.gather`` with an ``asyncio.Semaphore(100)``
  around each item (the usual hand-written bound);
- ``workers_100``: 100 bare worker tasks pulling items from one shared iterator (the
  cheapest hand-written bound).

Figures per kind and size: ``cpu_us_per_item`` (``time.process_time`` over one whole
run divided by the items, best of ``--repeat`` runs; ``*_gc_off`` the same with the
cyclic garbage collector off while timing, which shows how much of the growth with
size is the collector's: its full collections walk every live task and coroutine, so
with all items in flight at once their cost grows faster than the item count, for
bare ``asyncio.gather`` as much as for the node) and ``peak_kib`` (tracemalloc's
peak above what was allocated before the run, in a separate run: tracemalloc slows
everything down, so it is never on while timing). The items list and results list are
included (the results are part of the output). ``growth_100k_over_10k`` divides the
100k run's total CPU time and peak memory by the 10k run's: 10 is linear.
``vs_bare`` divides the node's figures by the matching bare kind's (unbounded by
``gather``, bounded by ``workers_100``).

    uv run python bench/parallel_batch.py
    uv run python bench/parallel_batch.py --work yield --sizes 10000,100000

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pocketflow import AsyncParallelBatchNode

BOUND = 100
Run = Callable[[list[int]], Awaitable[list[Any]]]
"""Process every item of the list; return the results in order."""


def make_kinds(work: str) -> dict[str, Run]:
    """The kinds of run (see the module docstring) for the per-item ``work``."""
    if work == "noop":

        async def item_work(item: int) -> int:
            return item

        class Batch(AsyncParallelBatchNode):
            async def prep_async(self, shared: dict[str, Any]) -> list[int]:
                items: list[int] = shared["items"]
                return items

            async def exec_async(self, prep_res: int) -> int:
                return prep_res

            async def post_async(
                self, shared: dict[str, Any], prep_res: Any, exec_res: Any
            ) -> None:
                shared["results"] = exec_res

    else:

        async def item_work(item: int) -> int:
            await asyncio.sleep(0)
            return item

        class Batch(AsyncParallelBatchNode):  # type: ignore[no-redef]  # one per work kind
            async def prep_async(self, shared: dict[str, Any]) -> list[int]:
                items: list[int] = shared["items"]
                return items

            async def exec_async(self, prep_res: int) -> int:
                await asyncio.sleep(0)
                return prep_res

            async def post_async(
                self, shared: dict[str, Any], prep_res: Any, exec_res: Any
            ) -> None:
                shared["results"] = exec_res

    async def node_run(items: list[int], max_concurrency: int | None) -> list[Any]:
        shared: dict[str, Any] = {"items": items}
        await Batch(max_concurrency=max_concurrency).run_async(shared)
        results: list[Any] = shared["results"]
        return results

    async def node_unbounded(items: list[int]) -> list[Any]:
        return await node_run(items, None)

    async def node_bounded(items: list[int]) -> list[Any]:
        return await node_run(items, BOUND)

    async def gather(items: list[int]) -> list[Any]:
        return list(await asyncio.gather(*(item_work(item) for item in items)))

    async def gather_semaphore(items: list[int]) -> list[Any]:
        semaphore = asyncio.Semaphore(BOUND)

        async def bounded(item: int) -> int:
            async with semaphore:
                return await item_work(item)

        return list(await asyncio.gather(*(bounded(item) for item in items)))

    async def workers(items: list[int]) -> list[Any]:
        results: list[Any] = [None] * len(items)
        work = enumerate(items)

        async def worker() -> None:
            for index, item in work:
                results[index] = await item_work(item)

        await asyncio.gather(*(worker() for _ in range(min(BOUND, len(items)))))
        return results

    return {
        "node_unbounded": node_unbounded,
        f"node_bounded_{BOUND}": node_bounded,
        "gather": gather,
        f"gather_semaphore_{BOUND}": gather_semaphore,
        f"workers_{BOUND}": workers,
    }


def cpu_seconds(run: Run, items: list[int], repeat: int, *, collect: bool = True) -> float:
    """The least CPU seconds of ``repeat`` runs (after one warm-up), results checked.

    ``collect=False`` turns the cyclic garbage collector off while each run is timed.
    """

    async def timed() -> float:
        best = float("inf")
        for attempt in range(repeat + 1):
            gc.collect()
            if not collect:
                gc.disable()
            started = time.process_time()
            try:
                results = await run(items)
            finally:
                elapsed = time.process_time() - started
                gc.enable()
            if results != items:
                raise AssertionError("results are not the items in input order")
            if attempt:
                best = min(best, elapsed)
        return best

    return asyncio.run(timed())


def peak_bytes(run: Run, items: list[int]) -> int:
    """tracemalloc's peak above the starting point during one run."""

    async def traced() -> int:
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            await run(items)
            return tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()

    return asyncio.run(traced())


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def measure(kinds: dict[str, Run], sizes: Sequence[int], repeat: int) -> dict[str, Any]:
    """Every kind at every size: CPU per item, peak memory, growth from smallest to largest."""
    results: dict[str, Any] = {}
    for name, run in kinds.items():
        by_size: dict[str, Any] = {}
        for size in sizes:
            items = list(range(size))
            seconds = cpu_seconds(run, items, repeat)
            without_gc = cpu_seconds(run, items, repeat, collect=False)
            peak = peak_bytes(run, items)
            by_size[str(size)] = {
                "cpu_s": round(seconds, 4),
                "cpu_us_per_item": round(seconds / size * 1e6, 3),
                "cpu_s_gc_off": round(without_gc, 4),
                "cpu_us_per_item_gc_off": round(without_gc / size * 1e6, 3),
                "peak_kib": round(peak / 1024, 1),
                "peak_bytes_per_item": round(peak / size, 1),
            }
        entry: dict[str, Any] = {"by_size": by_size}
        if len(sizes) > 1:
            small, large = by_size[str(min(sizes))], by_size[str(max(sizes))]
            entry[f"growth_{max(sizes)}_over_{min(sizes)}"] = {
                "cpu_time": _ratio(large["cpu_s"], small["cpu_s"]),
                "cpu_time_gc_off": _ratio(large["cpu_s_gc_off"], small["cpu_s_gc_off"]),
                "peak_memory": _ratio(large["peak_kib"], small["peak_kib"]),
                "items": _ratio(max(sizes), min(sizes)),
            }
        results[name] = entry
    return results


def versus_bare(results: dict[str, Any], sizes: Sequence[int]) -> dict[str, Any]:
    """The node's figures over the matching bare kind's, per size."""
    pairs = {"node_unbounded": "gather", f"node_bounded_{BOUND}": f"workers_{BOUND}"}
    found: dict[str, Any] = {}
    for node, bare in pairs.items():
        for size in map(str, sizes):
            ours, theirs = results[node]["by_size"][size], results[bare]["by_size"][size]
            found[f"{node}/{bare}@{size}"] = {
                "cpu": _ratio(ours["cpu_us_per_item"], theirs["cpu_us_per_item"]),
                "cpu_gc_off": _ratio(
                    ours["cpu_us_per_item_gc_off"], theirs["cpu_us_per_item_gc_off"]
                ),
                "peak_memory": _ratio(ours["peak_kib"], theirs["peak_kib"]),
            }
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description="AsyncParallelBatchNode at scale.")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated item counts")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best is kept")
    parser.add_argument("--work", choices=("noop", "yield"), default="noop")
    parser.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",") if size})
    kinds = make_kinds(args.work)
    if args.kinds:
        wanted = [name for name in args.kinds.split(",") if name]
        unknown = sorted(set(wanted) - set(kinds))
        if unknown:
            parser.error(f"unknown kinds {unknown}; choose from {sorted(kinds)}")
        kinds = {name: kinds[name] for name in wanted}
    results = measure(kinds, sizes, args.repeat)
    report: dict[str, Any] = {
        "benchmark": "parallel_batch",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "work": args.work,
        "runs": args.repeat,
        "results": results,
    }
    if all(name in kinds for name in ("node_unbounded", "gather")) and all(
        name in kinds for name in (f"node_bounded_{BOUND}", f"workers_{BOUND}")
    ):
        report["vs_bare"] = versus_bare(results, sizes)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
