"""Connecting only to an address that was checked when the connection was made.

httpx resolves a host name again when it connects, so a name could answer with a
public address when the reader checks it and an internal one a moment later (DNS
rebinding). :class:`CheckedBackend` wraps httpcore's network backend: it resolves
the name itself, checks every address, and connects to those addresses, never
to the name. TLS still verifies the certificate against the name in the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from pocketflow_httpx.addresses import Network, checked_addresses


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to checked addresses."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, allowed: Sequence[Network]) -> None:
        self._inner = inner
        self._allowed = allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve ``host``, refuse it if any address is internal, connect to the first
        address that answers."""
        try:
            found = await checked_addresses(host, port, self._allowed)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        failure: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in found:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are local by choice: passed through."""
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        """As the wrapped backend sleeps."""
        await self._inner.sleep(seconds)


def checked_transport(allowed: Sequence[Network]) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go only to checked addresses."""
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool  # httpx builds the pool; it offers no backend argument
    pool._network_backend = CheckedBackend(pool._network_backend, allowed)
    return transport
