"""Making the anthropic SDK client for a provider's settings.

Each ``AsyncAnthropic`` has the SDK's own retries off (the core's call policy is the
only one) and its own httpx2 connection pool of ``pool_size`` connections; a provider
holds several in a :class:`pocketflow.client_set.ClientSet` per event loop, made as
concurrency needs them, up to the provider's ``max_concurrency`` connections in all.
The clients of one set share one TLS context (:func:`tls_context`).
"""

from __future__ import annotations

import os
import ssl

import anthropic
import httpx2

from pocketflow.providers import ProviderSettings

BASE_URL_ENV = "ANTHROPIC_BASE_URL"
SDK_DEFAULT_BASE_URL = "https://api.anthropic.com"


def base_url(settings: ProviderSettings) -> str | None:
    """``base_url`` from the config, else ``ANTHROPIC_BASE_URL``, else None (the SDK's)."""
    return settings.base_url or os.environ.get(BASE_URL_ENV) or None


def tls_context() -> ssl.SSLContext:
    """The TLS context each client would make for itself (the CA bundle loaded), made once
    for a set of clients: loading it costs about as much CPU and memory as a client."""
    return httpx2.create_ssl_context()


def make_client(
    settings: ProviderSettings, api_key: str, pool_size: int, tls: ssl.SSLContext
) -> anthropic.AsyncAnthropic:
    """A new SDK client for ``settings`` using ``api_key``, ``pool_size`` connections at most."""
    limits = httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    # DefaultAsyncHttpxClient is an httpx2.AsyncClient keeping the SDK's other defaults
    # (redirects followed, TCP keep-alive probes).
    http_client = anthropic.DefaultAsyncHttpxClient(
        limits=limits, timeout=settings.timeout, verify=tls
    )
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url(settings),
        timeout=settings.timeout,
        max_retries=0,
        default_headers=dict(settings.headers),
        http_client=http_client,
    )
