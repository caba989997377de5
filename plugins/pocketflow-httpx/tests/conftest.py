"""Name resolution for the http reader's tests: no test ever asks a real DNS server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pocketflow_httpx import addresses

PUBLIC_ADDRESS = "93.184.215.14"
"""What every test host name resolves to unless a test says otherwise (a public address)."""


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Host name -> addresses, for the reader's resolver; unknown names are public."""
    table: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        return table.get(host, [PUBLIC_ADDRESS])

    monkeypatch.setattr(addresses, "resolve", resolve)
    yield table
