"""Durable runs (issue 13): microseconds per step, and database size, beside LangGraph.

The flow: one ``AsyncNode`` looping on itself (prep reads ``shared["count"]``, exec adds
one, post stores it and returns "again" until the count reaches ``--steps``), run

- ``nondurable``: ``await flow.run_async(shared)``;
- ``memory``: ``await flow.run_async(shared, run_id=..., store="memory://...")``;
- ``sqlite``: the same on ``store="sqlite:////<temp dir>/runs.db"`` (a file on local
  disk; WAL, ``synchronous=NORMAL``, the store's defaults);
- ``langgraph_*`` (when LangGraph is installed): the equivalent graph, one node
  returning ``{"count": count + 1}`` and a conditional edge back to it until the count
  reaches ``--langgraph-steps``, with ``durability="sync"`` (each step's checkpoint is
  written before the next step starts, as ours is) and its SQLite checkpointer on a
  file in the same temp dir, set to WAL and ``synchronous=NORMAL`` like ours:
  ``SqliteSaver`` with ``graph.invoke`` (stdlib ``sqlite3``, no thread hop: the fairest
  match for our store, which runs ``sqlite3`` inline) and ``AsyncSqliteSaver`` with
  ``graph.ainvoke`` (aiosqlite: a thread hop per statement). ``langgraph_us`` is the
  faster of the two and ``langgraph_saver`` names it; ``langgraph_no_checkpointer_us``
  is the same graph without a checkpointer (LangGraph's engine alone), and
  ``langgraph_defaults_us`` is ``SqliteSaver`` as its docs open it (``sqlite3.connect``:
  SQLite's default ``synchronous=FULL``, an fsync per commit) with LangGraph's default
  ``durability="async"`` (a step's checkpoint is written while the next step runs).

Each ``*_us`` is the best of ``--rounds`` runs (the kinds interleaved in every round,
after one warm-up run each) of wall time divided by steps, and ``*_cpu_us`` the same
for this process's CPU time (``time.process_time``, all threads): on a machine shared
with other jobs a run's wall time includes waiting for a CPU, so CPU is the steadier
measure of a step's cost. Each run is a new run id (thread id) in the same store.
Ratios are within this run: ``sqlite_vs_nondurable`` and ``langgraph_vs_sqlite``
(LangGraph's µs per step over ours: the goal is >= 50).

``size``: the database after 100 and 1,000 steps (``--size-steps``) of a state growing
by 1 KB a step (``shared["items"]`` gains a 1,024-character string each step; LangGraph's
node returns the list with it appended), each in a fresh file. Measured as the main
file's bytes plus the ``-wal`` file's after ``PRAGMA wal_checkpoint(TRUNCATE)`` from a
separate connection (the ``-shm`` index is not counted: it holds no data).
``growth`` is size(1000) / size(100); the state itself grows 10x, so ~10 is linear
in the state and ~100 is steps x state.

``--fsync`` adds ``sqlite_fsync_us`` and ``langgraph_fsync_us`` (``--fsync-steps`` steps):
ours with ``[runs] synchronous = "FULL"`` and ``SqliteSaver`` on a plain
``sqlite3.connect`` (SQLite's default ``synchronous=FULL``) with ``durability="sync"``:
an fsync per commit on both sides, so these mostly time the disk's fsync.

Without LangGraph (``uv sync --all-packages --group bench`` installs it) or with
``--no-langgraph``, its figures are null and ``langgraph_reason`` says why.

    uv run --group bench python bench/durable.py
    uv run python bench/durable.py --steps 200 --rounds 2 --no-langgraph   # quick

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple, TypedDict

from pocketflow import AsyncFlow, AsyncNode
from pocketflow.config import ENV_CONFIG
from pocketflow.runs import close_stores
from pocketflow.runtime import current_runtime

GOAL_SQLITE_US = 100.0
GOAL_LANGGRAPH_RATIO = 50.0
CHUNK_CHARS = 1024
LANGGRAPH_KINDS = (
    "langgraph_sqlite_saver",
    "langgraph_async_sqlite_saver",
    "langgraph_no_checkpointer",
    "langgraph_defaults",
)


class Timing(NamedTuple):
    """One timed run: wall seconds, and this process's CPU seconds (all its threads)."""

    wall: float
    cpu: float


