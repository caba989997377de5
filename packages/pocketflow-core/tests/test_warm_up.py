"""The vendor SDK is imported in the background once a provider is configured, so the
first call does not pay for it; ``import pocketflow`` itself still imports no SDK.

A small plugin stands in for a vendor: its factory imports ``fakesdk`` (as the openai
and anthropic factories import their SDKs), in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = """
    from pocketflow import hookimpl


    def make(settings):
        from fakeprovider import FakeProvider  # imports the "SDK", as real plugins do

        return FakeProvider(settings)


    @hookimpl
    def register_llm_providers(register):
        register("fake", make, description="imports fakesdk when made")
"""
PROVIDER = """
    import fakesdk
    from pocketflow.providers import LLMProvider, LLMResponse


    class FakeProvider(LLMProvider):
        async def complete(self, request):
            return LLMResponse("ok", request.model, self.name)
"""
PROGRAM = """
import sys
import pocketflow
from pocketflow.runtime import current_runtime

assert "fakesdk" not in sys.modules, "import pocketflow imported the SDK"
runtime = current_runtime()
if runtime.warming is None:
    print("nothing warmed")
else:
    runtime.warming.join(60)
    print("fakesdk" in sys.modules, sorted(runtime.warmed))
"""


def run(tmp_path: Path, **env: str) -> str:
    site = tmp_path / "site"
    site.mkdir()
    (site / "fakeplugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    (site / "fakeprovider.py").write_text(textwrap.dedent(PROVIDER), encoding="utf-8")
    (site / "fakesdk.py").write_text("READY = True\n", encoding="utf-8")
    info = site / "fakeplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pocketflow]\nfakeplugin = fakeplugin\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(site), "POCKETFLOW_LOAD_PLUGINS": "fakeplugin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_configured_vendor_sdk_is_imported_in_the_background(tmp_path: Path) -> None:
    assert run(tmp_path, POCKETFLOW_LLM="fake:model") == "True ['fake']"


def test_nothing_is_warmed_without_a_configured_model(tmp_path: Path) -> None:
    assert run(tmp_path) == "nothing warmed"
