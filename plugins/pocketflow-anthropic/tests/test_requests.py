"""What the provider sends to the Messages API: headers and JSON body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from anthropic_fakes import API_KEY, Runner, message_json

from pocketflow import Message, complete_async


def sent_body(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


def sent_key(route: respx.Route) -> str | None:
    """The API key as the SDK sent it: ``x-api-key``, or a bearer token (anthropic 2.14)."""
    headers = route.calls.last.request.headers
    if "x-api-key" in headers:
        return str(headers["x-api-key"])
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return token if scheme == "Bearer" else None


def test_the_key_and_the_api_version_are_sent(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert sent_key(messages_api) == API_KEY
    assert messages_api.calls.last.request.headers["anthropic-version"]


def test_the_sdk_does_not_retry_by_itself(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert messages_api.calls.last.request.headers["x-stainless-retry-count"] == "0"


def test_a_prompt_string_is_one_user_message(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Summarize: the text"))

    body = sent_body(messages_api)
    assert body["model"] == "claude-haiku-4-5"
    assert body["messages"] == [{"role": "user", "content": "Summarize: the text"}]
    assert "stream" not in body


def test_system_messages_are_lifted_into_system(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]

    run(complete_async(prompt))

    body = sent_body(messages_api)
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Hi"}]


def test_consecutive_messages_of_one_role_are_merged(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())
    prompt = [
        Message("user", "First part."),
        Message("user", "Second part."),
        Message("assistant", "Noted."),
        Message("assistant", "Anything else?"),
        Message("user", "Go on."),
    ]

    run(complete_async(prompt))

    assert sent_body(messages_api)["messages"] == [
        {"role": "user", "content": "First part.\n\nSecond part."},
        {"role": "assistant", "content": "Noted.\n\nAnything else?"},
        {"role": "user", "content": "Go on."},
    ]


def test_a_leading_assistant_message_gets_a_user_turn_before_it(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())
    prompt = [Message("assistant", "Hello, how can I help?"), Message("user", "Tell a joke.")]

    run(complete_async(prompt))

    assert sent_body(messages_api)["messages"] == [
        {"role": "user", "content": "."},
        {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "Tell a joke."},
    ]


def test_max_tokens_defaults_to_4096(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert sent_body(messages_api)["max_tokens"] == 4096


def test_max_tokens_comes_from_the_call(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi", max_tokens=300))

    assert sent_body(messages_api)["max_tokens"] == 300


def test_max_tokens_default_comes_from_the_config_file(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text("[providers.anthropic]\nmax_tokens = 1024\n")
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert sent_body(messages_api)["max_tokens"] == 1024


def test_stop_temperature_and_an_option_are_sent(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(
        complete_async(
            "Hi",
            stop=["\n\nHuman:", "END"],
            temperature=0.2,
            metadata={"user_id": "user-42"},
            top_k=5,
        )
    )

    body = sent_body(messages_api)
    assert body["stop_sequences"] == ["\n\nHuman:", "END"]
    assert body["temperature"] == 0.2
    assert body["metadata"] == {"user_id": "user-42"}
    assert body["top_k"] == 5


def test_a_seed_is_not_sent(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi", seed=7))

    assert "seed" not in sent_body(messages_api)


def test_unset_parameters_are_not_sent(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert set(sent_body(messages_api)) == {"model", "max_tokens", "messages"}


def test_stream_cannot_be_passed_as_an_option(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    with pytest.raises(ValueError, match="stream_llm_async"):
        run(complete_async("Hi", stream=True))
    assert not messages_api.called


def test_headers_from_the_config_file_are_sent(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text(
        '[providers.anthropic]\nheaders = { "anthropic-beta" = "example-2025-01-01" }\n'
    )
    messages_api.respond(json=message_json())

    run(complete_async("Hi"))

    assert messages_api.calls.last.request.headers["anthropic-beta"] == "example-2025-01-01"


def test_base_url_comes_from_the_config_file(
    anthropic_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    Path("pocketflow.toml").write_text(
        '[providers.anthropic]\nbase_url = "https://claude-proxy.example/anthropic"\n'
    )
    route = vendor_http.post("https://claude-proxy.example/anthropic/v1/messages")
    route.respond(json=message_json())

    run(complete_async("Hi"))

    assert route.call_count == 1


def test_base_url_comes_from_anthropic_base_url(
    anthropic_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    anthropic_env.setenv("ANTHROPIC_BASE_URL", "https://gateway.example")
    route = vendor_http.post("https://gateway.example/v1/messages")
    route.respond(json=message_json())

    run(complete_async("Hi"))

    assert route.call_count == 1


def test_workspace_id_and_extra_headers_are_sent_as_headers(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi", workspace_id="wrkspc_1", extra_headers={"anthropic-beta": "b-1"}))

    headers = messages_api.calls.last.request.headers
    assert (headers["anthropic-workspace-id"], headers["anthropic-beta"]) == ("wrkspc_1", "b-1")
    assert "workspace_id" not in sent_body(messages_api)


def test_extra_body_is_merged_over_the_mapped_body(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi", temperature=0.2, extra_body={"temperature": 0.7, "top_p": 0.9}))

    body = sent_body(messages_api)
    assert (body["temperature"], body["top_p"]) == (0.7, 0.9)


def test_extra_query_is_sent_in_the_url(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json())

    run(complete_async("Hi", extra_query={"beta": "true"}))

    assert messages_api.calls.last.request.url.params["beta"] == "true"


def test_a_deprecated_model_gives_the_sdks_deprecation_warning(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    from anthropic._data import DEPRECATED_MODELS

    if not DEPRECATED_MODELS:
        pytest.skip("the installed SDK lists no deprecated model")
    model = next(iter(DEPRECATED_MODELS))
    messages_api.respond(json=message_json())

    with pytest.warns(DeprecationWarning, match=f"The model '{model}' is deprecated"):
        run(complete_async("Hi", model=f"anthropic:{model}"))
