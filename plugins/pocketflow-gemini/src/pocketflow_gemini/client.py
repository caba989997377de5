"""Building the SDK clients: ``google.genai.Client`` on pooled httpx2 clients.

The SDK's own retries are off (no ``retry_options``: one attempt): the core's call
policy is the only one that retries. A session holds a
:class:`~pocketflow.client_set.ClientSet` of SDK clients, each on a pool of at most 32
connections (a pool's per-request bookkeeping grows with its size), up to the
provider's ``max_concurrency`` connections in all, kept alive between calls. The SDK is
handed its HTTP clients (async and sync), so it makes none of its own, and never
switches to aiohttp, which would bring its own hidden retries.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cache

import httpx2
from google import genai
from google.genai import types

from pocketflow.client_set import ClientSet
from pocketflow.providers import ProviderSettings
from pocketflow_gemini.connection import Connection

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection, at most (a dead host should fail fast, then be retried)."""


@dataclass(frozen=True, slots=True)
class GeminiClient:
    """One SDK client and the HTTP clients it sends through."""

    client: genai.Client
    http: httpx2.AsyncClient
    sync_http: httpx2.Client

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self.http.aclose()
        self.sync_http.close()


@dataclass(frozen=True, slots=True)
class Session:
    """One event loop's SDK clients and the connection they were made from."""

    clients: ClientSet[GeminiClient]
    connection: Connection


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for every HTTP client the plugin makes: making one reads
    the CA bundle (tens of milliseconds), and a context is safe to share."""
    return httpx2.create_ssl_context()


def make_session(connection: Connection, settings: ProviderSettings) -> Session:
    """The SDK clients for ``connection``: made as calls need them, closed together."""
    clients = ClientSet(
        lambda size: make_client(connection, settings, size),
        _close,
        max_connections=settings.max_concurrency,
    )
    return Session(clients, connection)


def make_client(connection: Connection, settings: ProviderSettings, size: int) -> GeminiClient:
    """A new SDK client for ``connection`` on its own pool of ``size`` connections."""
    timeout = httpx2.Timeout(settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout))
    limits = httpx2.Limits(max_connections=size, max_keepalive_connections=size)
    tls = shared_ssl_context()
    http = httpx2.AsyncClient(limits=limits, timeout=timeout, follow_redirects=True, verify=tls)
    sync_http = httpx2.Client(timeout=timeout, follow_redirects=True, verify=tls)
    options = types.HttpOptions(
        base_url=connection.base_url,
        api_version=connection.api_version,
        headers=dict(settings.headers),
        httpx_async_client=http,
        httpx_client=sync_http,
        # The SDK also makes an SSL context for its websockets (the Live API), reading
        # the CA bundle again (50 ms a client) unless it is given one: the shared one.
        async_client_args={"ssl": tls},
        retry_options=None,
    )
    if connection.vertex:
        client = genai.Client(
            vertexai=True,
            project=connection.project,
            location=connection.location,
            credentials=connection.credentials,
            http_options=options,
        )
    else:
        client = genai.Client(vertexai=False, api_key=connection.api_key, http_options=options)
    return GeminiClient(client, http, sync_http)


async def _close(client: GeminiClient) -> None:
    await client.aclose()
