"""The http reader under attack: redirects to internal addresses, headers across origins."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import respx

import pocketflow
from pocketflow import read_file_async
from pocketflow.errors import ConfigError, FileReadError
from pocketflow_httpx import addresses

BASE = "https://docs.example.test"


def read(location: str, **options: Any) -> str:
    """Read ``location`` through the public facade on a fresh event loop."""

    async def scenario() -> str:
        try:
            return await read_file_async(location, **options)
        finally:
            await pocketflow.aclose()

    return asyncio.run(scenario())


def configure(text: str) -> None:
    """Write a pocketflow.toml into the working directory."""
    Path("pocketflow.toml").write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def clean_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every test runs with a clean configuration in an empty working directory."""
    return pocketflow_env


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://127.0.0.1:8080/admin", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/internal", "private"),
        ("http://[::1]/admin", "loopback"),
        ("http://[::ffff:127.0.0.1]/admin", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
    ],
)
def test_a_redirect_to_an_internal_address_is_refused(
    vendor_http: respx.MockRouter, target: str, kind: str
) -> None:
    vendor_http.get(f"{BASE}/go").respond(302, headers={"Location": target})
    internal = vendor_http.get(target).respond(200, text="internal page")

    with pytest.raises(FileReadError, match=rf"{kind} address.*allowed_networks") as caught:
        read(f"{BASE}/go")
    assert "internal page" not in str(caught.value)
    assert not internal.called


def test_a_host_name_that_resolves_to_an_internal_address_is_refused_on_the_first_hop(
    vendor_http: respx.MockRouter, dns: dict[str, list[str]]
) -> None:
    dns["sneaky.example.test"] = ["93.184.215.14", "127.0.0.1"]
    route = vendor_http.get("https://sneaky.example.test/").respond(200, text="internal")

    with pytest.raises(FileReadError, match=r"sneaky\.example\.test resolves to 127\.0\.0\.1"):
        read("https://sneaky.example.test/")
    assert not route.called


def test_a_redirect_to_a_host_name_that_resolves_inside_is_refused(
    vendor_http: respx.MockRouter, dns: dict[str, list[str]]
) -> None:
    dns["metadata.example.test"] = ["169.254.169.254"]
    vendor_http.get(f"{BASE}/go").respond(
        301, headers={"Location": "http://metadata.example.test/creds"}
    )
    route = vendor_http.get("http://metadata.example.test/creds").respond(200, text="creds")

    with pytest.raises(FileReadError, match=r"169\.254\.169\.254"):
        read(f"{BASE}/go")
    assert not route.called


def test_allowed_networks_lets_internal_addresses_through(vendor_http: respx.MockRouter) -> None:
    configure('[readers.http]\nallowed_networks = ["127.0.0.0/8"]\n')
    vendor_http.get(f"{BASE}/go").respond(302, headers={"Location": "http://127.0.0.1:9/page"})
    vendor_http.get("http://127.0.0.1:9/page").respond(200, text="local page")

    assert read(f"{BASE}/go") == "local page"


def test_a_bad_allowed_network_is_a_config_error() -> None:
    configure('[readers.http]\nallowed_networks = ["localhost"]\n')

    with pytest.raises(
        ConfigError,
        match=r"\[readers.http\] 'allowed_networks' holds 'localhost', which is not a network",
    ):
        read(f"{BASE}/any")


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"served on 127.0.0.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_real_loopback_server_is_refused_by_default(local_server: str) -> None:
    with pytest.raises(FileReadError, match=r"loopback address"):
        read(f"{local_server}/page")


def test_a_real_loopback_server_is_read_when_allowed(local_server: str) -> None:
    configure('[readers.http]\nallowed_networks = ["127.0.0.1/32"]\n')

    assert read(f"{local_server}/page") == "served on 127.0.0.1"


@pytest.mark.parametrize(
    "target",
    [
        "https://other.example.test/page",  # another host
        "http://docs.example.test/page",  # another scheme
        "https://docs.example.test:8443/page",  # another port
    ],
)
def test_configured_headers_are_dropped_across_origins(
    vendor_http: respx.MockRouter, target: str
) -> None:
    configure('[readers.http]\nheaders = { "X-Api-Key" = "k-123", "User-Agent" = "app/1" }\n')
    vendor_http.get(f"{BASE}/go").respond(302, headers={"Location": target})
    landing = vendor_http.get(target).respond(200, text="elsewhere")

    assert read(f"{BASE}/go") == "elsewhere"
    assert vendor_http.calls[0].request.headers["X-Api-Key"] == "k-123"
    sent = landing.calls.last.request.headers
    assert "X-Api-Key" not in sent
    assert sent.get("User-Agent") != "app/1"


def test_configured_headers_are_kept_on_a_same_origin_redirect(
    vendor_http: respx.MockRouter,
) -> None:
    configure('[readers.http]\nheaders = { "X-Api-Key" = "k-123" }\n')
    vendor_http.get(f"{BASE}/old").respond(301, headers={"Location": "/new"})
    landing = vendor_http.get(f"{BASE}/new").respond(200, text="moved")

    assert read(f"{BASE}/old") == "moved"
    assert landing.calls.last.request.headers["X-Api-Key"] == "k-123"


def test_the_connection_goes_to_the_address_that_was_checked(
    local_server: str, dns: dict[str, list[str]]
) -> None:
    # The name exists only in the reader's resolver: the read works only if the
    # connection uses the address that was checked, not a second lookup.
    dns["checked.example.test"] = ["127.0.0.1"]
    configure('[readers.http]\nallowed_networks = ["127.0.0.1"]\n')
    port = local_server.rsplit(":", 1)[1]

    assert read(f"http://checked.example.test:{port}/page") == "served on 127.0.0.1"


def test_a_name_that_rebinds_to_an_internal_address_after_the_check_is_refused(
    local_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])  # public when checked, then loopback

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])

    monkeypatch.setattr(addresses, "resolve", rebinding)
    port = local_server.rsplit(":", 1)[1]

    with pytest.raises(FileReadError, match=r"rebind\.example\.test.*loopback address"):
        read(f"http://rebind.example.test:{port}/page")


def test_a_nan_timeout_is_a_config_error_naming_the_key() -> None:
    configure("[readers.http]\ntimeout = nan\n")

    with pytest.raises(ConfigError, match=r"\[readers.http\] 'timeout' must be seconds"):
        read(f"{BASE}/any")
