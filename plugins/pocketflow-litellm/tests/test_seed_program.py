"""SummarizeThenVerify, the example's own code unchanged, on ``litellm:`` models chosen
by pocketflow.toml alone, against mocked vendor HTTP whose request bodies are asserted."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from wires import ANTHROPIC_URL, MISTRAL_URL, chat_completion, message_json

from pocketflow import track_usage

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "summarize_then_verify" / "flow.py"
DOCUMENT = "Otters hold hands while sleeping. They use rocks as tools."


def example_flow() -> ModuleType:
    spec = importlib.util.spec_from_file_location("litellm_summarize_flow", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def document(litellm_env: pytest.MonkeyPatch) -> Path:
    litellm_env.setenv("MISTRAL_API_KEY", "sk-test-mistral-seed")
    litellm_env.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic-seed")
    path = Path("otters.txt")
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def run_flow(document: Path) -> tuple[dict[str, Any], Any]:
    flow = example_flow().build_flow()
    shared: dict[str, Any] = {"doc_path": str(document), "max_attempts": 3}

    async def scenario() -> None:
        import pocketflow

        try:
            await flow.run_async(shared)
        finally:
            await pocketflow.aclose()

    with track_usage() as usage:
        asyncio.run(scenario())
    return shared, usage


def configure(model: str) -> None:
    Path("pocketflow.toml").write_text(f'llm = "{model}"\nfeedback = "auto:deny,approve"\n')


def test_on_mistral_through_litellm_deny_once_then_approve(
    document: Path, vendor_http: respx.MockRouter
) -> None:
    configure("litellm:mistral/mistral-large-latest")
    route = vendor_http.post(MISTRAL_URL).mock(
        side_effect=[
            httpx.Response(200, json=chat_completion("Otters nap.", prompt_tokens=20)),
            httpx.Response(200, json=chat_completion("Otters hold hands.", prompt_tokens=20)),
        ]
    )
    shared, usage = run_flow(document)
    assert (shared["outcome"], shared["summary"], shared["attempts"]) == (
        "approved", "Otters hold hands.", 2,
    )  # fmt: skip
    assert route.call_count == 2
    body = json.loads(route.calls[1].request.content)
    assert body["model"] == "mistral-large-latest"
    assert body["messages"] == [{"role": "user", "content": f"Summarize: {DOCUMENT}"}]
    assert route.calls[1].request.headers["authorization"] == "Bearer sk-test-mistral-seed"
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 40, 6)
    assert usage.cost is not None and usage.cost > 0  # from LiteLLM's own price table


def test_the_users_prices_overrule_litellms_cost(
    document: Path, vendor_http: respx.MockRouter
) -> None:
    configure("litellm:mistral/mistral-large-latest")
    with Path("pocketflow.toml").open("a", encoding="utf-8") as config:
        config.write('[prices."litellm:mistral/mistral-large-latest"]\ninput = 1.0\noutput = 2.0\n')
    vendor_http.post(MISTRAL_URL).respond(
        json=chat_completion("Otters hold hands.", prompt_tokens=20)
    )
    shared, usage = run_flow(document)
    assert shared["outcome"] == "approved"
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 40, 6)
    assert usage.cost == pytest.approx((40 * 1.0 + 6 * 2.0) / 1_000_000)


def test_on_claude_through_litellm_by_the_same_file(
    document: Path, vendor_http: respx.MockRouter
) -> None:
    configure("litellm:anthropic/claude-haiku-4-5")
    route = vendor_http.post(ANTHROPIC_URL).mock(
        side_effect=[
            httpx.Response(200, json=message_json("Otters nap.", input_tokens=21)),
            httpx.Response(200, json=message_json("Otters hold hands.", input_tokens=21)),
        ]
    )
    shared, usage = run_flow(document)
    assert (shared["outcome"], shared["summary"]) == ("approved", "Otters hold hands.")
    body = json.loads(route.calls[0].request.content)
    assert body["model"] == "claude-haiku-4-5"
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": f"Summarize: {DOCUMENT}"}]}
    ]
    assert body["max_tokens"] > 0
    assert route.calls[0].request.headers["x-api-key"] == "sk-test-anthropic-seed"
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 42, 10)
