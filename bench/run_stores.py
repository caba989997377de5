"""What a durable step costs on each run store: memory, SQLite and PostgreSQL, same run.

Prints one JSON line: microseconds per step of a looping one-node async flow, not
durable and durable on ``memory://``, ``sqlite://`` (a file in a temp folder) and
``postgresql://`` (a throwaway schema, dropped after; once as configured, each write
waiting for its fsync, and once with ``synchronous_commit = "off"``), each the best of a
few repeats; then steps per second with 32 runs going on together in one process,
on SQLite and on PostgreSQL (each write waiting for its fsync);
``*_vs_sqlite`` is that store's step cost over SQLite's. PostgreSQL is
``$POCKETFLOW_BENCH_POSTGRES`` (a URL), by default the local server; without one its
figures are null.

    uv run python bench/run_stores.py
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from pocketflow import AsyncFlow, AsyncNode

warnings.filterwarnings("ignore", "Flow ends")

STEPS = 1_000
REPEATS = 3
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


class Step(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    async def post_async(self, shared: dict[str, Any], n: int, exec_res: Any) -> str | None:
        shared["n"] = n + 1
        return "again" if n + 1 < STEPS else None


def make_flow() -> AsyncFlow:
    node = Step()
    node - "again" >> node
    return AsyncFlow(start=node)


async def per_step_us(store: str | None, runs: list[int]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        runs[0] += 1
        options: dict[str, Any] = {} if store is None else {"run_id": f"bench-{runs[0]}"}
        if store is not None:
            options["store"] = store
        started = time.perf_counter()
        await make_flow().run_async({"n": 0}, **options)
        best = min(best, time.perf_counter() - started)
    return round(best / STEPS * 1e6, 1)


async def concurrent_steps_per_s(store: str, runs: list[int], at_once: int = 32) -> float:
    """Durable steps per second of ``at_once`` runs going on together in one process.

    Shows what a store does with writes that overlap (PostgreSQL commits them in groups,
    one fsync for several; SQLite has one writer at a time).
    """
    base = runs[0]
    runs[0] += at_once
    started = time.perf_counter()
    await asyncio.gather(
        *(
            make_flow().run_async({"n": 0}, run_id=f"together-{base + i}", store=store)
            for i in range(at_once)
        )
    )
    return round(at_once * STEPS / (time.perf_counter() - started))


async def measure(folder: Path, postgres: str | None) -> dict[str, Any]:
    from pocketflow.runs import close_stores

    runs = [0]
    report: dict[str, Any] = {"steps": STEPS}
    report["plain_us"] = await per_step_us(None, runs)
    report["memory_us"] = await per_step_us("memory://bench", runs)
    report["sqlite_us"] = await per_step_us(f"sqlite:///{folder}/runs.db", runs)
    report["postgres_us"] = None if postgres is None else await per_step_us(postgres, runs)
    if postgres is not None:  # the same store without waiting for each write's fsync
        os.chdir(folder / "async_commit")
        report["postgres_async_commit_us"] = await per_step_us(postgres, runs)
    report["sqlite_32_at_once_steps_per_s"] = await concurrent_steps_per_s(
        f"sqlite:///{folder}/runs.db", runs
    )
    os.chdir(folder)
    report["postgres_32_at_once_steps_per_s"] = (
        None if postgres is None else await concurrent_steps_per_s(postgres, runs)
    )
    for name in ("memory", "postgres", "postgres_async_commit"):
        value = report[f"{name}_us"]
        report[f"{name}_vs_sqlite"] = (
            None if value is None else round(value / report["sqlite_us"], 1)
        )
    await close_stores()
    return report


def reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def main() -> None:
    postgres: str | None = os.environ.get("POCKETFLOW_BENCH_POSTGRES", DEFAULT_POSTGRES)
    schema = f"bench_{os.getpid()}"
    if postgres and not reachable(postgres):
        postgres = None
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "pocketflow.toml").write_text(f'[runs]\nschema = "{schema}"\n')
        Path(folder, "async_commit").mkdir()
        Path(folder, "async_commit", "pocketflow.toml").write_text(
            f'[runs]\nschema = "{schema}"\nsynchronous_commit = "off"\n'
        )
        os.chdir(folder)
        try:
            report = asyncio.run(measure(Path(folder), postgres))
        finally:
            if postgres:
                import psycopg

                with psycopg.connect(postgres, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
