"""The README's install commands, run as a newcomer would: outside the checkout, in a
fresh environment. Offline: packages come from uv's cache; when the cache lacks one
and the registry would be needed, the test is skipped and says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
README = (CHECKOUT / "README.md").read_text(encoding="utf-8")
# Plugins whose dependencies are small enough to be in any uv cache that synced the repo.
PACKAGES = ["packages/pocketflow-core", "plugins/pocketflow-aiofiles", "plugins/pocketflow-httpx"]
TIME_LIMIT = 180  # seconds for one uv command: a bound, not a measurement
PROGRAM = """
import asyncio, pocketflow

async def main():
    text = await pocketflow.read_file_async("notes.txt")
    print(await pocketflow.call_llm_async(text, model="offline:echo"))
    await pocketflow.aclose()

asyncio.run(main())
"""

pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")


def uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run uv offline, resolving as the workspace does (its exclude-newer date)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    env["UV_OFFLINE"] = "1"
    env["UV_EXCLUDE_NEWER"] = _exclude_newer()
    env["UV_NO_PROGRESS"] = "1"
    return subprocess.run(
        ["uv", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIME_LIMIT
    )


def _exclude_newer() -> str:
    import tomllib

    root = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(root["tool"]["uv"]["exclude-newer"])


def _checked(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0 and "network was disabled" in result.stderr:
        pytest.skip(f"{what} needs packages that are not in uv's cache (offline run)")
    assert result.returncode == 0, f"{what} failed:\n{result.stderr}"


def _works(python: Path, project: Path) -> None:
    """The installed packages run a program outside the checkout, and list the plugins."""
    (project / "notes.txt").write_text("read outside the checkout", encoding="utf-8")
    (project / "program.py").write_text(PROGRAM, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
    ran = subprocess.run(
        [str(python), "program.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert ran.stdout.strip() == "[offline echo] read outside the checkout", ran.stderr
    listed = subprocess.run(
        [str(python), "-m", "pocketflow", "plugins"], cwd=project, capture_output=True, text=True
    )
    assert "ok     aiofiles" in listed.stdout and "ok     httpx" in listed.stdout


def test_the_readme_documents_the_editable_forms() -> None:
    assert 'uv add --editable "$CHECKOUT/packages/pocketflow-core"' in README
    assert 'uv pip install -e "$CHECKOUT/packages/pocketflow-core"' in README


def test_uv_add_editable_works_in_a_project_outside_the_checkout(tmp_path: Path) -> None:
    project = tmp_path / "my-project"
    _checked(
        uv("init", "--quiet", "--no-workspace", "--bare", str(project), cwd=tmp_path), "uv init"
    )
    paths = [str(CHECKOUT / package) for package in PACKAGES]
    _checked(uv("add", "--editable", *paths, cwd=project), "uv add --editable")

    _works(project / ".venv" / "bin" / "python", project)


def test_uv_pip_install_editable_works_in_a_fresh_environment(tmp_path: Path) -> None:
    project = tmp_path / "elsewhere"
    project.mkdir()
    _checked(uv("venv", "--quiet", "--python", sys.executable, ".venv", cwd=project), "uv venv")
    python = project / ".venv" / "bin" / "python"
    editable = [arg for package in PACKAGES for arg in ("-e", str(CHECKOUT / package))]
    _checked(uv("pip", "install", "--python", str(python), *editable, cwd=project), "uv pip")

    _works(python, project)
