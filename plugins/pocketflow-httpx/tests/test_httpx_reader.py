"""The http reader, used as a program would: ``read_file_async`` with respx routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import pocketflow
from pocketflow import read_file_async
from pocketflow.errors import ConfigError, FileReadError

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


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.AsyncClient]]:
    """Every httpx.AsyncClient created during the test."""
    made: list[httpx.AsyncClient] = []
    original = httpx.AsyncClient.__init__

    def spy(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", spy)
    yield made


def test_reads_text_in_the_charset_the_server_names(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/cafe.txt").respond(
        200,
        content="café crème".encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=ISO-8859-1"},
    )

    assert read(f"{BASE}/cafe.txt") == "café crème"


def test_reads_utf8_when_no_charset_is_named(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/notes").respond(
        200, content="naïve ✓".encode(), headers={"Content-Type": "text/markdown"}
    )

    assert read(f"{BASE}/notes") == "naïve ✓"


def test_reads_json(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/data.json").respond(200, json={"title": "Summary"})

    assert read(f"{BASE}/data.json") == '{"title":"Summary"}'


def test_a_body_without_a_content_type_counts_as_text(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/plain").mock(return_value=httpx.Response(200, content=b"bare"))

    assert read(f"{BASE}/plain") == "bare"


def test_the_encoding_argument_overrides_the_server(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/legacy").respond(
        200, content="déjà".encode("cp1252"), headers={"Content-Type": "text/plain; charset=utf-8"}
    )

    assert read(f"{BASE}/legacy", encoding="cp1252") == "déjà"


def test_sends_the_configured_headers(vendor_http: respx.MockRouter) -> None:
    configure('[readers.http]\nheaders = { "User-Agent" = "summarizer/1.0" }\n')
    route = vendor_http.get(f"{BASE}/ua").respond(200, text="ok")

    read(f"{BASE}/ua")

    assert route.calls.last.request.headers["User-Agent"] == "summarizer/1.0"


def test_404_names_the_url_and_the_status(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/missing").respond(404)

    with pytest.raises(
        FileReadError, match=rf"Cannot read {BASE}/missing: the server answered HTTP 404 Not Found"
    ):
        read(f"{BASE}/missing")


def test_500_names_the_url_and_the_status(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/broken").respond(500)

    with pytest.raises(
        FileReadError, match=rf"{BASE}/broken: the server answered HTTP 500 Internal Server Error"
    ):
        read(f"{BASE}/broken")


def test_follows_a_redirect(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/old").respond(301, headers={"Location": "/new"})
    vendor_http.get(f"{BASE}/new").respond(200, text="moved here")

    assert read(f"{BASE}/old") == "moved here"


def test_a_redirect_loop_is_named(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/a").respond(302, headers={"Location": f"{BASE}/b"})
    vendor_http.get(f"{BASE}/b").respond(302, headers={"Location": f"{BASE}/a"})

    with pytest.raises(FileReadError, match=rf"redirect loop: {BASE}/a -> {BASE}/b -> {BASE}/a"):
        read(f"{BASE}/a")


def test_stops_after_max_redirects(vendor_http: respx.MockRouter) -> None:
    configure("[readers.http]\nmax_redirects = 2\n")
    for hop in range(4):
        vendor_http.get(f"{BASE}/hop{hop}").respond(302, headers={"Location": f"/hop{hop + 1}"})

    with pytest.raises(FileReadError, match=r"more than 2 redirects .*max_redirects"):
        read(f"{BASE}/hop0")


def test_an_error_after_a_redirect_names_the_final_url(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/old").respond(301, headers={"Location": "/gone"})
    vendor_http.get(f"{BASE}/gone").respond(410)

    with pytest.raises(FileReadError, match=rf"HTTP 410 Gone \(redirected to {BASE}/gone\)"):
        read(f"{BASE}/old")


def test_refuses_a_body_whose_content_length_is_over_the_limit(
    vendor_http: respx.MockRouter,
) -> None:
    configure("[readers.http]\nmax_bytes = 10\n")
    vendor_http.get(f"{BASE}/big").respond(200, text="x" * 11)

    with pytest.raises(
        FileReadError,
        match=r"announced 11 bytes \(Content-Length\), over the size limit of 10 bytes",
    ):
        read(f"{BASE}/big")


def test_refuses_a_streamed_body_that_runs_over_the_limit(
    vendor_http: respx.MockRouter,
) -> None:
    configure("[readers.http]\nmax_bytes = 10\n")
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(100):
            sent.append(index)
            yield b"xxxx"

    vendor_http.get(f"{BASE}/stream").mock(return_value=httpx.Response(200, content=chunks()))

    with pytest.raises(FileReadError, match=r"ran past 10 bytes, over the size limit"):
        read(f"{BASE}/stream")
    assert len(sent) < 100  # it stopped reading rather than buffering everything


def test_refuses_a_binary_content_type(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/logo.png").respond(
        200, content=b"\x89PNG", headers={"Content-Type": "image/png"}
    )

    with pytest.raises(
        FileReadError, match=rf"{BASE}/logo.png: the server sent image/png content, which is not"
    ):
        read(f"{BASE}/logo.png")


def test_a_timeout_names_the_url_and_the_reason(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/slow").mock(side_effect=httpx.ReadTimeout("read timed out"))

    with pytest.raises(
        FileReadError, match=rf"{BASE}/slow: timed out after 30 s \(waiting for the server"
    ):
        read(f"{BASE}/slow")


def test_the_timeout_covers_the_whole_read(vendor_http: respx.MockRouter) -> None:
    configure("[readers.http]\ntimeout = 0.02\n")

    async def stalls(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, text="too late")

    vendor_http.get(f"{BASE}/stall").mock(side_effect=stalls)

    with pytest.raises(FileReadError, match=r"no complete answer within 0.02 s"):
        read(f"{BASE}/stall")


def test_a_connection_error_names_the_url_and_the_reason(vendor_http: respx.MockRouter) -> None:
    vendor_http.get(f"{BASE}/down").mock(side_effect=httpx.ConnectError("Connection refused"))

    with pytest.raises(
        FileReadError, match=rf"{BASE}/down: the connection failed: Connection refused"
    ):
        read(f"{BASE}/down")


def test_a_password_in_the_url_is_not_shown(vendor_http: respx.MockRouter) -> None:
    vendor_http.get("https://docs.example.test/private").respond(403)

    with pytest.raises(FileReadError, match="HTTP 403") as caught:
        read("https://reader:s3cret-pass@docs.example.test/private")
    assert "s3cret-pass" not in str(caught.value)


def test_one_client_serves_every_read_and_is_closed_by_aclose(
    vendor_http: respx.MockRouter, clients: list[httpx.AsyncClient]
) -> None:
    vendor_http.get(url__regex=rf"{BASE}/doc\d").respond(200, text="doc")

    async def scenario() -> list[str]:
        texts = [await read_file_async(f"{BASE}/doc1")]
        texts += await asyncio.gather(*(read_file_async(f"{BASE}/doc{i}") for i in range(2, 5)))
        assert not clients[0].is_closed
        await pocketflow.aclose()
        return texts

    assert asyncio.run(scenario()) == ["doc"] * 4
    assert len(clients) == 1
    assert clients[0].is_closed


def test_a_negative_max_redirects_is_a_config_error() -> None:
    configure("[readers.http]\nmax_redirects = -1\n")

    with pytest.raises(
        ConfigError, match=r"pocketflow\.toml: \[readers.http\] 'max_redirects' must be 0"
    ):
        read(f"{BASE}/any")


def test_a_non_string_header_is_a_config_error() -> None:
    configure('[readers.http]\nheaders = { "X-Retries" = 3 }\n')

    with pytest.raises(
        ConfigError,
        match=r"pocketflow\.toml: \[readers.http\] 'headers.X-Retries' must be a string",
    ):
        read(f"{BASE}/any")


def test_bytes_that_are_not_utf8_without_a_charset_are_replaced(
    vendor_http: respx.MockRouter,
) -> None:
    vendor_http.get(f"{BASE}/odd").respond(
        200, content=b"caf\xe9", headers={"Content-Type": "text/plain"}
    )

    assert read(f"{BASE}/odd") == "caf\ufffd"


def test_a_body_that_does_not_decode_with_the_given_encoding_names_the_offset(
    vendor_http: respx.MockRouter,
) -> None:
    vendor_http.get(f"{BASE}/legacy").respond(
        200, content=b"ab\xffcd", headers={"Content-Type": "text/plain"}
    )

    with pytest.raises(FileReadError, match=r"not valid utf-8: byte offset 2 holds ff"):
        read(f"{BASE}/legacy", encoding="utf-8")


def test_pocketflow_plugins_lists_the_reader(capsys: pytest.CaptureFixture[str]) -> None:
    from pocketflow.cli import main

    assert main(["plugins"]) == 0

    readers = capsys.readouterr().out.split("File readers:")[1].split("Feedback providers:")[0]
    assert "\n  http         [http, https] " in readers
