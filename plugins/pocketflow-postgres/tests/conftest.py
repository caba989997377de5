"""Fixtures: one throwaway PostgreSQL database for the session, a schema per test.

See :mod:`pocketflow_postgres.testing` for where the server comes from (and when the
tests skip).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from pocketflow_postgres.testing import OwnServer, own_server, throwaway_database

_schemas = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database for this session (dropped at its end)."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnServer]:
    """A server of this module's own, which its tests may crash (never the shared one)."""
    with own_server() as server:
        yield server


@pytest.fixture
def schema() -> str:
    """A schema name no other test of this session uses."""
    return f"test_{os.getpid()}_{next(_schemas)}"
