"""Durable runs on PostgreSQL through the public API: the store URL, settings, crash and resume."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    Flow,
    Node,
    call_llm,
    call_llm_async,
    gather_user_feedback,
)
from pocketflow.errors import ConfigError, FlowSuspended
from pocketflow.runs import answer, close_stores, open_store
from pocketflow.runtime import reset_runtime
from pocketflow_postgres.store import PostgresRunStore

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


class Crash(Exception):
    """Stands for the process dying at that point."""


@pytest.fixture
def runs_env(pocketflow_env: pytest.MonkeyPatch, schema: str) -> Iterator[pytest.MonkeyPatch]:
    """The offline LLM, and ``[runs] schema`` set to this test's own schema."""
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    Path("pocketflow.toml").write_text(f'[runs]\nschema = "{schema}"\nlease_seconds = 5\n')
    yield pocketflow_env
    asyncio.run(close_stores())


class Count(AsyncNode):
    """Asks the LLM about step n and appends the answer; crashes once at each of ``crashes``."""

    def __init__(self, execs: list[int], crashes: list[int], until: int = 5) -> None:
        super().__init__()
        self.execs, self.crashes, self.until = execs, crashes, until

    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    async def exec_async(self, n: int) -> str:
        self.execs.append(n)
        answer = await call_llm_async(f"step {n}")
        if n in self.crashes:  # shared by the node's per-step copies
            self.crashes.remove(n)
            raise Crash(f"exec {n}")
        return answer

    async def post_async(self, shared: dict[str, Any], n: int, answer: str) -> str | None:
        shared["n"] = n + 1
        shared["answers"] = [*shared.get("answers", []), answer]
        return "again" if n + 1 < self.until else None


def count_flow(execs: list[int], crashes: list[int]) -> AsyncFlow:
    node = Count(execs, crashes)
    node - "again" >> node
    return AsyncFlow(start=node)


def test_a_flow_that_crashed_resumes_from_its_last_step(
    runs_env: pytest.MonkeyPatch, postgres_url: str, schema: str
) -> None:
    """run_async with store="postgresql://..." commits each step; a second call resumes."""
    execs: list[int] = []
    flow = count_flow(execs, crashes=[3])

    async def main() -> dict[str, Any]:
        shared: dict[str, Any] = {"n": 0}
        with pytest.raises(Crash):
            await flow.run_async(shared, run_id="doc-42", store=postgres_url)
        assert execs == [0, 1, 2, 3]
        store = open_store(postgres_url)
        info = await store.get("doc-42")
        assert info is not None and (info.status, info.steps) == ("failed", 3)
        assert "Crash: exec 3" in (info.error or "")
        resumed: dict[str, Any] = {"n": 0}
        await flow.run_async(resumed, run_id="doc-42", store=postgres_url)
        info = await store.get("doc-42")
        assert info is not None and (info.status, info.steps) == ("done", 5)
        assert [step.key for step in await store.steps("doc-42")] == ["0", "1", "2", "3", "4"]
        return resumed

    resumed = asyncio.run(main())
    assert execs == [0, 1, 2, 3, 3, 4]
    uninterrupted: dict[str, Any] = {"n": 0}
    asyncio.run(count_flow([], []).run_async(uninterrupted))
    assert resumed == uninterrupted
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {schema}.runs").fetchone()
    assert rows == (1,)


class SyncStep(Node):
    def exec(self, prep_res: Any) -> str:
        return call_llm("sync step")

    def post(self, shared: dict[str, Any], prep_res: Any, answer: str) -> None:
        shared["answers"] = [*shared.get("answers", []), answer]


