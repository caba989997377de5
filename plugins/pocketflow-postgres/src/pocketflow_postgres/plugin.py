"""Plugin entry point: registers the ``postgres`` run store for postgresql:// URLs.

Importing this module imports no psycopg: the factory loads the store on first use.
"""

from __future__ import annotations

from pocketflow.hookspecs import RegisterRunStore, hookimpl
from pocketflow.runs.store import RunStore, StoreLocation
from pocketflow_postgres.options import SETTING_TYPES


def open_postgres_store(location: StoreLocation) -> RunStore:
    """Make the store for ``location`` (imports psycopg only now; connects on first use)."""
    from pocketflow_postgres.options import PostgresOptions
    from pocketflow_postgres.store import PostgresRunStore

    return PostgresRunStore(PostgresOptions.from_location(location))


@hookimpl
def register_run_stores(register: RegisterRunStore) -> None:
    """Register ``postgres`` for postgresql:// and postgres:// URLs."""
    register(
        "postgres",
        ("postgresql", "postgres"),
        open_postgres_store,
        settings=SETTING_TYPES,
        description="runs in PostgreSQL, shared by workers on many machines "
        "(schema, connect_timeout, statement_timeout, pool_size)",
    )
