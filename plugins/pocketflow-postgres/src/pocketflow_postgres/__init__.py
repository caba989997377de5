"""pocketflow-postgres: durable runs in PostgreSQL, shared by many workers and machines.

Installing the package registers the ``postgres`` run store for ``postgresql://`` and
``postgres://`` URLs (entry point ``postgres`` in the ``pocketflow`` group)::

    [runs]
    store = "postgresql://app@db.internal/flows"
    schema = "pocketflow"        # where its tables live (created on first use)
    connect_timeout = 10         # seconds
    statement_timeout = 30       # seconds
    pool_size = 10               # connections per process
    synchronous_commit = "off"   # optional: skip the fsync wait (the server's setting if unset)

See the README for what the store guarantees.
"""

from pocketflow_postgres.errors import PostgresStoreError, SchemaTooNewError

__all__ = ["PostgresStoreError", "SchemaTooNewError"]
