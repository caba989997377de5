"""Connections for one store: a pool on the event loop that uses it, one-off elsewhere.

The runner calls a store from more than one event loop: the app's loop, ``asyncio.run``
of each sync ``flow.run``, and the lease heartbeat's thread. An async pool belongs to
the loop it was opened on, so the store keeps one pool on its *home* loop (the first
that calls it), serves a call from another live loop with a short-lived connection
(the heartbeat's renewals, a durable sync flow inside an async one), and moves the pool
to the calling loop once the home loop has closed (the next sync ``flow.run``).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from pocketflow_postgres.errors import PostgresStoreError
from pocketflow_postgres.options import PostgresOptions


class Connections:
    """Hands out autocommit connections to the store's database, from any loop."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self.conninfo = _conninfo(options)
        self._lock = threading.Lock()
        self._pool: AsyncConnectionPool[Any] | None = None
        self._home: asyncio.AbstractEventLoop | None = None
        self._opened: asyncio.Future[None] | None = None
        self._reached = False
        self._made: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one operation (returned to the pool, or closed, after it)."""
        pool = await self._pool_for(asyncio.get_running_loop())
        if pool is None:
            conn = await self._connect()
            try:
                yield conn
            finally:
                await conn.close()
            return
        try:
            async with pool.connection(timeout=self.options.connect_timeout) as conn:
                yield conn
        except PoolTimeout as error:
            raise PostgresStoreError(
                f"Run store {self.options.shown_url}: no connection came free or could be "
                f"made within {self.options.connect_timeout:g} s (all {self.options.pool_size} "
                f"of [runs] pool_size busy, or the server out of reach): {error}"
            ) from error

    async def drop_broken(self) -> None:
        """After a lost connection: drop every idle pooled one the server ended too."""
        with self._lock:
            pool, home = self._pool, self._home
        if pool is not None and home is asyncio.get_running_loop():
            await pool.check()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        try:
            return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        except psycopg.OperationalError as error:
            raise self._unreachable(error) from error

    def _unreachable(self, error: Exception) -> PostgresStoreError:
        return PostgresStoreError(
            f"Run store {self.options.shown_url}: cannot connect to PostgreSQL within "
            f"{self.options.connect_timeout:g} s ({str(error).strip() or type(error).__name__}). "
            f"Check that the server runs and the URL's host, port, user and database; "
            f"[runs] connect_timeout sets how long to wait."
        )

    async def _pool_for(self, loop: asyncio.AbstractEventLoop) -> AsyncConnectionPool[Any] | None:
        with self._lock:
            if self._home is not loop:
                if self._home is not None and not self._home.is_closed():
                    return None  # the home loop lives on: serve this call on its own
                self._drop_stale_pool()
                self._home = loop
                self._pool = AsyncConnectionPool(
                    self.conninfo,
                    kwargs={"autocommit": True},
                    min_size=1,
                    max_size=self.options.pool_size,
                    open=False,
                    configure=self._configure,
                    timeout=self.options.connect_timeout,
                    name="pocketflow-runs",
                )
                self._opened = None
            pool = self._pool
            assert pool is not None
            opening = self._opened
            if opening is None:
                opening = self._opened = loop.create_future()
                first = True
            else:
                first = False
        if first:
            try:
                if not self._reached:  # a wrong URL fails now, with the server's reason
                    await (await self._connect()).close()
                    self._reached = True
                await pool.open(wait=True, timeout=self.options.connect_timeout)
            except BaseException as error:
                with self._lock:
                    if self._pool is pool:
                        self._home, self._pool, self._opened = None, None, None
                await pool.close()
                failure = self._unreachable(error) if isinstance(error, PoolTimeout) else error
                if not isinstance(failure, Exception):  # cancelled: tell the waiters plainly
                    failure = PostgresStoreError(
                        f"Run store {self.options.shown_url}: opening connections was "
                        f"interrupted; try again."
                    )
                opening.set_exception(failure)
                opening.exception()  # retrieved: later callers make their own attempt
                if failure is error or not isinstance(error, PoolTimeout):
                    raise
                raise failure from error
            opening.set_result(None)
        else:
            await asyncio.shield(opening)
        return pool

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._made.add(conn)

    def _drop_stale_pool(self) -> None:
        """Forget the pool of a closed loop, closing its sockets (its tasks died with it)."""
        for conn in list(self._made):
            if not conn.closed:
                conn.pgconn.finish()
        self._made = weakref.WeakSet()
        self._pool = None

    async def aclose(self) -> None:
        """Close the pool (from its home loop), or its sockets (from anywhere else)."""
        with self._lock:
            pool, home = self._pool, self._home
            self._pool, self._home, self._opened = None, None, None
        if pool is None:
            return
        try:
            same_loop = asyncio.get_running_loop() is home
        except RuntimeError:
            same_loop = False
        if same_loop:
            await pool.close()
        else:
            for conn in list(self._made):
                if not conn.closed:
                    conn.pgconn.finish()


def _conninfo(options: PostgresOptions) -> str:
    """The URL with this store's timeouts and application name (the URL's own win)."""
    try:
        given = conninfo_to_dict(options.url)
    except psycopg.ProgrammingError as error:
        raise PostgresStoreError(
            f"Run store URL {options.shown_url} is not a PostgreSQL URL: {error}. "
            f"Write e.g. postgresql://user@host:5432/database."
        ) from error
    server_options = f"-c statement_timeout={int(options.statement_timeout * 1000)}"
    if options.synchronous_commit:
        server_options += f" -c synchronous_commit={options.synchronous_commit}"
    extra: dict[str, Any] = {
        "connect_timeout": given.get("connect_timeout") or max(1, round(options.connect_timeout)),
        "application_name": given.get("application_name") or "pocketflow",
        "options": f"{given.get('options') or ''} {server_options}".strip(),
    }
    return make_conninfo(options.url, **extra)
