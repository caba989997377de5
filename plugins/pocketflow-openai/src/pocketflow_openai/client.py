"""Building the SDK clients: ``AsyncOpenAI`` / ``AsyncAzureOpenAI`` on a pooled httpx2 client.

The SDK's own retries are off (``max_retries=0``): the core's call policy is the only
one that retries. A provider holds several of these clients in a
:class:`pocketflow.client_set.ClientSet`: each client's pool holds ``pool_size``
connections (at most 32), all kept alive between calls, and together they hold
``max_connections`` (default: the provider's ``max_concurrency``). The clients of one
set share one TLS context: making a context loads the CA bundle, which costs about as
much CPU and memory as the rest of a client.
"""

from __future__ import annotations

import ssl

import httpx2
import openai

from pocketflow.providers import ProviderSettings
from pocketflow_openai.connection import Connection

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection, at most (a dead host should fail fast, then be retried)."""


def http_client(
    settings: ProviderSettings, pool_size: int, tls: ssl.SSLContext
) -> httpx2.AsyncClient:
    """The pooled HTTP client the SDK sends through, ``pool_size`` connections at most."""
    return httpx2.AsyncClient(
        verify=tls,
        limits=httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
        timeout=_timeout(settings),
        follow_redirects=True,  # as the SDK's own default client does
    )


def openai_client(
    connection: Connection, settings: ProviderSettings, pool_size: int, tls: ssl.SSLContext
) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` for an OpenAI or OpenAI-compatible endpoint."""
    client = openai.AsyncOpenAI(
        api_key=connection.api_key,
        base_url=connection.base_url,
        organization=connection.organization,
        project=connection.project,
        timeout=_timeout(settings),
        max_retries=0,
        default_headers=dict(settings.headers),
        http_client=http_client(settings, pool_size, tls),
    )
    _pin_account_headers(client, connection)
    return client


def azure_client(
    connection: Connection, settings: ProviderSettings, pool_size: int, tls: ssl.SSLContext
) -> openai.AsyncAzureOpenAI:
    """An ``AsyncAzureOpenAI`` for a resource endpoint, API version and optional deployment."""
    assert connection.azure_endpoint is not None  # set by azure_connection()
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=connection.azure_endpoint,
        azure_deployment=connection.deployment,
        api_version=connection.api_version,
        api_key=connection.api_key,
        timeout=_timeout(settings),
        max_retries=0,
        default_headers=dict(settings.headers),
        http_client=http_client(settings, pool_size, tls),
    )
    _pin_account_headers(client, connection)
    return client


def _pin_account_headers(client: openai.AsyncOpenAI, connection: Connection) -> None:
    # Given None, the SDK falls back to OPENAI_ORG_ID / OPENAI_PROJECT_ID itself, which
    # would send OpenAI account ids to other vendors' endpoints; the connection decided.
    client.organization = connection.organization
    client.project = connection.project


def _timeout(settings: ProviderSettings) -> httpx2.Timeout:
    return httpx2.Timeout(settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout))
