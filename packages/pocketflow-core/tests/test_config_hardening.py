"""Configuration a newcomer or an attacker gets wrong: each is a ConfigError that helps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pocketflow import complete_async
from pocketflow.cli import main
from pocketflow.errors import ConfigError
from pocketflow.plugins import reset_plugins


def answered_by(model: str) -> str:
    response = asyncio.run(complete_async("hi", model=model))
    return f"{response.provider}:{response.model}"


@pytest.mark.parametrize("key", ["timeout", "requests_per_minute"])
def test_nan_in_a_provider_table_names_the_file_and_key(
    pocketflow_env: pytest.MonkeyPatch, key: str
) -> None:
    path = Path("pocketflow.toml")
    path.write_text(f"[providers.offline]\n{key} = nan\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=rf"\[providers.offline\] '{key}' must be a number"):
        answered_by("offline:echo")


def test_a_config_file_that_is_not_utf8_names_the_file(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    path = Path("pocketflow.toml")
    path.write_bytes(b'llm = "offline:\xe9cho"\n')

    with pytest.raises(ConfigError, match=r"not UTF-8 .*byte 15") as caught:
        answered_by("offline:echo")
    assert str(path.resolve()) in str(caught.value)


def test_an_unknown_offline_model_is_an_error_naming_the_offline_models(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match=r"offline:foo.*summarize, echo, scripted"):
        answered_by("offline:foo")


def test_pocketflow_models_lists_the_offline_models_and_their_settings(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models"]) == 0

    out = capsys.readouterr().out
    assert "offline:summarize" in out and "offline:echo" in out and "offline:scripted" in out
    assert "replies" in out and "rules" in out


def test_a_misspelled_kind_suggests_the_installed_one(pocketflow_env: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text('[providers.mine]\nkind = "ofline"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"kind = \"ofline\".*Did you mean 'offline'\?"):
        answered_by("mine:echo")


def test_a_provider_table_without_kind_says_kind_is_missing(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    Path("pocketflow.toml").write_text(
        '[providers.mistral]\nbase_url = "https://api.mistral.example/v1"\n', encoding="utf-8"
    )

    with pytest.raises(ConfigError, match=r"\[providers.mistral\] .*has no kind") as caught:
        answered_by("mistral:small")
    assert "not installed" not in str(caught.value)
    assert 'kind = "openai"' in str(caught.value)


def test_an_unknown_kind_says_how_to_install_from_this_repository(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    pocketflow_env.setenv("POCKETFLOW_DISABLE_PLUGINS", "anthropic")
    reset_plugins()
    try:
        with pytest.raises(ConfigError, match=r"pocketflow-anthropic") as caught:
            answered_by("anthropic:claude-haiku-4-5")
    finally:
        pocketflow_env.delenv("POCKETFLOW_DISABLE_PLUGINS")
        reset_plugins()
    message = str(caught.value)
    assert "plugins/pocketflow-anthropic" in message
    assert "not published" in message


def test_a_missing_console_plugin_says_how_to_install_it_from_this_repository(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    from pocketflow import gather_user_feedback

    pocketflow_env.setenv("POCKETFLOW_DISABLE_PLUGINS", "console")
    reset_plugins()
    try:
        with pytest.raises(ConfigError, match=r"plugins/pocketflow-console") as caught:
            asyncio.run(gather_user_feedback("draft"))
    finally:
        pocketflow_env.delenv("POCKETFLOW_DISABLE_PLUGINS")
        reset_plugins()
    assert "POCKETFLOW_FEEDBACK=auto" in str(caught.value)
