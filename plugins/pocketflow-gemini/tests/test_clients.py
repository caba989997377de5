"""The SDK clients a session makes: each on its own small pool, none reading the CA bundle.

A session adds a ``google.genai.Client`` (with its own pool) whenever the calls in
flight fill the ones it has; 1,000 calls in flight make 32 of them. Each must reuse the
plugin's one SSL context, for its HTTP clients and for the SSL context the SDK keeps for
its websockets, which it would otherwise build by reading the CA bundle (50 ms a client).
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from pocketflow.providers import ProviderSettings
from pocketflow_gemini.client import make_client, shared_ssl_context
from pocketflow_gemini.connection import Connection


def test_new_clients_share_one_ssl_context_and_read_no_ca_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared_ssl_context()  # made once per process, on the first client
    loads: list[Any] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    settings = ProviderSettings(name="gemini", kind="gemini", max_concurrency=96)
    connection = Connection(endpoint="Gemini API", base_url=None, api_version="v1beta", api_key="k")

    clients = [make_client(connection, settings, 32) for _ in range(3)]

    assert loads == []
    for made in clients:
        assert made.client._api_client._websocket_ssl_ctx["ssl"] is shared_ssl_context()
