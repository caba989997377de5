"""The PostgreSQL store passes the run store contract kit, each test in a fresh schema."""

from __future__ import annotations

import itertools

import pytest

from pocketflow.runs.store import RunStore
from pocketflow.testing import RunStoreContract
from pocketflow_postgres.options import PostgresOptions
from pocketflow_postgres.store import PostgresRunStore

_schemas = itertools.count()


class TestPostgresStore(RunStoreContract):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_url: str) -> None:
        self.options = PostgresOptions(postgres_url, schema=f"contract_{next(_schemas)}")

    async def open_store(self) -> RunStore:
        return PostgresRunStore(self.options)

    async def open_again(self, store: RunStore) -> RunStore:
        return PostgresRunStore(self.options)
