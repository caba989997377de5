"""Where calls go and with which key: OpenAI, named compatible endpoints, keyless servers, Azure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx
from openai_fakes import CHAT_URL, SECRET, Runner, chat_completion

from pocketflow import call_llm_async, complete_async
from pocketflow.errors import ConfigError, MissingKeyError

DEEPSEEK_KEY = "dsk-test-deepseek-key"
AZURE_KEY = "azure-test-key-0123"

DEEPSEEK_TOML = """
[providers.deepseek]
kind = "openai"
base_url = "https://api.deepseek.test/v1"
api_key_env = "DEEPSEEK_API_KEY"
"""

OLLAMA_TOML = """
[providers.ollama]
kind = "openai"
base_url = "http://localhost:11434/v1"
require_key = false
"""

AZURE_TOML = """
[providers.azure]
base_url = "https://example-resource.openai.azure.com"
api_version = "2024-10-21"
deployment = "gpt4o-prod"
"""


def write_config(text: str) -> None:
    Path("pocketflow.toml").write_text(text, encoding="utf-8")


def test_a_named_endpoint_gets_its_own_url_and_key(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(DEEPSEEK_TOML)
    openai_env.setenv("DEEPSEEK_API_KEY", DEEPSEEK_KEY)
    route = vendor_http.post("https://api.deepseek.test/v1/chat/completions").respond(
        json=chat_completion("Hi from DeepSeek.", model="deepseek-chat")
    )

    response = run(complete_async("hi", model="deepseek:deepseek-chat"))

    assert (response.text, response.provider) == ("Hi from DeepSeek.", "deepseek")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {DEEPSEEK_KEY}"
    assert json.loads(route.calls.last.request.content)["model"] == "deepseek-chat"


def test_a_named_endpoint_sends_max_tokens(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(DEEPSEEK_TOML)
    openai_env.setenv("DEEPSEEK_API_KEY", DEEPSEEK_KEY)
    route = vendor_http.post("https://api.deepseek.test/v1/chat/completions").respond(
        json=chat_completion()
    )

    run(call_llm_async("hi", model="deepseek:deepseek-chat", max_tokens=50))

    assert json.loads(route.calls.last.request.content)["max_tokens"] == 50


def test_a_named_endpoint_never_gets_the_openai_account_ids(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(DEEPSEEK_TOML)
    openai_env.setenv("DEEPSEEK_API_KEY", DEEPSEEK_KEY)
    openai_env.setenv("OPENAI_ORG_ID", "org-mine")
    openai_env.setenv("OPENAI_PROJECT_ID", "proj_mine")
    route = vendor_http.post("https://api.deepseek.test/v1/chat/completions").respond(
        json=chat_completion()
    )

    run(call_llm_async("hi", model="deepseek:deepseek-chat"))

    headers = route.calls.last.request.headers
    assert "openai-organization" not in headers and "openai-project" not in headers


def test_a_named_endpoint_without_its_key_names_its_variable(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(DEEPSEEK_TOML)

    with pytest.raises(MissingKeyError, match="DEEPSEEK_API_KEY is not set"):
        run(call_llm_async("hi", model="deepseek:deepseek-chat"))


def test_openai_sends_the_account_ids_from_the_environment(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("OPENAI_ORG_ID", "org-mine")
    openai_env.setenv("OPENAI_PROJECT_ID", "proj_mine")
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi"))

    headers = route.calls.last.request.headers
    assert (headers["openai-organization"], headers["openai-project"]) == ("org-mine", "proj_mine")


def test_configured_headers_are_sent(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config('[providers.openai]\nheaders = { "X-Team" = "research" }\n')
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi"))

    assert route.calls.last.request.headers["x-team"] == "research"


def test_openai_base_url_from_the_environment(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("OPENAI_BASE_URL", "https://gateway.example.test/openai/v1")
    route = vendor_http.post("https://gateway.example.test/openai/v1/chat/completions").respond(
        json=chat_completion("Via the gateway.")
    )

    assert run(call_llm_async("hi")) == "Via the gateway."
    assert route.call_count == 1


def test_a_keyless_local_server_gets_a_placeholder_not_the_openai_key(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(OLLAMA_TOML)
    route = vendor_http.post("http://localhost:11434/v1/chat/completions").respond(
        json=chat_completion("Local answer.", model="llama3:8b")
    )

    assert run(call_llm_async("hi", model="ollama:llama3:8b")) == "Local answer."
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer no-key-required"
    assert SECRET not in request.headers["authorization"]
    assert json.loads(request.content)["model"] == "llama3:8b"


def test_azure_calls_the_deployment_with_the_api_version_and_api_key(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config(AZURE_TOML)
    openai_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    route = vendor_http.post(
        "https://example-resource.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions",
        params={"api-version": "2024-10-21"},
    ).respond(json=chat_completion("From Azure."))

    response = run(complete_async("hi", model="azure:gpt-4o"))

    assert (response.text, response.provider) == ("From Azure.", "azure")
    headers = route.calls.last.request.headers
    assert headers["api-key"] == AZURE_KEY
    assert "authorization" not in headers


def test_azure_without_a_deployment_uses_the_model_as_deployment(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    openai_env.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com/")
    route = vendor_http.post(
        "https://example-resource.openai.azure.com/openai/deployments/my-mini/chat/completions"
    ).respond(json=chat_completion("From Azure."))

    assert run(call_llm_async("hi", model="azure:my-mini")) == "From Azure."
    assert route.calls.last.request.url.params["api-version"] == "2024-10-21"


def test_azure_without_an_endpoint_says_where_to_set_one(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)

    with pytest.raises(
        ConfigError, match=r"set base_url under \[providers.azure\].*AZURE_OPENAI_ENDPOINT"
    ):
        run(call_llm_async("hi", model="azure:my-mini"))


def test_a_wrong_max_tokens_param_is_a_config_error(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    write_config('[providers.openai]\nmax_tokens_param = "max_output_tokens"\n')

    with pytest.raises(ConfigError, match="'max_tokens_param' must be \"max_tokens\" or"):
        run(call_llm_async("hi"))
