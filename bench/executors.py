"""Batch items on Ray and Dask against local execution, in the same run.

Figures (one JSON line):

- ``seam_us_per_batch``: what ``executor=None`` (the config default, "local" when
  unset) costs per batch over ``executor="local"`` (today's code path), measured on
  ``--seam-batches`` one-item batches; the goal is a couple of µs at most.
- ``trivial``: ``--trivial`` items (10,000) whose ``exec`` returns its item, as one
  ``BatchNode`` batch: ``<kind>_us_per_item`` (wall time over items) for ``local``
  (this process, one after another), ``ray`` and ``dask`` (local clusters of
  ``--cpus`` CPUs), ``<kind>_over_local``, and ``<kind>_bare_us_per_item``: the library
  alone mapping a no-op function over the same items on the same cluster (``ray.get``
  of one task per item; Dask ``client.gather(client.map(...))``), so ``<kind>_over_bare``
  is what PocketFlow's shipping, worker and ordering add to the library's own cost.
- ``cpu``: ``--cpu-items`` items (1,000) of ``--cpu-ms`` (10) ms of CPU each (a spin on
  the thread's CPU clock): ``<kind>_s`` wall seconds and ``<kind>_speedup`` over local
  sync execution; with 2 idle cores the ideal is 2.
- ``start_s``: seconds until each cluster answered (started here, from nothing).
- ``load_average``: the machine's 1-minute load before and after (other work on the
  machine shows here: timings are only comparable within one run).

    uv run python bench/executors.py
    uv run python bench/executors.py --trivial 2000 --cpu-items 200 --executors local,dask

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from typing import Any

from pocketflow import BatchNode
from pocketflow.executors import close_executors, get_executor
from pocketflow.runtime import reset_runtime

SETTINGS = {
    "ray": "local_cpus = {cpus}\nobject_store_mb = 200",
    "dask": "workers = {cpus}\nthreads_per_worker = 1",
}


class Trivial(BatchNode):
    """``exec`` returns its item."""

    def exec(self, prep_res: int) -> int:
        return prep_res


class SpinCPU(BatchNode):
    """``exec`` spins ``self.seconds`` of this thread's CPU time."""

    def __init__(self, seconds: float, executor: str) -> None:
        super().__init__(executor=executor)
        self.seconds = seconds

    def exec(self, prep_res: int) -> int:
        end = time.thread_time() + self.seconds
        while time.thread_time() < end:
            pass
        return prep_res


def seam_cost(batches: int) -> dict[str, float]:
    """µs per one-item batch with executor=None and with executor="local"."""
    best: dict[str, float] = {}
    for _ in range(5):
        for name, node in (("default", Trivial()), ("local", Trivial(executor="local"))):
            items = [1]
            run = node._exec
            started = time.perf_counter()
            for _ in range(batches):
                run(items)
            elapsed = (time.perf_counter() - started) / batches * 1e6
            best[name] = min(best.get(name, elapsed), elapsed)
    return {
        "default_us_per_batch": round(best["default"], 3),
        "local_us_per_batch": round(best["local"], 3),
        "seam_us_per_batch": round(best["default"] - best["local"], 3),
    }


def timed(node: BatchNode, items: list[int]) -> float:
    started = time.perf_counter()
    results = node._exec(items)
    elapsed = time.perf_counter() - started
    assert results == items, "wrong results"
    return elapsed


def identity(item: int) -> int:
    """The bare libraries' task: returns its item."""
    return item


def bare_us_per_item(kind: str, items: list[int]) -> float:
    """µs per item for the library alone (no PocketFlow): map ``identity``, get results."""
    started = time.perf_counter()
    if kind == "ray":
        import ray

        task = ray.remote(identity)
        results = ray.get([task.remote(item) for item in items])
    else:
        client = get_executor("dask").client  # type: ignore[attr-defined]
        results = client.gather(client.map(identity, items, pure=False))
    elapsed = time.perf_counter() - started
    assert results == items, "wrong results"
    return elapsed / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trivial", type=int, default=10_000)
    parser.add_argument("--cpu-items", type=int, default=1_000)
    parser.add_argument("--cpu-ms", type=float, default=10.0)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seam-batches", type=int, default=20_000)
    parser.add_argument("--executors", default="local,ray,dask")
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.executors.split(",") if kind.strip()]
    config = "".join(
        f"[executors.{kind}]\n{SETTINGS[kind].format(cpus=args.cpus)}\n"
        for kind in kinds
        if kind in SETTINGS
    )
    folder = tempfile.mkdtemp(prefix="pocketflow-bench-executors-")
    path = os.path.join(folder, "pocketflow.toml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(config)
    os.environ["POCKETFLOW_CONFIG"] = path  # the clusters' settings; nothing else changes
    reset_runtime()
    load_before = os.getloadavg()[0]
    report: dict[str, Any] = {"bench": "executors", "python": platform.python_version()}
    report["cpus"] = args.cpus
    report.update(seam_cost(args.seam_batches))
    trivial_items = list(range(args.trivial))
    cpu_items = list(range(args.cpu_items))
    trivial: dict[str, float] = {}
    cpu: dict[str, float] = {}
    start: dict[str, float] = {}
    bare: dict[str, float] = {}
    for kind in kinds:
        if kind != "local":
            started = time.perf_counter()
            timed(Trivial(executor=kind), [0])  # starts the cluster and its workers
            start[kind] = round(time.perf_counter() - started, 2)
        trivial[kind] = timed(Trivial(executor=kind), trivial_items) / args.trivial * 1e6
        if kind != "local":
            bare[kind] = bare_us_per_item(kind, trivial_items)
        cpu[kind] = timed(SpinCPU(args.cpu_ms / 1000, kind), cpu_items)
    report["trivial"] = {"items": args.trivial}
    report["cpu"] = {"items": args.cpu_items, "ms_per_item": args.cpu_ms}
    for kind in kinds:
        report["trivial"][f"{kind}_us_per_item"] = round(trivial[kind], 2)
        report["cpu"][f"{kind}_s"] = round(cpu[kind], 3)
        if kind != "local" and "local" in kinds:
            report["trivial"][f"{kind}_over_local"] = round(trivial[kind] / trivial["local"], 1)
        if kind in bare:
            report["trivial"][f"{kind}_bare_us_per_item"] = round(bare[kind], 2)
            report["trivial"][f"{kind}_over_bare"] = round(trivial[kind] / bare[kind], 2)
            report["cpu"][f"{kind}_speedup"] = round(cpu["local"] / cpu[kind], 2)
    report["start_s"] = start
    report["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    asyncio.run(close_executors())
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