class Stopwatch:
    """Times a block (after a gc.collect()): ``watch.timing`` once it has run."""

    timing = Timing(0.0, 0.0)

    def __enter__(self) -> Stopwatch:
        gc.collect()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def chunk(index: int) -> str:
    """The 1 KB string step ``index`` appends to the growing state."""
    return f"{index:08d}".ljust(CHUNK_CHARS, "x")


# --- Our flow -----------------------------------------------------------------------------


class Count(AsyncNode):
    """Adds one to ``shared["count"]``; loops until it reaches ``params["steps"]``."""

    async def prep_async(self, shared: dict[str, Any]) -> int:
        count: int = shared["count"]
        return count

    async def exec_async(self, prep_res: int) -> int:
        return prep_res + 1

    async def post_async(self, shared: dict[str, Any], prep_res: int, exec_res: int) -> str:
        shared["count"] = exec_res
        if "items" in shared:
            shared["items"].append(chunk(exec_res))
        return "again" if exec_res < self.params["steps"] else "done"


def counting_flow(steps: int) -> AsyncFlow:
    """The loop of ``steps`` steps over one node."""
    node = Count()
    node - "again" >> node
    flow = AsyncFlow(start=node)
    flow.set_params({"steps": steps})
    return flow


def time_ours(steps: int, run_id: str, store: str | None) -> Timing:
    """Seconds for one run of the flow, durable on ``store`` unless it is None."""
    flow = counting_flow(steps)

    async def timed() -> Timing:
        shared: dict[str, Any] = {"count": 0}
        with Stopwatch() as watch:
            if store is None:
                await flow.run_async(shared)
            else:
                await flow.run_async(shared, run_id=run_id, store=store)
        if shared["count"] != steps:
            raise AssertionError(f"the flow ran {shared['count']} steps, not {steps}")
        return watch.timing

    return asyncio.run(timed())


def grow_ours(steps: int, url: str) -> int:
    """Run the growing-state flow durably for ``steps`` steps; the state's JSON size."""
    shared: dict[str, Any] = {"count": 0, "items": []}
    asyncio.run(counting_flow(steps).run_async(shared, run_id="grow", store=url))
    if len(shared["items"]) != steps:
        raise AssertionError(f"the state holds {len(shared['items'])} items, not {steps}")
    return len(json.dumps(shared, separators=(",", ":")))


# --- LangGraph --------------------------------------------------------------------------


class CountState(TypedDict):
    """LangGraph's state for the timing graph: the same as our ``shared``."""

    count: int


class GrowState(TypedDict):
    """LangGraph's state for the size graph: the count and the growing list."""

    count: int
    items: list[str]


def load_langgraph() -> tuple[SimpleNamespace | None, str | None]:
    """LangGraph's pieces, or None and the reason it cannot be used.

    Imported by name so that this file runs, and type-checks, the same without it.
    """
    try:
        graph = importlib.import_module("langgraph.graph")
        sqlite_saver = importlib.import_module("langgraph.checkpoint.sqlite")
        async_saver = importlib.import_module("langgraph.checkpoint.sqlite.aio")
        aiosqlite = importlib.import_module("aiosqlite")
    except ImportError as error:
        return None, (
            f"LangGraph is not installed ({error}): `uv sync --all-packages --group bench` "
            f"installs it with its SQLite checkpointer."
        )
    return SimpleNamespace(
        StateGraph=graph.StateGraph,
        START=graph.START,
        END=graph.END,
        SqliteSaver=sqlite_saver.SqliteSaver,
        AsyncSqliteSaver=async_saver.AsyncSqliteSaver,
        aiosqlite=aiosqlite,
        version=importlib.metadata.version("langgraph"),
        checkpoint_sqlite_version=importlib.metadata.version("langgraph-checkpoint-sqlite"),
    ), None


def langgraph_graph(lg: SimpleNamespace, steps: int, *, is_async: bool, grow: bool) -> Any:
    """The equivalent graph: one node looping through a conditional edge."""
    if grow:

        def grow_step(state: GrowState) -> dict[str, Any]:
            count = state["count"] + 1
            return {"count": count, "items": [*state["items"], chunk(count)]}

        builder = lg.StateGraph(GrowState)
        builder.add_node("step", grow_step)
    elif is_async:

        async def async_step(state: CountState) -> dict[str, Any]:
            return {"count": state["count"] + 1}

        builder = lg.StateGraph(CountState)
        builder.add_node("step", async_step)
    else:

        def sync_step(state: CountState) -> dict[str, Any]:
            return {"count": state["count"] + 1}

        builder = lg.StateGraph(CountState)
        builder.add_node("step", sync_step)

    def route(state: dict[str, Any]) -> str:
        return "step" if state["count"] < steps else str(lg.END)

    builder.add_edge(lg.START, "step")
    builder.add_conditional_edges("step", route, ["step", lg.END])
    return builder


