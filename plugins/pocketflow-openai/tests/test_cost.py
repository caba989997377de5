"""An OpenAI answer carries its estimated cost from the kept price table (genai-prices)."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion

from pocketflow import complete_async, track_usage
from pocketflow.runtime import reset_runtime


def test_a_known_model_is_priced_from_the_price_table(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion(prompt_tokens=1000, completion_tokens=500, cached_tokens=200)
    vendor_http.post(CHAT_URL).respond(json=reply)
    with track_usage() as usage:
        response = run(complete_async("Summarize: the sky is blue."))
    # gpt-4o-mini: $0.15 per million input tokens, $0.075 cached, $0.60 output.
    expected = (800 * 0.15 + 200 * 0.075 + 500 * 0.60) / 1_000_000
    assert response.cost == pytest.approx(expected)
    assert usage.cost == pytest.approx(expected)
    assert usage.cost_text == "$0.0004"


def test_a_model_the_table_does_not_know_costs_unknown(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("POCKETFLOW_LLM", "openai:my-private-finetune")
    vendor_http.post(CHAT_URL).respond(json=chat_completion(model="my-private-finetune"))
    response = run(complete_async("hi"))
    assert response.cost is None


def test_a_price_in_the_config_wins_over_the_table(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    Path("pocketflow.toml").write_text(
        '[prices."openai:gpt-4o-mini"]\ninput = 1.0\noutput = 1.0\n', encoding="utf-8"
    )
    reset_runtime()
    vendor_http.post(CHAT_URL).respond(
        json=chat_completion(prompt_tokens=600_000, completion_tokens=400_000)
    )
    response = run(complete_async("hi"))
    assert response.cost == pytest.approx(1.0)  # the asked-for name matches the dated answer
