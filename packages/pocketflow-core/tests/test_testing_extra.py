"""What the README promises about testing: the respx hint, async tests, the working folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pocketflow import call_llm_async, read_file, testing
from pocketflow.offline import Script


def test_mock_vendor_http_without_respx_says_to_install_the_testing_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "respx", None)  # as if respx were not installed

    with (
        pytest.raises(ImportError, match=r"pocketflow-core\[testing\]") as caught,
        testing.mock_vendor_http(),
    ):
        pass
    assert "vendor_http" in str(caught.value)


@pytest.fixture
def anyio_backend() -> str:
    """PocketFlow runs on asyncio (anyio would also try trio when it is installed)."""
    return "asyncio"


@pytest.mark.anyio
async def test_an_async_test_function_uses_the_fixtures(
    llm_script: Callable[..., Script], feedback_script: Callable[..., None]
) -> None:
    llm_script(["async reply"])

    assert await call_llm_async("hi") == "async reply"


def test_pocketflow_env_runs_the_test_in_an_empty_working_folder(
    pocketflow_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert list(Path.cwd().iterdir()) == []
    assert Path.cwd() != tmp_path
    Path("notes.txt").write_text("relative to the new working folder", encoding="utf-8")

    assert read_file("notes.txt") == "relative to the new working folder"
