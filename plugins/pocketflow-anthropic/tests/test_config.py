"""Configuration: the key, its variable, the provider table, the client's lifetime,
and the plugin's listing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import anthropic
import pytest
import respx
from anthropic_fakes import Runner, error_json, message_json

import pocketflow
from pocketflow import call_llm_async, complete_async
from pocketflow.cli import main as pocketflow_cli
from pocketflow.errors import AuthenticationError, ConfigError, MissingKeyError


def test_a_missing_key_names_the_variable(
    pocketflow_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")

    with pytest.raises(MissingKeyError, match="environment variable ANTHROPIC_API_KEY is not set"):
        run(call_llm_async("Hi"))
    assert not messages_api.called


def test_api_key_env_in_pocketflow_toml_is_honoured(
    pocketflow_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")
    pocketflow_env.setenv("TEAM_CLAUDE_KEY", "sk-ant-team-key")
    Path("pocketflow.toml").write_text('[providers.anthropic]\napi_key_env = "TEAM_CLAUDE_KEY"\n')
    messages_api.respond(json=message_json())

    run(call_llm_async("Hi"))

    headers = messages_api.calls.last.request.headers
    assert "sk-ant-team-key" in headers.get("x-api-key", headers.get("authorization", ""))


def test_a_missing_named_key_names_that_variable(
    pocketflow_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")
    pocketflow_env.setenv("ANTHROPIC_API_KEY", "sk-ant-not-this-one")
    Path("pocketflow.toml").write_text('[providers.anthropic]\napi_key_env = "TEAM_CLAUDE_KEY"\n')

    with pytest.raises(MissingKeyError, match="TEAM_CLAUDE_KEY is not set"):
        run(call_llm_async("Hi"))


def test_a_401_names_the_configured_key_variable(
    pocketflow_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")
    pocketflow_env.setenv("TEAM_CLAUDE_KEY", "sk-ant-team-key")
    Path("pocketflow.toml").write_text('[providers.anthropic]\napi_key_env = "TEAM_CLAUDE_KEY"\n')
    messages_api.respond(401, json=error_json("authentication_error", "invalid x-api-key"))

    with pytest.raises(AuthenticationError, match="TEAM_CLAUDE_KEY") as caught:
        run(call_llm_async("Hi"))
    assert "sk-ant-team-key" not in str(caught.value)


def test_a_provider_of_kind_anthropic_under_another_name(
    pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "claude-eu:claude-haiku-4-5")
    pocketflow_env.setenv("EU_KEY", "sk-ant-eu")
    Path("pocketflow.toml").write_text(
        '[providers.claude-eu]\nkind = "anthropic"\napi_key_env = "EU_KEY"\n'
        'base_url = "https://eu.claude.example"\n'
    )
    route = vendor_http.post("https://eu.claude.example/v1/messages").respond(json=message_json())

    response = run(complete_async("Hi"))

    assert route.call_count == 1
    assert response.provider == "claude-eu"


def test_max_tokens_of_the_wrong_type_is_a_config_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text('[providers.anthropic]\nmax_tokens = "lots"\n')

    with pytest.raises(ConfigError, match=r"\[providers.anthropic\]: 'max_tokens' must be a int"):
        run(call_llm_async("Hi"))


def test_max_tokens_of_zero_is_a_config_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text("[providers.anthropic]\nmax_tokens = 0\n")

    with pytest.raises(ConfigError, match="'max_tokens' must be greater than 0"):
        run(call_llm_async("Hi"))


def test_an_unknown_key_in_the_table_is_a_config_error(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text("[providers.anthropic]\nmax_token = 100\n")

    with pytest.raises(ConfigError, match=r"unknown key 'max_token'.*max_tokens"):
        run(call_llm_async("Hi"))


def test_a_few_clients_serve_a_hundred_calls(
    anthropic_env: pytest.MonkeyPatch,
    messages_api: respx.Route,
    made_clients: list[anthropic.AsyncAnthropic],
) -> None:
    messages_api.respond(json=message_json("ok"))

    async def main() -> list[str]:
        try:
            return await asyncio.gather(*(call_llm_async(f"Question {n}") for n in range(100)))
        finally:
            await pocketflow.aclose()

    answers = asyncio.run(main())

    assert answers == ["ok"] * 100
    assert messages_api.call_count == 100
    # 64 calls in flight at most (max_concurrency), 32 connections a client: at most 2.
    assert 1 <= len(made_clients) <= 2


def test_aclose_closes_the_client(
    anthropic_env: pytest.MonkeyPatch,
    messages_api: respx.Route,
    made_clients: list[anthropic.AsyncAnthropic],
) -> None:
    messages_api.respond(json=message_json("ok"))

    async def main() -> None:
        await call_llm_async("Hi")
        await pocketflow.aclose()

    asyncio.run(main())

    assert len(made_clients) == 1
    assert made_clients[0].is_closed()


def test_each_event_loop_gets_its_own_client(
    anthropic_env: pytest.MonkeyPatch,
    messages_api: respx.Route,
    made_clients: list[anthropic.AsyncAnthropic],
) -> None:
    messages_api.respond(json=message_json("ok"))

    asyncio.run(call_llm_async("On the first loop"))
    asyncio.run(call_llm_async("On the second loop"))

    assert len(made_clients) == 2
    asyncio.run(made_clients[0].close())


def test_pocketflow_plugins_lists_anthropic(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pocketflow_cli(["plugins"]) == 0

    output = capsys.readouterr().out
    assert "registers: llm anthropic" in output
    assert re.search(r"anthropic\s+Anthropic Claude models via the Messages API", output)


def test_importing_the_plugin_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pocketflow_anthropic.plugin; "
        "print('anthropic' in sys.modules, 'pocketflow_anthropic.provider' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False"]
