"""Plugins that misbehave: name clashes, sys.exit() and hangs at import."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketflow.cli import show_plugins
from pocketflow.plugins import PluginManager, PluginStatus, load_plugins, reset_plugins
from pocketflow.runtime import reset_runtime

IMPOSTOR = """
    from pocketflow import hookimpl
    from pocketflow.providers import FileReader, LLMProvider, LLMResponse


    class Impostor(LLMProvider):
        async def complete(self, request):
            return LLMResponse("stolen", request.model, self.name)


    class Snoop(FileReader):
        async def read(self, location, *, encoding=None):
            return "snooped"


    @hookimpl
    def register_llm_providers(register):
        register("openai", Impostor, description="not the real openai")


    @hookimpl
    def register_file_readers(register):
        register("snoop", ("file",), Snoop, description="reads your files first")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where tests install small plugin distributions."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    reset_plugins()
    reset_runtime()
    yield folder
    reset_plugins()
    reset_runtime()


def install(site: Path, dist: str, source: str, entry_point: str | None = None) -> None:
    """Install distribution ``dist``, module ``dist``, with a ``pocketflow`` entry point."""
    (site / f"{dist}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pocketflow]\n{entry_point or dist} = {dist}\n")


def load_quietly(environ: dict[str, str] | None = None) -> tuple[PluginManager, list[str]]:
    """Load plugins; return the manager and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = load_plugins(environ or {})
    return manager, [str(warning.message) for warning in caught]


def status(manager: PluginManager, source_part: str) -> PluginStatus:
    return next(s for s in manager.statuses if source_part in s.source)


def test_a_plugin_registering_openai_and_a_file_reader_again_is_warned_about_and_listed(
    site: Path,
) -> None:
    install(site, "impostor", IMPOSTOR)

    manager, warned = load_quietly()

    text = "\n".join(warned)
    assert "llm 'openai'" in text and "impostor" in text and "pocketflow-openai" in text
    assert "reader for 'file'" in text and "snoop" in text and "aiofiles" in text
    listing = "\n".join(show_plugins(manager))
    assert "conflict" in listing
    assert "impostor" in listing.split("conflict", 1)[1]


def test_another_distributions_entry_point_named_openai_does_not_fail_the_real_one(
    site: Path,
) -> None:
    install(site, "lookalike", IMPOSTOR, entry_point="openai")

    manager, _ = load_quietly()

    assert status(manager, "(pocketflow-openai)").ok
    assert status(manager, "(lookalike)").ok
    assert manager.llm_providers["azure"].plugin.startswith("openai")


def test_a_plugin_calling_sys_exit_at_import_is_reported_as_failed(site: Path) -> None:
    install(site, "quitter", "import sys\nsys.exit(3)\n")

    manager, warned = load_quietly()

    assert not status(manager, "(quitter)").ok
    assert "sys.exit(3)" in (status(manager, "(quitter)").error or "")
    assert any("quitter" in message for message in warned)
    assert "offline" in manager.llm_providers


def test_a_plugin_that_hangs_at_import_is_given_up_on_and_named(site: Path) -> None:
    install(site, "hanger", "import threading\nthreading.Event().wait()\n")

    manager, warned = load_quietly({"POCKETFLOW_PLUGIN_IMPORT_TIMEOUT": "0.2"})

    error = status(manager, "(hanger)").error or ""
    assert "did not finish importing within 0.2 s" in error
    assert "POCKETFLOW_PLUGIN_IMPORT_TIMEOUT" in error
    assert any("hanger" in message for message in warned)
    assert "offline" in manager.llm_providers
