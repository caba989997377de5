"""The pocketflow command: plugins, models and config, as a newcomer reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pocketflow.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_plugins_lists_builtins_and_what_they_register(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "plugins")
    assert "builtins" in out
    assert (
        "registers: llm offline, feedback auto, feedback inbox, feedback llm-judge, "
        "store sqlite, store memory"
    ) in out
    assert "  sqlite       [sqlite] runs in a local SQLite file" in out
    assert "LLM providers (use as provider:model):" in out


def test_models_shows_default_alias_and_sources(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pocketflow.toml").write_text(
        'llm = "fast"\nfallbacks = ["offline:echo"]\n[aliases]\nfast = "offline:summarize"\n'
        '[providers.local]\nkind = "missingkind"\n'
    )
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    out = run(capsys, "models")
    assert "Default model: offline:echo    [environment POCKETFLOW_LLM]" in out
    assert "fast -> offline:summarize" in out
    assert "Fallbacks: offline:echo" in out
    assert "local        kind missingkind: NOT INSTALLED" in out


def test_config_shows_keys_as_set_or_unset_never_their_value(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pocketflow.toml").write_text('[providers.deepseek]\napi_key_env = "DEEPSEEK_KEY"\n')
    pocketflow_env.setenv("DEEPSEEK_KEY", "sk-secret-value")
    pocketflow_env.setenv("OPENAI_API_KEY", "sk-other-secret")
    out = run(capsys, "config")
    assert "api_key_env = 'DEEPSEEK_KEY' (DEEPSEEK_KEY set)" in out
    assert "OPENAI_API_KEY: set" in out
    assert "ANTHROPIC_API_KEY: unset" in out
    assert "secret" not in out


def test_config_error_is_reported_with_exit_status_2(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pocketflow.toml").write_text("llm = 3\n")
    assert main(["config"]) == 2
    assert "'llm' must be a model string" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pocketflow", "plugins"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "Plugins (entry-point group 'pocketflow'" in result.stdout


def test_config_refuses_to_show_secrets_put_in_a_config_file(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pocketflow.toml").write_text(
        '[providers.openai]\napi_key = "sk-live-123"\n'
        'headers = { Authorization = "Bearer tok-456", "X-Team" = "blue" }\n'
        '[readers.http]\nheaders = { "X-Api-Key" = "k-789", "User-Agent" = "app/1" }\n'
    )
    out = run(capsys, "config")
    for secret in ("sk-live-123", "tok-456", "k-789"):
        assert secret not in out
    assert "api_key = (hidden: a secret in a config file" in out
    assert "api_key_env" in out.split("api_key = (hidden")[1].splitlines()[0]
    assert "'X-Team': 'blue'" in out
    assert "'User-Agent': 'app/1'" in out
