"""The errors of the PostgreSQL run store."""

from __future__ import annotations

from pocketflow.errors import ConfigError, DurableRunError


class PostgresStoreError(DurableRunError):
    """The database could not be reached, or a write could not be completed."""


class SchemaTooNewError(ConfigError):
    """The database's schema was made by a newer pocketflow-postgres than this one."""
