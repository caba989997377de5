"""Which addresses the reader may fetch from: public ones, unless configured otherwise.

A URL (or a redirect) can point at the machine itself, the local network or the
cloud metadata service (169.254.169.254), none of which a fetched document should
reach (server-side request forgery). Every hop's host is resolved and each of its
addresses checked before the request is sent, so a public name that resolves to an
internal address is refused too; and the connection is made to an address checked
at that moment (see :mod:`pocketflow_httpx.pinning`), so a name whose DNS answer
changes in between (DNS rebinding) gains nothing.

:func:`resolve` is the seam for tests: replace it to answer without DNS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (through the system resolver)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """Networks from strings such as "10.0.0.0/8" or "127.0.0.1"; ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(value) from None
    return tuple(networks)


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells (an IP literal, brackets allowed), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def forbidden_kind(address: Address, allowed: Sequence[Network]) -> str | None:
    """Why ``address`` may not be fetched ("loopback", "private", ...), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address.version == network.version and address in network for network in allowed):
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private or address.is_reserved or not address.is_global:
        return "private"
    return None


class ForbiddenAddress(Exception):
    """``host`` is, or resolves to, ``address``, which may not be fetched (``kind`` says why)."""

    def __init__(self, host: str, address: Address, kind: str) -> None:
        super().__init__(f"{host} -> {address}: {kind}")
        self.host, self.address, self.kind = host, address, kind

    @property
    def literal(self) -> bool:
        """True when the host was the address itself, not a name."""
        return literal_address(self.host) == self.address


async def checked_addresses(host: str, port: int, allowed: Sequence[Network]) -> list[Address]:
    """The addresses of ``host``, every one checked; raises ForbiddenAddress, or OSError
    when the name cannot be resolved."""
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    else:
        found = [a for name in await resolve(host, port) if (a := literal_address(name))]
    for address in found:
        kind = forbidden_kind(address, allowed)
        if kind is not None:
            raise ForbiddenAddress(host, address, kind)
    return found