def test_sync_runs_use_the_store_from_loop_after_loop(
    runs_env: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """flow.run runs each call on a new event loop: the store follows it, run after run."""
    for number in range(3):
        shared: dict[str, Any] = {}
        Flow(start=SyncStep()).run(shared, run_id=f"sync-{number}", store=postgres_url)
        assert shared == {"answers": ["[offline echo] sync step"]}

    async def statuses() -> list[str]:
        store = open_store(postgres_url)
        return [info.status for info in await store.list_runs()]

    assert asyncio.run(statuses()) == ["done", "done", "done"]


class Slow(AsyncNode):
    """Outlasts its lease, then reads how long the lease still has to run."""

    def __init__(self, url: str, lease_left: list[float]) -> None:
        super().__init__()
        self.url, self.lease_left = url, lease_left

    async def exec_async(self, prep_res: Any) -> str:
        await asyncio.sleep(0.4)
        info = await open_store(self.url).get("slow")
        assert info is not None
        self.lease_left.append(info.lease_until - time.time())
        return "slow"


def test_the_lease_is_renewed_from_the_heartbeat_thread(
    runs_env: pytest.MonkeyPatch, postgres_url: str, schema: str
) -> None:
    """A step longer than the lease: the heartbeat renews it over its own connections."""
    Path("pocketflow.toml").write_text(f'[runs]\nschema = "{schema}"\nlease_seconds = 0.15\n')
    reset_runtime()
    started, lease_left = time.time(), list[float]()
    flow = AsyncFlow(start=Slow(postgres_url, lease_left))
    asyncio.run(flow.run_async({}, run_id="slow", store=postgres_url))
    assert lease_left[0] > 0, "the lease of 0.15 s ran out: the heartbeat did not renew it"

    async def lease_and_status() -> tuple[str, float]:
        info = await open_store(postgres_url).get("slow")
        assert info is not None
        return info.status, info.updated

    status, updated = asyncio.run(lease_and_status())
    assert status == "done" and updated > started + 0.4


def test_plugin_settings_are_checked(runs_env: pytest.MonkeyPatch, postgres_url: str) -> None:
    """[runs] accepts the plugin's keys, refuses a misspelt one, and checks the values."""
    flow = Flow(start=SyncStep())
    Path("pocketflow.toml").write_text('[runs]\nshema = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'shema'.*schema.*statement_timeout"):
        flow.run({}, run_id="r", store=postgres_url)
    Path("pocketflow.toml").write_text('[runs]\nschema = "drop table"\n')
    reset_runtime()
    with pytest.raises(ConfigError, match="not a plain PostgreSQL name"):
        flow.run({}, run_id="r", store=postgres_url)
    Path("pocketflow.toml").write_text('[runs]\nstatement_timeout = "soon"\n')
    reset_runtime()
    with pytest.raises(ConfigError, match=r"statement_timeout' must be a int or float"):
        flow.run({}, run_id="r", store=postgres_url)
    Path("pocketflow.toml").write_text('[runs]\nsynchronous_commit = "sometimes"\n')
    reset_runtime()
    with pytest.raises(ConfigError, match="synchronous_commit must be one of on, off"):
        flow.run({}, run_id="r", store=postgres_url)


def test_timeouts_and_commit_mode_reach_the_server(
    runs_env: pytest.MonkeyPatch, postgres_url: str, schema: str
) -> None:
    """statement_timeout and synchronous_commit are set on the store's connections."""
    Path("pocketflow.toml").write_text(
        f'[runs]\nschema = "{schema}"\nstatement_timeout = 2.5\nsynchronous_commit = "off"\n'
    )
    reset_runtime()

    async def server_settings() -> tuple[Any, ...]:
        store = open_store(postgres_url)
        assert isinstance(store, PostgresRunStore)
        async with store.connections.connection() as conn:
            cursor = await conn.execute(
                "SELECT current_setting('statement_timeout'), "
                "current_setting('synchronous_commit'), current_setting('application_name')"
            )
            row = await cursor.fetchone()
        assert row is not None
        return tuple(row)

    assert asyncio.run(server_settings()) == ("2500ms", "off", "pocketflow")


def test_the_schema_setting_places_the_tables(
    runs_env: pytest.MonkeyPatch, postgres_url: str, schema: str
) -> None:
    """Tables are created on first use in [runs] schema, with a version row."""
    Flow(start=SyncStep()).run({}, run_id="placed", store=postgres_url)
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        ).fetchall()
        version = conn.execute(
            f"SELECT value FROM {schema}.pocketflow_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert [name for (name,) in tables] == [
        "pocketflow_meta", "run_journal", "run_questions", "run_scopes", "run_steps", "runs",
    ]  # fmt: skip
    assert version == ("1",)


class Ask(AsyncNode):
    async def exec_async(self, prep_res: Any) -> str:
        return await gather_user_feedback("Ship it?")


def test_an_answer_wakes_a_waiting_worker_at_once_not_on_its_next_poll(
    runs_env: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """A worker waits with LISTEN; the answer's NOTIFY ends its wait long before the poll."""
    runs_env.setenv("POCKETFLOW_FEEDBACK", "inbox")

    async def scenario() -> float:
        store = open_store(postgres_url)
        assert isinstance(store, PostgresRunStore)
        with pytest.raises(FlowSuspended):
            await AsyncFlow(start=Ask()).run_async({}, run_id="wake", store=postgres_url)
        await store.wait_for_work(0.01)  # listening from here on

        async def answer_soon() -> None:
            await asyncio.sleep(0.2)
            await answer("wake", "approve", store=postgres_url)

        answering = asyncio.create_task(answer_soon())
        started = time.monotonic()
        await store.wait_for_work(30)  # the poll a worker would otherwise wait out
        waited = time.monotonic() - started
        await answering
        return waited

    assert asyncio.run(scenario()) < 10


def test_pocketflow_runs_migrate_creates_the_schema_then_says_it_is_up_to_date(
    runs_env: pytest.MonkeyPatch, postgres_url: str, schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pocketflow.cli import main

    assert main(["runs", "migrate", "--store", postgres_url, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["migrated"] and first["before"] == 0 and first["after"] >= 1
    assert main(["runs", "migrate", "--store", postgres_url]) == 0
    assert f"schema up to date (version {first['after']})" in capsys.readouterr().out
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found is not None
