"""The errors of the PostgreSQL run store."""

from __future__ import annotations

from pocketflow.errors import ConfigError, StoreUnavailableError


class PostgresStoreError(StoreUnavailableError):
    """The database could not be reached, or a write could not be completed.

    A worker's run it interrupts goes back in the queue (see StoreUnavailableError).
    """


class SchemaTooNewError(ConfigError):
    """The database's schema was made by a newer pocketflow-postgres than this one."""
