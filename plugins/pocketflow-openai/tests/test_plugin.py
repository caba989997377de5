"""The plugin as installed: listed by ``pocketflow plugins``, and light to load."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pocketflow.cli import main


def test_pocketflow_plugins_lists_the_openai_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0

    out = capsys.readouterr().out
    assert "registers: llm openai, llm azure" in out
    assert "  openai       OpenAI Chat Completions" in out


def test_loading_the_plugin_imports_no_sdk() -> None:
    script = (
        "import sys, pocketflow_openai.plugin; "
        "print(sorted(m for m in ('openai', 'httpx2') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
