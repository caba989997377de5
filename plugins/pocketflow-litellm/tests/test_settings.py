"""The core's provider settings reach LiteLLM: base URL, key variable, headers, options."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from wires import chat_completion

from pocketflow import call_llm_async
from pocketflow.errors import ConfigError, MissingKeyError

Run = Callable[..., Any]
PROXY = "https://llm-proxy.example/v1/chat/completions"
MODEL = "litellm:mistral/mistral-large-latest"


def configure(table: str) -> None:
    Path("pocketflow.toml").write_text(f"[providers.litellm]\n{table}\n", encoding="utf-8")


def test_base_url_key_variable_headers_and_options_are_sent(
    litellm_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Run
) -> None:
    configure(
        'base_url = "https://llm-proxy.example/v1"\napi_key_env = "TEAM_MISTRAL_KEY"\n'
        'headers = { "x-team" = "search" }'
    )
    litellm_env.setenv("TEAM_MISTRAL_KEY", "sk-team-0123456789")
    reply = httpx.Response(200, json=chat_completion("ok"))
    route = vendor_http.post(PROXY).mock(return_value=reply)
    assert run(call_llm_async("Hi", model=MODEL, top_p=0.5, temperature=0.1)) == "ok"
    request = route.calls[0].request
    assert request.headers["authorization"] == "Bearer sk-team-0123456789"
    assert request.headers["x-team"] == "search"
    body = json.loads(request.content)
    assert (body["top_p"], body["temperature"]) == (0.5, 0.1)


def test_a_named_key_variable_that_is_unset(
    litellm_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Run
) -> None:
    configure('api_key_env = "TEAM_MISTRAL_KEY"')
    with pytest.raises(MissingKeyError, match="TEAM_MISTRAL_KEY is not set"):
        run(call_llm_async("Hi", model=MODEL))


def test_a_kind_litellm_provider_under_its_own_name(
    litellm_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Run
) -> None:
    Path("pocketflow.toml").write_text(
        'llm = "mistral:mistral/mistral-large-latest"\n\n[providers.mistral]\nkind = "litellm"\n',
        encoding="utf-8",
    )
    litellm_env.setenv("MISTRAL_API_KEY", "sk-mistral-0123456789")
    vendor_http.post("https://api.mistral.ai/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion("via mistral:"))
    )
    assert run(call_llm_async("Hi")) == "via mistral:"


def test_max_embedding_inputs_must_be_positive(litellm_env: pytest.MonkeyPatch, run: Run) -> None:
    configure("max_embedding_inputs = 0")
    with pytest.raises(ConfigError, match=r"\[providers.litellm\] 'max_embedding_inputs' must be"):
        run(call_llm_async("Hi", model=MODEL))
