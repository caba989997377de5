"""Plugin entry point: registers the ``postgres`` run store for postgresql:// URLs.

Importing this module imports no psycopg, nor the durable-run layer: the factory loads
the store on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketflow.hookspecs import RegisterRunStore, hookimpl
from pocketflow_postgres.settings import SETTING_TYPES

if TYPE_CHECKING:
    from pocketflow.runs.store import RunStore, StoreLocation


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
