"""The schema: created on first use with a version row, upgraded in one transaction,
refused when newer than the package."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from pocketflow.runs.store_contract import LEASE, NOW, new_commit, new_info
from pocketflow_postgres import PostgresStoreError, SchemaTooNewError
from pocketflow_postgres import schema as schema_module
from pocketflow_postgres.options import PostgresOptions
from pocketflow_postgres.store import PostgresRunStore


def _version(url: str, schema: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"SELECT value FROM {schema}.pocketflow_meta WHERE key = 'schema_version'"
        ).fetchone()
    return None if row is None else str(row[0])


def _columns(url: str, schema: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'runs'",
            (schema,),
        ).fetchall()
    return [name for (name,) in rows]


async def _migrate(url: str, schema: str) -> tuple[int, int]:
    store = PostgresRunStore(PostgresOptions(url, schema=schema))
    try:
        return await store.migrate()
    finally:
        await store.aclose()


def test_processes_starting_at_once_create_the_schema_once(postgres_url: str, schema: str) -> None:
    """Four stores migrating a new schema together: one creates it, the others find it."""

    async def together() -> list[tuple[int, int]]:
        return await asyncio.gather(*(_migrate(postgres_url, schema) for _ in range(4)))

    results = asyncio.run(together())
    assert sorted(results) == [(0, 1), (1, 1), (1, 1), (1, 1)]
    assert _version(postgres_url, schema) == "1"


def test_a_newer_package_upgrades_the_schema(
    postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration added by a newer version runs once, with the version row, in one go."""
    asyncio.run(_migrate(postgres_url, schema))
    upgrade = "ALTER TABLE {s}.runs ADD COLUMN priority integer NOT NULL DEFAULT 0"
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, upgrade])
    assert asyncio.run(_migrate(postgres_url, schema)) == (1, 2)
    assert _version(postgres_url, schema) == "2"
    assert "priority" in _columns(postgres_url, schema)
    assert asyncio.run(_migrate(postgres_url, schema)) == (2, 2)


def test_a_failed_migration_changes_nothing(
    postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that fails halfway is rolled back whole: version and tables as they were."""
    asyncio.run(_migrate(postgres_url, schema))
    broken = "ALTER TABLE {s}.runs ADD COLUMN half integer; SELECT 1 / 0"
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, broken])
    with pytest.raises(
        PostgresStoreError, match=r"version 2 failed .*division by zero.* stays at version 1"
    ):
        asyncio.run(_migrate(postgres_url, schema))
    assert _version(postgres_url, schema) == "1"
    assert "half" not in _columns(postgres_url, schema)


def test_an_older_package_refuses_a_newer_schema(postgres_url: str, schema: str) -> None:
    """A schema migrated by a newer package: a clear error, and the schema is left alone."""
    asyncio.run(_migrate(postgres_url, schema))
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"UPDATE {schema}.pocketflow_meta SET value = '99'")

    async def use() -> None:
        store = PostgresRunStore(PostgresOptions(postgres_url, schema=schema))
        try:
            await store.get("any")
        finally:
            await store.aclose()

    with pytest.raises(SchemaTooNewError, match=r"version 99, newer than .* \(1\)\. Upgrade"):
        asyncio.run(use())
    assert _version(postgres_url, schema) == "99"


def test_a_role_without_ddl_rights_uses_a_migrated_schema(postgres_url: str, schema: str) -> None:
    """Migrations run by hand, the app's role may only read and write rows: that is enough."""
    asyncio.run(_migrate(postgres_url, schema))
    role = f"pocketflow_app_{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        admin.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
        )
    app_url = postgres_url.replace("://postgres@", f"://{role}@", 1)

    async def run_as_app() -> tuple[int, int]:
        store = PostgresRunStore(PostgresOptions(app_url, schema=schema))
        try:
            await store.start(new_info("r1"), "owner", NOW + LEASE, NOW)
            await store.commit("r1", "owner", new_commit("0", 1))
            info = await store.get("r1")
            assert info is not None and info.steps == 1
            return await store.migrate()
        finally:
            await store.aclose()

    try:
        assert asyncio.run(run_as_app()) == (1, 1)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
