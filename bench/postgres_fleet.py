"""Durable steps per second with 1, 2, 4 and 8 worker processes on one store.

Queues RUNS runs of the 5-step fleet flow (an LLM call per step, against the local
vendor server with a short latency), starts N ``pocketflow runs worker`` processes,
and waits until every run is done; steps/s is 5 x RUNS over the working time (the
first step's start to the last run's end, as the store recorded them: the workers'
start-up left out), and ``seconds`` the wall time from the first worker's start.
Runs on PostgreSQL (``$POCKETFLOW_BENCH_POSTGRES`` or the local server, a throwaway
database) and, for comparison, on SQLite, in the same run.
Then, in the same run, µs per durable step of one process on each store (the looping
flow of bench/run_stores.py, no vendor call). Also reports the machine's load and the
vendor server's CPU, to say where the limit is. Prints one JSON line.

    uv run python bench/postgres_fleet.py [--runs 200] [--workers 1,2,4,8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from run_fleet import STEPS, Fleet, wait_until
from run_stores import per_step_us
from vendor_server import fetch_stats, reset_stats, start_server_process

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def steps_per_second(base_url: str, store: str, runs: int, workers: int) -> dict[str, Any]:
    """Drain ``runs`` queued runs with ``workers`` processes; the throughput."""
    with tempfile.TemporaryDirectory() as folder:
        fleet = Fleet.prepare(Path(folder), store, base_url, concurrency=16)
        asyncio.run(fleet.enqueue(runs, prefix=f"bench-{uuid.uuid4().hex[:6]}"))
        reset_stats(base_url)
        started = time.perf_counter()
        try:
            for _ in range(workers):
                fleet.start_worker()
            counts = asyncio.run(wait_until(store, Path(folder), runs, timeout=600))
            seconds = time.perf_counter() - started
        finally:
            fleet.stop()
        server_cpu = fetch_stats(base_url)["process_cpu_s"]
        working = asyncio.run(working_seconds(store, Path(folder)))
    done = counts.get("done", 0)
    return {
        "workers": workers,
        "done": done,
        "seconds": round(seconds, 2),
        "working_seconds": round(working, 2),
        "steps_per_s": round(done * STEPS / working, 1),
        "vendor_server_cpu_share": round(server_cpu / seconds, 2),
    }


async def working_seconds(store_url: str, folder: Path) -> float:
    """From the first step's start to the last run's end, as the store recorded them.

    Leaves out the workers' start-up (importing Python and the plugins: about a second
    each, longer when eight start at once on two cores), which a long-lived fleet pays once.
    """
    from pocketflow.config import load_config
    from pocketflow.runs import close_stores, open_store

    store = open_store(store_url, load_config(folder))
    try:
        runs = await store.list_runs("done", limit=1_000_000)
        first = min([step.started for info in runs for step in await store.steps(info.run_id)])
        return max(info.updated for info in runs) - first
    finally:
        await close_stores()


async def step_costs(postgres: str | None, sqlite: str) -> dict[str, Any]:
    """µs per durable step of one process's looping flow, on each store (no vendor call)."""
    from pocketflow.runs import close_stores

    runs = [0]
    try:
        costs: dict[str, Any] = {"sqlite_us": await per_step_us(sqlite, runs)}
        costs["postgres_us"] = None if postgres is None else await per_step_us(postgres, runs)
    finally:
        await close_stores()
    if costs["postgres_us"] is not None:
        costs["postgres_vs_sqlite"] = round(costs["postgres_us"] / costs["sqlite_us"], 1)
    return costs


def measure_steps(admin: str | None) -> dict[str, Any]:
    """:func:`step_costs` on a fresh SQLite file and, given ``admin``, a fresh database."""
    with tempfile.TemporaryDirectory() as folder:
        if admin is None:
            return asyncio.run(step_costs(None, f"sqlite:///{folder}/steps.db"))
        url, database = throwaway_postgres(admin)
        try:
            return asyncio.run(step_costs(url, f"sqlite:///{folder}/steps.db"))
        finally:
            drop_postgres(admin, database)


def throwaway_postgres(admin: str) -> tuple[str, str]:
    database = f"pocketflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    return admin.rsplit("/", 1)[0] + f"/{database}", database


def drop_postgres(admin: str, database: str) -> None:
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs queued per measurement")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts to measure")
    parser.add_argument("--latency", type=float, default=0.02, help="vendor latency, seconds")
    arguments = parser.parse_args()
    counts = [int(part) for part in arguments.workers.split(",")]
    admin = os.environ.get("POCKETFLOW_BENCH_POSTGRES", DEFAULT_POSTGRES)
    figures: dict[str, Any] = {"bench": "postgres_fleet", "runs": arguments.runs, "steps": STEPS}
    figures["cpus"] = os.cpu_count()
    with start_server_process(latency=arguments.latency) as (_, base_url):
        figures["postgres"] = []
        for n in counts:  # a fresh database per measurement
            try:
                url, database = throwaway_postgres(admin)
            except psycopg.OperationalError as error:
                figures["postgres"] = None
                figures["postgres_reason"] = str(error).strip()
                break
            try:
                figures["postgres"].append(steps_per_second(base_url, url, arguments.runs, n))
            finally:
                drop_postgres(admin, database)
        figures["sqlite"] = []
        for n in counts:
            with tempfile.TemporaryDirectory() as folder:
                sqlite = f"sqlite:///{folder}/runs.db"
                figures["sqlite"].append(steps_per_second(base_url, sqlite, arguments.runs, n))
    figures["step"] = measure_steps(admin if figures["postgres"] is not None else None)
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
