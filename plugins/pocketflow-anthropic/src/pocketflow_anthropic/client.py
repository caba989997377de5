"""Making the anthropic SDK client for a provider's settings.

One ``AsyncAnthropic`` per provider and event loop (see
:class:`pocketflow.providers.PerLoop`), with the SDK's own retries off (the core's
call policy is the only one), on an httpx2 connection pool sized to the provider's
``max_concurrency``.
"""

from __future__ import annotations

import os

import anthropic
import httpx2

from pocketflow.providers import ProviderSettings

BASE_URL_ENV = "ANTHROPIC_BASE_URL"
SDK_DEFAULT_BASE_URL = "https://api.anthropic.com"


def base_url(settings: ProviderSettings) -> str | None:
    """``base_url`` from the config, else ``ANTHROPIC_BASE_URL``, else None (the SDK's)."""
    return settings.base_url or os.environ.get(BASE_URL_ENV) or None


def make_client(settings: ProviderSettings, api_key: str) -> anthropic.AsyncAnthropic:
    """A new SDK client for ``settings`` using ``api_key``."""
    limits = httpx2.Limits(
        max_connections=settings.max_concurrency,
        max_keepalive_connections=settings.max_concurrency,
    )
    # DefaultAsyncHttpxClient is an httpx2.AsyncClient keeping the SDK's other defaults
    # (redirects followed, TCP keep-alive probes).
    http_client = anthropic.DefaultAsyncHttpxClient(limits=limits, timeout=settings.timeout)
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url(settings),
        timeout=settings.timeout,
        max_retries=0,
        default_headers=dict(settings.headers),
        http_client=http_client,
    )
