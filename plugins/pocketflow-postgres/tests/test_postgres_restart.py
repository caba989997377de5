"""The database crashes and restarts under a running flow: no committed step is lost.

This needs a server the test may crash, so it starts its own from the installed
PostgreSQL binaries (and skips without them); the shared server is never touched.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pocketflow import AsyncFlow, AsyncNode
from pocketflow.runs import close_stores, open_store
from pocketflow.runtime import reset_runtime

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")
STEPS, CRASH_AT = 120, 40


class Step(AsyncNode):
    """Counts; before committing step CRASH_AT it crashes and restarts the database."""

    def __init__(self, server: Any, seen: list[int]) -> None:
        super().__init__()
        self.server, self.seen = server, seen

    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    async def post_async(self, shared: dict[str, Any], n: int, exec_res: Any) -> str | None:
        shared["n"] = n + 1
        if n == CRASH_AT and not self.seen:
            self.server.crash_and_restart()
            self.seen.append(_committed_steps(self.server.url))
        return "again" if n + 1 < STEPS else None


def _committed_steps(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT steps FROM restart.runs WHERE run_id = 'long'").fetchone()
    return -1 if row is None else int(row[0])


def test_a_database_crash_mid_run_loses_no_committed_step(
    own_postgres: Any, pocketflow_env: pytest.MonkeyPatch
) -> None:
    """Every step committed before the crash is there after it, and the run goes on."""
    Path("pocketflow.toml").write_text('[runs]\nschema = "restart"\nconnect_timeout = 2\n')
    reset_runtime()
    seen: list[int] = []
    node = Step(own_postgres, seen)
    node - "again" >> node
    shared: dict[str, Any] = {"n": 0}

    async def main() -> Any:
        try:
            await AsyncFlow(start=node).run_async(shared, run_id="long", store=own_postgres.url)
            return await open_store(own_postgres.url).get("long")
        finally:
            await close_stores()

    info = asyncio.run(main())
    assert seen == [CRASH_AT], "steps committed before the crash were lost"
    assert shared == {"n": STEPS}
    assert info is not None and (info.status, info.steps) == ("done", STEPS)
