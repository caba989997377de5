"""What a model can do comes from LiteLLM's model table, and a call made before the
table is loaded is checked against it before anything is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from wires import MISTRAL_URL, chat_completion

from pocketflow import call_llm_async, complete_async
from pocketflow.errors import UnsupportedRequestError
from pocketflow.runtime import current_runtime
from pocketflow_litellm import provider as provider_module
from pocketflow_litellm.loader import LiteLLMLoader

Run = Callable[..., Any]
LARGE = "litellm:mistral/mistral-large-latest"
PLAIN = "litellm:mistral/codestral-mamba-latest"
"""In LiteLLM's table without function calling or response schemas."""
INSTRUCTION = "Reply with only a JSON value"
"""How the core asks for structured output in the prompt."""


@dataclass
class Verdict:
    """Whether a claim holds."""

    claim: str
    holds: bool


def lookup(city: str) -> str:
    """Look a city up."""
    return city


@pytest.fixture(autouse=True)
def key(litellm_env: pytest.MonkeyPatch) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", "sk-test-capabilities")


def capabilities(model: str) -> Any:
    provider = current_runtime().provider("litellm").provider
    return provider.capabilities_for(model)


def test_a_model_the_table_knows_well() -> None:
    found = capabilities("mistral/mistral-large-latest")
    assert (found.structured_output, found.tools, found.embeddings) == ("json_schema", True, False)
    assert found.parts == {"text", "image", "tool_call", "tool_result"}


def test_a_model_without_tools_or_schemas_in_the_table() -> None:
    found = capabilities("mistral/codestral-mamba-latest")
    assert (found.structured_output, found.tools, found.parts) == ("prompt", False, {"text"})


def test_an_embedding_model_and_its_batch_size(litellm_env: pytest.MonkeyPatch) -> None:
    with open("pocketflow.toml", "w") as config:
        config.write("[providers.litellm]\nmax_embedding_inputs = 16\n")
    found = capabilities("mistral/mistral-embed")
    assert (found.embeddings, found.max_embedding_inputs) == (True, 16)


def test_a_model_the_table_does_not_know_is_taken_at_its_word() -> None:
    found = capabilities("openai/my-fine-tune")
    assert (found.structured_output, found.tools, found.embeddings) == ("prompt", True, True)


def test_native_structured_output_is_a_json_schema_response_format(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    answer = json.dumps({"claim": "c", "holds": True})
    route = vendor_http.post(MISTRAL_URL).mock(return_value=_reply(answer))
    assert run(call_llm_async("Is it?", model=LARGE, output=Verdict)) == Verdict("c", True)
    body = json.loads(route.calls[0].request.content)
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["claim", "holds"]


def test_structured_output_goes_in_the_prompt_where_the_model_has_no_schemas(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    answer = json.dumps({"claim": "c", "holds": False})
    route = vendor_http.post(MISTRAL_URL).mock(return_value=_reply(answer))
    assert run(call_llm_async("Is it?", model=PLAIN, output=Verdict)) == Verdict("c", False)
    body = json.loads(route.calls[0].request.content)
    assert "response_format" not in body
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].count(INSTRUCTION) == 1


def test_tools_for_a_model_without_them_are_refused_before_sending(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    route = vendor_http.post(MISTRAL_URL)
    with pytest.raises(UnsupportedRequestError, match="does not support tools; nothing was sent"):
        run(complete_async("Paris?", model=PLAIN, tools=[lookup]))
    assert route.call_count == 0


@pytest.fixture
def slow_table(monkeypatch: pytest.MonkeyPatch, litellm_module: ModuleType) -> threading.Event:
    """litellm still importing when the call is checked; set the event to finish it."""
    release = threading.Event()

    def importing() -> ModuleType:
        release.wait(timeout=10)
        return litellm_module

    monkeypatch.setattr(provider_module, "LOADER", LiteLLMLoader(importing))
    return release


def test_a_call_checked_before_the_table_loaded_is_checked_again(
    slow_table: threading.Event, vendor_http: respx.MockRouter, run: Run
) -> None:
    assert capabilities("mistral/codestral-mamba-latest").structured_output == "json_schema"
    answer = json.dumps({"claim": "c", "holds": True})
    route = vendor_http.post(MISTRAL_URL).mock(return_value=_reply(answer))
    threading.Timer(0.2, slow_table.set).start()
    assert run(call_llm_async("Is it?", model=PLAIN, output=Verdict)) == Verdict("c", True)
    body = json.loads(route.calls[0].request.content)
    assert "response_format" not in body
    assert body["messages"][0]["content"].count(INSTRUCTION) == 1
    assert capabilities("mistral/codestral-mamba-latest").structured_output == "prompt"


def test_tools_checked_before_the_table_loaded_are_refused_once_it_is(
    slow_table: threading.Event, vendor_http: respx.MockRouter, run: Run
) -> None:
    route = vendor_http.post(MISTRAL_URL)
    threading.Timer(0.2, slow_table.set).start()
    with pytest.raises(UnsupportedRequestError, match="does not support tools"):
        run(complete_async("Paris?", model=PLAIN, tools=[lookup]))
    assert route.call_count == 0


def _reply(text: str) -> httpx.Response:
    return httpx.Response(200, json=chat_completion(text))
