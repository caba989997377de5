"""``pocketflow serve`` as a person starts it: a real uvicorn in a subprocess."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
from review_helpers import TOKEN, Runner

from pocketflow.cli import main
from pocketflow_web.testing import serve_process

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


def clean_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("POCKETFLOW_")}


def test_serve_prints_the_address_with_a_new_token_that_no_log_line_shows(
    run_flow: Runner, store_url: str, tmp_path: Path
) -> None:
    run_flow("owls")
    with serve_process(["--store", store_url], cwd=tmp_path, env=clean_environment()) as (
        server,
        address,
    ):
        assert address.startswith("http://127.0.0.1:")
        token = address.partition("?token=")[2]
        assert len(token) >= 40
        with httpx.Client(follow_redirects=True) as client:
            page = client.get(address)  # the redirect drops the token, the cookie is kept
            assert page.status_code == 200 and "/questions/owls" in page.text
            assert str(page.url) == address.partition("?")[0]
            api = client.get(
                str(page.url) + "api/questions", headers={"authorization": f"Bearer {token}"}
            )
            assert api.json()["questions"][0]["run_id"] == "owls"
            assert client.get(address + "x").status_code == 401  # a wrong token
    output = server.output
    assert output.count(token) == 1  # the printed address, and nothing else
    assert f"{address}\n" in output.splitlines(keepends=True)[0]
    assert '"GET /?token=[redacted] HTTP/1.1" 303' in output
    assert '"GET / HTTP/1.1" 200' in output
    assert '"GET /?token=[redacted] HTTP/1.1" 401' in output


def test_a_token_from_the_environment_is_not_printed(
    run_flow: Runner, store_url: str, tmp_path: Path
) -> None:
    environment = {**clean_environment(), "POCKETFLOW_WEB_TOKEN": TOKEN}
    with serve_process(["--store", store_url], cwd=tmp_path, env=environment) as (
        server,
        address,
    ):
        assert address.endswith("/?token=...")
        base = address.partition("?")[0]
        with httpx.Client(follow_redirects=True) as client:
            assert client.get(f"{base}?token={TOKEN}").status_code == 200
    assert TOKEN not in server.output
    assert "with the token from POCKETFLOW_WEB_TOKEN" in server.output


def test_a_port_in_use_is_a_clear_error(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--store", store_url]) == 1
    error = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in error
    assert "--port 0 for a free one" in error
