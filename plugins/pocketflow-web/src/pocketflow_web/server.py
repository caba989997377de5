"""``pocketflow serve``: open the run store once, bind, print the address, run uvicorn.

The address printed carries the token when it was generated here (as Jupyter does); a
token from ``POCKETFLOW_WEB_TOKEN`` is the user's own and is not printed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import socket
import sys

from pocketflow.runs.settings import close_stores, run_settings
from pocketflow.runs.store import RunStore
from pocketflow_web.auth import ENV_TOKEN


def main(host: str, port: int, store_url: str | None) -> int:
    """Serve until interrupted; returns the exit status."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port {port}: give a port from 1 to 65535, or 0 for a free one.")
    token = os.environ.get(ENV_TOKEN, "")
    generated = not token
    if generated:
        token = secrets.token_urlsafe(32)
    settings = run_settings(store_url)
    listener = bind(host, port)
    try:
        asyncio.run(_serve(listener, settings.store, token, host, generated))
    finally:
        listener.close()
    return 0


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (IPv4 or IPv6)."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as error:
        listener.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({error.strerror}): pick another --port, "
            "or --port 0 for a free one."
        ) from error
    listener.listen(128)  # connections wait in the backlog until uvicorn accepts them
    return listener


def address_of(listener: socket.socket, host: str) -> str:
    """The page's base address, e.g. ``http://127.0.0.1:8421``."""
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def _serve(
    listener: socket.socket, store: RunStore, token: str, host: str, generated: bool
) -> None:
    import uvicorn

    from pocketflow_web.app import create_app
    from pocketflow_web.logs import log_config

    base = address_of(listener, host)
    if generated:
        print(f"Review page for {store.url}: open {base}/?token={token}", flush=True)
    else:
        print(
            f"Review page for {store.url}: open {base}/?token=... with the token from {ENV_TOKEN}",
            flush=True,
        )
    if not _is_loopback(host):
        print(
            f"Warning: listening on {host}, not only this machine: anyone who reaches it may try "
            "the token, and plain HTTP shows it to the network. Put HTTPS in front.",
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(
        create_app(store, token),
        log_config=log_config(token),
        lifespan="off",
        server_header=False,
    )
    try:
        await uvicorn.Server(config).serve(sockets=[listener])
    finally:
        await close_stores()
