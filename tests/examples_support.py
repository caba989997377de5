"""Running the examples (and the benches) as their users do: a subprocess on the command
line, with a clean environment (no POCKETFLOW_* settings, no vendor keys) unless a test
adds some."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def clean_environment(**extra: str) -> dict[str, str]:
    """The current environment without PocketFlow settings or vendor keys, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POCKETFLOW_", "OPENAI_", "ANTHROPIC_", "PYTEST_"))
    }
    env.update(extra)
    return env


def run_example(
    name: str, *args: str, cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>`` with ``args`` from ``cwd``."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_environment(**env),
    )


def load_example_flow(name: str) -> ModuleType:
    """Import ``examples/<name>/flow.py`` under a unique module name."""
    spec = importlib.util.spec_from_file_location(f"{name}_flow", EXAMPLES / name / "flow.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def run_bench(
    script: str, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``bench/<script>`` as its users do (``env`` added to a clean environment) and
    return the one JSON line it prints."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(**(env or {})),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    report: dict[str, Any] = json.loads(lines[0])
    return report
