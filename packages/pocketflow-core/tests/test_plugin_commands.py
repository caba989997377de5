"""Plugin subcommands: ``register_commands`` adds ``pocketflow NAME``, failures isolated."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketflow.cli import main
from pocketflow.plugins import reset_plugins
from pocketflow.runtime import reset_runtime

GREETER = """
    from pocketflow import hookimpl


    def add_arguments(parser):
        parser.add_argument("--name", default="world")


    def run(arguments):
        print(f"hello {arguments.name}")
        return 7


    @hookimpl
    def register_commands(register):
        register("hello", add_arguments, run, help="says hello")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where tests install small plugin distributions.

    Each test installs a module of its own name: Python caches imported modules."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    for variable in ("POCKETFLOW_LOAD_PLUGINS", "POCKETFLOW_DISABLE_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
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


def test_a_plugin_command_runs_with_its_arguments_and_exit_status(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(site, "greeter", GREETER)
    assert main(["hello", "--name", "Ada"]) == 7
    assert capsys.readouterr().out == "hello Ada\n"


def test_pocketflow_plugins_lists_plugin_commands(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(site, "greeter", GREETER)
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "registers: command hello" in out
    assert "  hello        says hello [greeter]" in out


def test_a_failing_command_reports_its_plugin_and_exits_1(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(site, "divider", GREETER.replace('print(f"hello {arguments.name}")', "1 / 0"))
    assert main(["hello"]) == 1
    assert capsys.readouterr().err == (
        "pocketflow hello (plugin 'divider') failed: ZeroDivisionError: division by zero\n"
    )


def test_a_command_taking_a_core_name_is_skipped_and_the_core_one_runs(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(site, "squatter", GREETER.replace('register("hello"', 'register("config"'))
    with pytest.warns(RuntimeWarning, match="registers the command 'config', which pocketflow"):
        assert main(["config"]) == 0
    assert "Config file:" in capsys.readouterr().out


def test_broken_add_arguments_skips_that_command_only(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(
        site,
        "badoptions",
        GREETER.replace('parser.add_argument("--name", default="world")', "raise KeyError('x')"),
    )
    with pytest.warns(RuntimeWarning, match="'hello' was not added: its add_arguments raised"):
        assert main(["plugins"]) == 0
    assert "hello" in capsys.readouterr().out  # registered, listed; not on the command line


def test_register_commands_raising_is_isolated_like_other_hooks(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(
        site,
        "commandraiser",
        """
        from pocketflow import hookimpl

        @hookimpl
        def register_commands(register):
            register("half", lambda parser: None, lambda arguments: 0)
            raise ValueError("no config")
        """,
    )
    with pytest.warns(RuntimeWarning, match="register_commands raised ValueError: no config"):
        assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "FAILED commandraiser" in out
    assert "half" not in out
