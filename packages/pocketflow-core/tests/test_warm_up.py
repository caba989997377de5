"""The vendor SDK is imported in the background once a provider is configured, so the
first call does not pay for it; ``import pocketflow`` itself still imports no SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
import sys
import pocketflow
from pocketflow.runtime import current_runtime

assert "anthropic" not in sys.modules, "import pocketflow imported the SDK"
runtime = current_runtime()
assert runtime.warming is not None, "nothing is being warmed"
runtime.warming.join(120)
print("anthropic" in sys.modules, "anthropic" in runtime.warmed)
"""


def run(program: str, tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_configured_vendor_sdk_is_imported_in_the_background(tmp_path: Path) -> None:
    pytest.importorskip("pocketflow_anthropic")

    out = run(PROGRAM, tmp_path, POCKETFLOW_LLM="anthropic:claude-haiku-4-5")

    assert out == "True True"


def test_nothing_is_warmed_without_a_configured_model(tmp_path: Path) -> None:
    out = run(
        "from pocketflow.runtime import current_runtime\nprint(current_runtime().warming)\n",
        tmp_path,
    )

    assert out == "None"
