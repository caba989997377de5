"""The store's tables, their version row, and the migrations between versions.

Each migration runs in one transaction together with the version row's update, under
an advisory lock, so processes starting at once migrate once and a failed migration
leaves the schema as it was. A package older than the schema refuses to touch it.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pocketflow_postgres.errors import PostgresStoreError, SchemaTooNewError

# Keys and scopes compare bytewise (COLLATE "C"): a step's journal is deleted by the
# range [prefix, prefix + U+10FFFF), which a linguistic collation would not keep.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE {s}.runs (
        run_id text COLLATE "C" PRIMARY KEY, status text NOT NULL, flow text NOT NULL,
        shape text NOT NULL, serializer text NOT NULL, created double precision NOT NULL,
        updated double precision NOT NULL, steps integer NOT NULL DEFAULT 0,
        input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0,
        target text, error text, state bytea, outcome bytea, lease_owner text,
        lease_until double precision NOT NULL DEFAULT 0);
    CREATE INDEX runs_queued ON {s}.runs (updated) WHERE status = 'queued';
    CREATE TABLE {s}.run_scopes (
        run_id text COLLATE "C" NOT NULL, scope text COLLATE "C" NOT NULL,
        step integer NOT NULL, next_node text, action text, done boolean NOT NULL,
        PRIMARY KEY (run_id, scope));
    CREATE TABLE {s}.run_journal (
        run_id text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, kind text NOT NULL,
        value bytea NOT NULL, PRIMARY KEY (run_id, key));
    CREATE TABLE {s}.run_questions (
        run_id text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL,
        content text NOT NULL, asked double precision NOT NULL, audience text,
        expires double precision, default_decision text, status text NOT NULL,
        decision text, comment text, answered double precision, node text NOT NULL,
        PRIMARY KEY (run_id, key));
    CREATE INDEX run_questions_by_asked ON {s}.run_questions (asked);
    CREATE TABLE {s}.run_steps (
        run_id text COLLATE "C" NOT NULL, seq integer NOT NULL, key text NOT NULL,
        node text NOT NULL, action text, started double precision NOT NULL,
        duration double precision NOT NULL, input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL, error text, state bytea, PRIMARY KEY (run_id, seq));
    """,
]
"""Migration N (from 1) brings the schema from version N-1 to N; ``{s}`` is the schema."""


def schema_version() -> int:
    """The schema version this package writes and reads."""
    return len(MIGRATIONS)


async def migrate(conn: Any, schema: str, url: str) -> tuple[int, int]:
    """Bring ``schema`` up to this package's version; return (version before, after).

    ``conn`` is an autocommit psycopg AsyncConnection. Raises SchemaTooNewError when
    the schema is newer than this package.
    """
    target = schema_version()
    found = await _current_version(conn, schema)
    if found == target:  # the usual case: no lock, no DDL (and no need for the right to it)
        return found, found
    async with conn.transaction():
        # One migrator at a time per schema; others wait here, then find it done.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"pocketflow:{schema}",))
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.pocketflow_meta "
            "(key text PRIMARY KEY, value text NOT NULL)"
        )
        cursor = await conn.execute(
            f"SELECT value FROM {schema}.pocketflow_meta WHERE key = 'schema_version'"
        )
        row = await cursor.fetchone()
        found = 0 if row is None else int(row[0])
        if found > target:
            raise SchemaTooNewError(
                f"Run store {url}: schema {schema!r} has version {found}, newer than this "
                f"pocketflow-postgres understands ({target}). Upgrade pocketflow-postgres on "
                f"this machine (a newer version migrated the database); nothing was changed."
            )
        for version in range(found + 1, target + 1):
            try:
                await conn.execute(MIGRATIONS[version - 1].format(s=schema))
            except psycopg.DatabaseError as error:
                failed = PostgresStoreError(
                    f"Run store {url}: migrating schema {schema!r} to version {version} "
                    f"failed ({error}); it was rolled back and stays at version {found}."
                )
                raise failed from error
        if found != target:
            await conn.execute(
                f"INSERT INTO {schema}.pocketflow_meta VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(target),),
            )
    return found, target


async def _current_version(conn: Any, schema: str) -> int | None:
    try:
        cursor = await conn.execute(
            f"SELECT value FROM {schema}.pocketflow_meta WHERE key = 'schema_version'"
        )
    except psycopg.errors.UndefinedTable:
        return None
    row = await cursor.fetchone()
    return None if row is None else int(row[0])
