"""A quick TCP check that a cluster's address answers, so a wrong address fails fast."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from pocketflow.errors import ClusterUnreachableError


def check_reachable(executor: str, address: str, default_port: int, timeout: float = 3.0) -> None:
    """Raise :class:`ClusterUnreachableError` unless a TCP connection to ``address`` opens.

    ``address`` is ``host:port``, ``host``, or a URL such as ``tcp://host:port`` or
    ``ray://host:port``.
    """
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    host = parsed.hostname
    try:
        port = parsed.port or default_port
    except ValueError as error:
        raise ClusterUnreachableError(executor, address, f"bad port: {error}") from None
    if not host:
        raise ClusterUnreachableError(executor, address, "no host name in the address")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ClusterUnreachableError(executor, address, f"{host}:{port}: {reason}") from None
