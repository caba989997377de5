"""Several vendor clients behind one provider, each with its own small connection pool.

An HTTP connection pool (httpcore's, under httpx and the vendor SDKs) does work in
proportion to its size on every request it starts and every response it closes: it
scans all its connections and queued requests to hand out the next one. With a pool
sized to 1,000 calls in flight, that bookkeeping grew to most of a call's CPU
(BENCHMARKS.md, "Many calls in flight"). A :class:`ClientSet` keeps the pools small
instead: it makes a client (with a pool of at most ``pool_size`` connections) only when
the ones it has are full, and hands each call the first client with a free connection,
else the least loaded. To the user it is still one client per provider per event loop:
the provider holds one set per loop (see :class:`~pocketflow.providers.PerLoop`), and
:meth:`ClientSet.aclose` closes every client in it.

Leasing takes no lock: a lease is taken and returned without an ``await`` between the
choice and the count, so on one event loop no two calls race for the same slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

C = TypeVar("C")

POOL_SIZE = 32
"""Connections per client (per pool) at most: small enough that a pool's per-request
scan stays cheap, large enough that a default provider (64 in flight) needs two."""


class PooledClient(Generic[C]):
    """One client of a :class:`ClientSet`, with its pool size and calls now using it.

    Used as a context manager, it counts a call in on entry (returning the client) and
    out on exit, whatever the call's outcome (cancellation included).
    """

    __slots__ = ("client", "in_flight", "size")

    def __init__(self, client: C, size: int) -> None:
        self.client = client
        self.size = size
        self.in_flight = 0

    @property
    def free(self) -> bool:
        """Whether a call now would find a free connection in this client's pool."""
        return self.in_flight < self.size

    def __enter__(self) -> C:
        self.in_flight += 1
        return self.client

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.in_flight -= 1


class ClientSet(Generic[C]):
    """Up to ``ceil(max_connections / pool_size)`` clients, made as concurrency needs them.

    ``make(size)`` builds one client whose connection pool holds ``size`` connections
    (the last client gets what remains of ``max_connections``); ``close(client)``
    releases it. A call leases a client for as long as it holds a connection (a stream:
    until it is closed)::

        with clients.lease() as client:
            reply = await client.post(...)
    """

    def __init__(
        self,
        make: Callable[[int], C],
        close: Callable[[C], Awaitable[Any]],
        *,
        max_connections: int,
        pool_size: int = POOL_SIZE,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        self._make = make
        self._close = close
        self._max_connections = max_connections
        self._pool_size = pool_size
        self._members: list[PooledClient[C]] = []
        self._capacity = 0
        self._closed = False

    @property
    def clients(self) -> list[C]:
        """The clients made so far, oldest first."""
        return [member.client for member in self._members]

    @property
    def in_flight(self) -> list[int]:
        """Calls now holding each client, in the order of :attr:`clients`."""
        return [member.in_flight for member in self._members]

    def lease(self) -> PooledClient[C]:
        """The client for the next call: the first with a free connection; else a new
        one while ``max_connections`` allows; else the least loaded (whose pool then
        queues the call, as a single pool would)."""
        if self._closed:
            raise RuntimeError("this client set is closed")
        for member in self._members:
            if member.in_flight < member.size:
                return member
        if self._capacity < self._max_connections:
            size = min(self._pool_size, self._max_connections - self._capacity)
            member = PooledClient(self._make(size), size)
            self._members.append(member)
            self._capacity += size
            return member
        return min(self._members, key=_load)

    async def aclose(self) -> None:
        """Close every client made (and so its connection pool); later leases fail.

        Every client is closed even when closing one fails; the first failure is then
        raised.
        """
        self._closed = True
        members, self._members = self._members, []
        self._capacity = 0
        failures: list[Exception] = []
        for member in members:
            try:
                await self._close(member.client)
            except Exception as failure:
                failures.append(failure)
        if failures:
            raise failures[0]


def _load(member: PooledClient[Any]) -> float:
    return member.in_flight / member.size


__all__ = ["POOL_SIZE", "ClientSet", "PooledClient"]
