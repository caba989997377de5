"""Plugin loading through real entry points (importlib.metadata), with isolation."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncNode, call_llm_async
from pocketflow.errors import PluginError
from pocketflow.plugins import load_plugins, reset_plugins
from pocketflow.runtime import reset_runtime

GOOD_PLUGIN = """
    from pocketflow import hookimpl
    from pocketflow.providers import LLMProvider, LLMResponse


    class Shouter(LLMProvider):
        async def complete(self, request):
            return LLMResponse(request.prompt.upper(), request.model, self.name)


    @hookimpl
    def register_llm_providers(register):
        register("shout", Shouter, description="answers in capitals")
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


def install(site: Path, name: str, source: str) -> None:
    """Install distribution ``name`` with module ``name`` and a ``pocketflow`` entry point."""
    (site / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pocketflow]\n{name} = {name}\n")


def status_of(manager: object, name: str) -> object:
    return next(s for s in manager.statuses if s.name == name)  # type: ignore[attr-defined]


def test_entry_point_plugin_registers_a_provider(site: Path) -> None:
    install(site, "shoutplug", GOOD_PLUGIN)
    manager = load_plugins({})
    assert manager.llm_providers["shout"].plugin == "shoutplug"
    assert status_of(manager, "shoutplug").registered == ["llm shout"]  # type: ignore[attr-defined]


def test_entry_point_plugin_answers_through_the_facade(
    site: Path, pocketflow_env: pytest.MonkeyPatch
) -> None:
    install(site, "shoutplug", GOOD_PLUGIN)
    assert asyncio.run(call_llm_async("hello", model="shout:any")) == "HELLO"


def test_broken_plugin_warns_and_others_still_load(site: Path) -> None:
    install(site, "brokenplug", "import not_a_module_anywhere\n")
    install(site, "shoutplug", GOOD_PLUGIN)
    with pytest.warns(RuntimeWarning, match="plugin 'brokenplug' was not loaded: import failed"):
        manager = load_plugins({})
    assert "shout" in manager.llm_providers
    assert not status_of(manager, "brokenplug").ok  # type: ignore[attr-defined]
    assert "ModuleNotFoundError" in status_of(manager, "brokenplug").error  # type: ignore[attr-defined]


def test_strict_mode_makes_a_broken_plugin_fatal(site: Path) -> None:
    install(site, "brokenplug", "raise RuntimeError('boom')\n")
    with pytest.raises(PluginError, match=r"brokenplug.*boom.*strict mode"):
        load_plugins({"POCKETFLOW_STRICT_PLUGINS": "1"})


def test_plugin_raising_while_registering_is_isolated(site: Path) -> None:
    install(
        site,
        "raiser",
        """
        from pocketflow import hookimpl

        @hookimpl
        def register_llm_providers(register):
            register("half", object)
            raise ValueError("no config")
        """,
    )
    with pytest.warns(RuntimeWarning, match="register_llm_providers raised ValueError: no config"):
        manager = load_plugins({})
    assert "half" not in manager.llm_providers
    assert "offline" in manager.llm_providers


def test_misspelled_hook_is_caught_with_a_suggestion(site: Path) -> None:
    install(
        site,
        "typo",
        """
        from pocketflow import hookimpl

        @hookimpl
        def register_llm_provider(register):
            pass
        """,
    )
    with pytest.warns(RuntimeWarning, match="Did you mean 'register_llm_providers'"):
        manager = load_plugins({})
    assert not status_of(manager, "typo").ok  # type: ignore[attr-defined]


def test_load_plugins_variable_loads_only_those(site: Path) -> None:
    install(site, "shoutplug", GOOD_PLUGIN)
    install(site, "brokenplug", "import not_a_module_anywhere\n")
    manager = load_plugins({"POCKETFLOW_LOAD_PLUGINS": "shoutplug"})
    names = [s.name for s in manager.statuses]
    assert names == ["shoutplug", "builtins"]


def test_disable_plugins_variable_skips_those(site: Path) -> None:
    install(site, "shoutplug", GOOD_PLUGIN)
    manager = load_plugins({"POCKETFLOW_DISABLE_PLUGINS": "shoutplug, openai"})
    names = {s.name for s in manager.statuses}
    assert "shoutplug" not in names
    assert "openai" not in names
    assert "builtins" in names


def test_builtins_register_last_so_a_plugin_can_replace_one(site: Path) -> None:
    install(
        site,
        "myoffline",
        GOOD_PLUGIN.replace('register("shout"', 'register("offline"'),
    )
    with pytest.warns(RuntimeWarning, match="llm 'offline' is registered twice"):
        manager = load_plugins({})
    assert manager.statuses[-1].name == "builtins"
    assert manager.llm_providers["offline"].plugin == "myoffline"


def test_node_observer_plugin_sees_every_step(
    site: Path, pocketflow_env: pytest.MonkeyPatch
) -> None:
    install(
        site,
        "tracer",
        """
        from pocketflow import hookimpl

        events = []

        @hookimpl
        def node_started(node, shared):
            events.append(("start", type(node).__name__))

        @hookimpl
        def node_finished(node, shared, action, error):
            events.append(("finish", type(node).__name__, action))
        """,
    )

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return await call_llm_async("hi", model="offline:echo")

        async def post_async(self, shared: dict[str, Any], prep_res: object, exec_res: str) -> str:
            return "done"

    asyncio.run(AsyncFlow(start=Ask()).run_async({}))
    import tracer  # type: ignore[import-not-found]

    assert tracer.events == [("start", "Ask"), ("finish", "Ask", "done")]


def test_llm_call_observer_gets_usage_and_duration(
    site: Path, pocketflow_env: pytest.MonkeyPatch
) -> None:
    install(
        site,
        "meter",
        """
        from pocketflow import hookimpl

        records = []

        @hookimpl
        def llm_call_finished(record):
            records.append(record)
        """,
    )
    asyncio.run(call_llm_async("one two three", model="offline:echo"))
    import meter  # type: ignore[import-not-found]

    (record,) = meter.records
    assert record.model == "offline:echo"
    assert record.response.usage.input_tokens == 3
    assert record.duration >= 0
    assert record.error is None
