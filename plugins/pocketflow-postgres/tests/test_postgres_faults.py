"""Faults: a connection dropped mid-commit, a statement timeout, a server out of reach.

A connection is dropped for real: a trigger on the step table makes the server end
the committing connection's own backend, halfway through the commit's transaction.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from pocketflow.runs.store_contract import LEASE, NOW, new_commit, new_info
from pocketflow_postgres import PostgresStoreError
from pocketflow_postgres.options import PostgresOptions
from pocketflow_postgres.store import PostgresRunStore

Check = Callable[[PostgresRunStore], Awaitable[None]]


def _with_store(options: PostgresOptions, check: Check) -> None:
    async def main() -> None:
        store = PostgresRunStore(options)
        try:
            await store.start(new_info("r1"), "owner", NOW + LEASE, NOW)
            await store.record("r1", "owner", "0|exec", "exec", b'"answer"')
            await check(store)
        finally:
            await store.aclose()

    asyncio.run(main())


def _drop_connections_on_commit(url: str, schema: str, times: int) -> None:
    """Make the next ``times`` step inserts end their own connection."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {schema}.faults")
        conn.execute(
            f"""CREATE OR REPLACE FUNCTION {schema}.drop_connection() RETURNS trigger AS $$
            BEGIN
                IF nextval('{schema}.faults') <= {times} THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql"""
        )
        conn.execute(
            f"CREATE OR REPLACE TRIGGER drop_connection BEFORE INSERT ON {schema}.run_steps "
            f"FOR EACH ROW EXECUTE FUNCTION {schema}.drop_connection()"
        )


def _query(url: str, sql: str) -> list[Any]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_a_connection_dropped_mid_commit_is_retried_once(postgres_url: str, schema: str) -> None:
    """The dropped attempt is rolled back; the retry commits the step exactly once."""
    options = PostgresOptions(postgres_url, schema=schema)

    async def check(store: PostgresRunStore) -> None:
        _drop_connections_on_commit(postgres_url, schema, times=1)
        await store.commit("r1", "owner", new_commit("0", 1, tokens=(10, 20)))
        info = await store.get("r1")
        assert info is not None
        assert (info.steps, info.input_tokens, info.output_tokens) == (1, 10, 20)
        assert [step.key for step in await store.steps("r1")] == ["0"]

    _with_store(options, check)
    assert _query(postgres_url, f"SELECT last_value FROM {schema}.faults") == [(2,)]
    assert _query(postgres_url, f"SELECT count(*) FROM {schema}.run_journal") == [(0,)]


def test_a_commit_whose_connection_keeps_dropping_stores_nothing(
    postgres_url: str, schema: str
) -> None:
    """Two drops: the commit fails with a clear error, and no part of it is stored."""
    options = PostgresOptions(postgres_url, schema=schema)

    async def check(store: PostgresRunStore) -> None:
        _drop_connections_on_commit(postgres_url, schema, times=2)
        with pytest.raises(PostgresStoreError, match="connection to PostgreSQL was lost"):
            await store.commit("r1", "owner", new_commit("0", 1, state=b'{"n": 9}'))
        info = await store.get("r1")
        assert info is not None
        assert (info.steps, info.state, info.lease_owner) == (0, b'{"n": 0}', "owner")
        assert await store.steps("r1") == []
        assert _query(postgres_url, f"SELECT key FROM {schema}.run_journal") == [("0|exec",)]
        assert _query(postgres_url, f"SELECT count(*) FROM {schema}.run_scopes") == [(0,)]
        await store.commit("r1", "owner", new_commit("0", 1, state=b'{"n": 9}'))
        info = await store.get("r1")
        assert info is not None and (info.steps, info.state) == (1, b'{"n": 9}')

    _with_store(options, check)


def test_a_statement_past_the_timeout_fails_cleanly(postgres_url: str, schema: str) -> None:
    """A commit blocked past [runs] statement_timeout is cancelled and names the setting."""
    options = PostgresOptions(postgres_url, schema=schema, statement_timeout=0.2)

    async def check(store: PostgresRunStore) -> None:
        with psycopg.connect(postgres_url) as blocker:
            blocker.execute(f"SELECT 1 FROM {schema}.runs WHERE run_id = 'r1' FOR UPDATE")
            with pytest.raises(PostgresStoreError, match=r"statement_timeout \(0\.2 s\)"):
                await store.commit("r1", "owner", new_commit("0", 1))
        info = await store.get("r1")
        assert info is not None and info.steps == 0

    _with_store(options, check)


def test_a_server_out_of_reach_fails_with_a_clear_error(pocketflow_env: Any) -> None:
    """Nothing listens: the error names the URL (without its password) and the setting."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://app:s3cret@127.0.0.1:{port}/flows"
    store = PostgresRunStore(PostgresOptions(url, connect_timeout=2))
    with pytest.raises(PostgresStoreError, match="cannot connect to PostgreSQL") as raised:
        asyncio.run(store.get("r1"))
    message = str(raised.value)
    assert "s3cret" not in message and f"app:***@127.0.0.1:{port}/flows" in message
    assert "connect_timeout" in message


def test_a_missing_database_is_named_to_every_caller(postgres_url: str) -> None:
    """Callers waiting on the first connection get the server's reason, none hangs."""
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    store = PostgresRunStore(PostgresOptions(url, connect_timeout=2))

    async def both() -> list[Any]:
        calls = asyncio.gather(store.get("a"), store.list_runs(), return_exceptions=True)
        return list(await asyncio.wait_for(calls, 10))

    errors = asyncio.run(both())
    assert [type(error) for error in errors] == [PostgresStoreError, PostgresStoreError]
    assert all('"no_such_database" does not exist' in str(error) for error in errors)


def test_every_pooled_connection_ended_at_once_loses_nothing(
    postgres_url: str, schema: str
) -> None:
    """The server ends all the store's connections (as a restart does): the next writes land."""
    url = f"{postgres_url}?application_name=pocketflow_restarted"
    options = PostgresOptions(url, schema=schema)

    async def check(store: PostgresRunStore) -> None:
        await asyncio.gather(*(store.get("r1") for _ in range(6)))  # the pool grows
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'pocketflow_restarted'"
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        for seq in range(1, 4):
            await store.commit("r1", "owner", new_commit(str(seq - 1), seq))
        info = await store.get("r1")
        assert info is not None and info.steps == 3

    _with_store(options, check)


def test_a_commit_that_landed_before_its_connection_dropped_counts_once(
    postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server committed, the reply was lost: the retry sees the step there, adds nothing."""
    options = PostgresOptions(postgres_url, schema=schema)
    execute = psycopg.AsyncConnection.execute
    lost: list[str] = []

    async def reply_lost(conn: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        cursor = await execute(conn, query, *args, **kwargs)
        if "INSERT INTO" in str(query) and "run_steps" in str(query) and not lost:
            lost.append("commit")
            conn.pgconn.finish()  # the connection ends before the caller hears back
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return cursor

    async def check(store: PostgresRunStore) -> None:
        monkeypatch.setattr(psycopg.AsyncConnection, "execute", reply_lost)
        await store.commit("r1", "owner", new_commit("0", 1, tokens=(10, 20)))
        monkeypatch.undo()
        info = await store.get("r1")
        assert info is not None
        assert (info.steps, info.input_tokens, info.output_tokens) == (1, 10, 20)
        assert len(await store.steps("r1")) == 1

    _with_store(options, check)
    assert lost == ["commit"]