def langgraph_config(steps: int, thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": steps + 10}


def sync_connection(path: Path) -> sqlite3.Connection:
    """A connection for SqliteSaver, set up as our store sets up its own."""
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def make_langgraph_timers(
    lg: SimpleNamespace, steps: int, directory: Path
) -> dict[str, Callable[[str], Timing]]:
    """Timed runs of the equivalent graph: no checkpointer, SqliteSaver, AsyncSqliteSaver."""
    plain = langgraph_graph(lg, steps, is_async=False, grow=False).compile()
    connection = sync_connection(directory / "langgraph-sync.db")
    saver = lg.SqliteSaver(connection)
    with_saver = langgraph_graph(lg, steps, is_async=False, grow=False).compile(checkpointer=saver)
    # As its docs open it: sqlite3.connect (WAL from its setup, SQLite's default
    # synchronous=FULL: an fsync per commit) and the default durability ("async").
    default_connection = sqlite3.connect(
        directory / "langgraph-defaults.db", check_same_thread=False
    )
    with_defaults = langgraph_graph(lg, steps, is_async=False, grow=False).compile(
        checkpointer=lg.SqliteSaver(default_connection)
    )
    async_builder = langgraph_graph(lg, steps, is_async=True, grow=False)
    async_path = directory / "langgraph-async.db"

    def checked(result: Any) -> None:
        if result["count"] != steps:
            raise AssertionError(f"LangGraph ran {result['count']} steps, not {steps}")

    def no_checkpointer(thread_id: str) -> Timing:
        with Stopwatch() as watch:
            result = plain.invoke({"count": 0}, {"recursion_limit": steps + 10})
        checked(result)
        return watch.timing

    def sqlite_saver(thread_id: str) -> Timing:
        with Stopwatch() as watch:
            result = with_saver.invoke(
                {"count": 0}, langgraph_config(steps, thread_id), durability="sync"
            )
        checked(result)
        return watch.timing

    def defaults(thread_id: str) -> Timing:
        with Stopwatch() as watch:
            result = with_defaults.invoke({"count": 0}, langgraph_config(steps, thread_id))
        checked(result)
        return watch.timing

    def async_sqlite_saver(thread_id: str) -> Timing:
        async def timed() -> Timing:
            # aiosqlite's connection belongs to the event loop that opened it.
            async with lg.aiosqlite.connect(async_path) as connection:
                await connection.execute("PRAGMA journal_mode=WAL")
                await connection.execute("PRAGMA synchronous=NORMAL")
                graph = async_builder.compile(checkpointer=lg.AsyncSqliteSaver(connection))
                with Stopwatch() as watch:
                    result = await graph.ainvoke(
                        {"count": 0}, langgraph_config(steps, thread_id), durability="sync"
                    )
            checked(result)
            return watch.timing

        return asyncio.run(timed())

    timers: dict[str, Callable[[str], Timing]] = {
        "langgraph_no_checkpointer": no_checkpointer,
        "langgraph_sqlite_saver": sqlite_saver,
        "langgraph_async_sqlite_saver": async_sqlite_saver,
        "langgraph_defaults": defaults,
    }
    assert set(timers) == set(LANGGRAPH_KINDS)
    return timers


def make_fsync_timers(
    lg: SimpleNamespace | None, steps: int, directory: Path
) -> dict[str, Callable[[str], Timing]]:
    """Ours and LangGraph's SqliteSaver with an fsync per commit (synchronous=FULL)."""
    config = directory / "fsync" / "pocketflow.toml"
    config.parent.mkdir()
    config.write_text('[runs]\nsynchronous = "FULL"\n')
    url = f"sqlite:///{config.parent / 'runs.db'}"

    def ours(run_id: str) -> Timing:
        os.environ[ENV_CONFIG] = str(config)
        try:
            current_runtime()  # read the config before the clock starts
            return time_ours(steps, run_id, url)
        finally:
            del os.environ[ENV_CONFIG]
            current_runtime()

    timers: dict[str, Callable[[str], Timing]] = {"sqlite_fsync": ours}
    if lg is not None:
        connection = sqlite3.connect(config.parent / "langgraph.db", check_same_thread=False)
        graph = langgraph_graph(lg, steps, is_async=False, grow=False).compile(
            checkpointer=lg.SqliteSaver(connection)
        )

        def theirs(thread_id: str) -> Timing:
            with Stopwatch() as watch:
                result = graph.invoke(
                    {"count": 0}, langgraph_config(steps, thread_id), durability="sync"
                )
            if result["count"] != steps:
                raise AssertionError(f"LangGraph ran {result['count']} steps, not {steps}")
            return watch.timing

        timers["langgraph_fsync"] = theirs
    return timers


def grow_langgraph(lg: SimpleNamespace, steps: int, path: Path) -> None:
    """Run the growing-state graph with SqliteSaver for ``steps`` steps."""
    connection = sync_connection(path)
    try:
        graph = langgraph_graph(lg, steps, is_async=False, grow=True).compile(
            checkpointer=lg.SqliteSaver(connection)
        )
        result = graph.invoke(
            {"count": 0, "items": []}, langgraph_config(steps, "grow"), durability="sync"
        )
    finally:
        connection.close()
    if len(result["items"]) != steps:
        raise AssertionError(f"LangGraph's state holds {len(result['items'])} items")


# --- Measuring --------------------------------------------------------------------------


def database_bytes(path: Path) -> int:
    """The main file plus its WAL, after a TRUNCATE checkpoint from a separate connection."""
    connection = sqlite3.connect(path)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise RuntimeError(f"{path}: the WAL checkpoint was blocked by another connection")
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def best_per_step_us(
    timers: dict[str, Callable[[str], Timing]], steps: dict[str, int], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each timer's best of ``rounds`` runs (interleaved): wall and CPU µs per step."""
    wall = dict.fromkeys(timers, float("inf"))
    cpu = dict.fromkeys(timers, float("inf"))
    for round_number in range(rounds):
        for name, timer in timers.items():
            timing = timer(f"{name}-{round_number}")
            wall[name] = min(wall[name], timing.wall / steps[name])
            cpu[name] = min(cpu[name], timing.cpu / steps[name])
    return (
        {name: round(seconds * 1e6, 2) for name, seconds in wall.items()},
        {name: round(seconds * 1e6, 2) for name, seconds in cpu.items()},
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def measure_sizes(
    lg: SimpleNamespace | None, sizes: Sequence[int], directory: Path
) -> dict[str, Any]:
    """Database bytes after each number of steps of the growing state, ours and LangGraph's."""
    ours: dict[str, int] = {}
    state: dict[str, int] = {}
    theirs: dict[str, int] = {}
    for steps in sizes:
        path = directory / f"grow-{steps}" / "runs.db"
        state[str(steps)] = grow_ours(steps, f"sqlite:///{path}")
        ours[str(steps)] = database_bytes(path)
        if lg is not None:
            theirs_path = directory / f"langgraph-grow-{steps}.db"
            grow_langgraph(lg, steps, theirs_path)
            theirs[str(steps)] = database_bytes(theirs_path)
    small, large = str(min(sizes)), str(max(sizes))
    growth_key = f"growth_{large}_over_{small}"
    return {
        "state_kb_per_step": CHUNK_CHARS / 1024,
        "method": "main file + -wal bytes after PRAGMA wal_checkpoint(TRUNCATE)",
        "state_bytes": state,
        "sqlite_bytes": ours,
        "langgraph_bytes": theirs or None,
        f"state_{growth_key}": ratio(state[large], state[small]),
        f"sqlite_{growth_key}": ratio(ours[large], ours[small]),
        f"langgraph_{growth_key}": ratio(theirs[large], theirs[small]) if theirs else None,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description="Durable runs: µs per step and database size.")
    parser.add_argument("--steps", type=int, default=2000, help="steps per run of our flow")
    parser.add_argument("--langgraph-steps", type=int, default=300, help="steps per LangGraph run")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs; the best is kept")
    parser.add_argument(
        "--size-steps", default="100,1000", help="comma-separated step counts for the size"
    )
    parser.add_argument("--no-langgraph", action="store_true", help="skip LangGraph")
    parser.add_argument(
        "--fsync",
        action="store_true",
        help="also time ours and SqliteSaver with synchronous=FULL (an fsync per commit)",
    )
    parser.add_argument("--fsync-steps", type=int, default=100, help="steps per --fsync run")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.size_steps.split(",") if size})
    if args.steps < 1 or args.langgraph_steps < 1 or args.rounds < 1 or not sizes:
        parser.error("--steps, --langgraph-steps and --rounds must be >= 1; --size-steps non-empty")
    # The loop ends on an unconnected action ("done"), on purpose (no extra step).
    warnings.filterwarnings("ignore", message="Flow ends")

    lg, reason = (None, "--no-langgraph") if args.no_langgraph else load_langgraph()
    with tempfile.TemporaryDirectory(prefix="pocketflow-durable-bench-") as temp:
        directory = Path(temp)
        sqlite_url = f"sqlite:///{directory / 'runs.db'}"
        memory_url = f"memory://durable-bench-{os.getpid()}"

        def ours(store: str | None) -> Callable[[str], Timing]:
            return lambda run_id: time_ours(args.steps, run_id, store)

        timers = {"nondurable": ours(None), "memory": ours(memory_url), "sqlite": ours(sqlite_url)}
        steps = dict.fromkeys(timers, args.steps)
        if lg is not None:
            langgraph = make_langgraph_timers(lg, args.langgraph_steps, directory)
            timers.update(langgraph)
            steps.update(dict.fromkeys(langgraph, args.langgraph_steps))
        if args.fsync:
            if ENV_CONFIG in os.environ:
                parser.error(f"--fsync sets {ENV_CONFIG} itself: unset it first")
            fsync = make_fsync_timers(lg, args.fsync_steps, directory)
            timers.update(fsync)
            steps.update(dict.fromkeys(fsync, args.fsync_steps))
        for name, timer in timers.items():  # warm up: imports, caches, the stores' files
            timer(f"{name}-warm-up")
        wall, cpu = best_per_step_us(timers, steps, args.rounds)
        size = measure_sizes(lg, sizes, directory)
        asyncio.run(close_stores())

    savers = {
        "SqliteSaver (invoke)": "langgraph_sqlite_saver",
        "AsyncSqliteSaver (ainvoke)": "langgraph_async_sqlite_saver",
    }
    saver = None if lg is None else min(savers, key=lambda label: wall[savers[label]])
    langgraph_us = None if saver is None else wall[savers[saver]]
    langgraph_cpu_us = None if saver is None else cpu[savers[saver]]
    report: dict[str, Any] = {
        "bench": "durable",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "steps": args.steps,
        "rounds": args.rounds,
    }
    for name in ("nondurable", "memory", "sqlite"):
        report[f"{name}_us"] = wall[name]
        report[f"{name}_cpu_us"] = cpu[name]
    report |= {
        "memory_vs_nondurable": ratio(wall["memory"], wall["nondurable"]),
        "sqlite_vs_nondurable": ratio(wall["sqlite"], wall["nondurable"]),
        "sqlite_goal_us": GOAL_SQLITE_US,
        "sqlite_meets_goal": wall["sqlite"] < GOAL_SQLITE_US,
        "langgraph": lg is not None,
        "langgraph_reason": reason,
        "langgraph_version": None if lg is None else lg.version,
        "langgraph_checkpoint_sqlite_version": None if lg is None else lg.checkpoint_sqlite_version,
        "langgraph_steps": None if lg is None else args.langgraph_steps,
        "langgraph_saver": saver,
        "langgraph_us": langgraph_us,
        "langgraph_cpu_us": langgraph_cpu_us,
    }
    for name in LANGGRAPH_KINDS:
        report[f"{name}_us"] = wall.get(name)
        report[f"{name}_cpu_us"] = cpu.get(name)
    for name in ("sqlite_fsync", "langgraph_fsync"):
        report[f"{name}_us"] = wall.get(name)
        report[f"{name}_cpu_us"] = cpu.get(name)
    report |= {
        "fsync_steps": args.fsync_steps if args.fsync else None,
        "langgraph_fsync_vs_sqlite_fsync": ratio(
            wall.get("langgraph_fsync"), wall.get("sqlite_fsync")
        ),
        "langgraph_vs_sqlite": ratio(langgraph_us, wall["sqlite"]),
        "langgraph_vs_sqlite_cpu": ratio(langgraph_cpu_us, cpu["sqlite"]),
        "langgraph_defaults_vs_sqlite": ratio(wall.get("langgraph_defaults"), wall["sqlite"]),
        "langgraph_goal_ratio": GOAL_LANGGRAPH_RATIO,
        "langgraph_meets_goal": None
        if langgraph_us is None
        else langgraph_us / wall["sqlite"] >= GOAL_LANGGRAPH_RATIO,
        "size": size,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
