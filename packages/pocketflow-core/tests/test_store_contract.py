"""The built-in run stores pass the store contract kit that store plugins run too."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from pocketflow.runs.memory_store import MemoryRunStore
from pocketflow.runs.sqlite_store import SqliteRunStore
from pocketflow.runs.store import RunStore
from pocketflow.testing import RunStoreContract

_names = itertools.count()


class TestMemoryStore(RunStoreContract):
    async def open_store(self) -> RunStore:
        return MemoryRunStore(f"contract-{next(_names)}")


class TestSqliteStore(RunStoreContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    async def open_store(self) -> RunStore:
        return SqliteRunStore(self.folder / "runs.db")

    async def open_again(self, store: RunStore) -> RunStore:
        assert isinstance(store, SqliteRunStore)
        return SqliteRunStore(store.path)


class StoreWithoutRunLookup(MemoryRunStore):
    """A store plugin written before ``questions_of_run``: it inherits the default."""

    questions_of_run = RunStore.questions_of_run


class TestTheDefaultRunLookup(RunStoreContract):
    async def open_store(self) -> RunStore:
        return StoreWithoutRunLookup(f"contract-{next(_names)}")
