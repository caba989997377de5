"""Usage tallies count each call once, whatever token counts a provider reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pocketflow import complete_async, track_usage
from pocketflow.offline import OfflineLLM, Script
from pocketflow.providers import LLMRequest, LLMResponse, Usage


@pytest.mark.parametrize("bad", ["3", [1], None, 2.5], ids=repr)
def test_a_provider_reporting_tokens_that_are_not_integers_is_counted_once(
    llm_script: Callable[..., Script], monkeypatch: pytest.MonkeyPatch, bad: Any
) -> None:
    async def sloppy(self: OfflineLLM, request: LLMRequest) -> LLMResponse:
        usage = Usage(input_tokens=bad, output_tokens=2, cache_read_tokens=bad)
        return LLMResponse(text="ok", model=request.model, provider=self.name, usage=usage)

    llm_script(["unused"])
    monkeypatch.setattr(OfflineLLM, "complete", sloppy)

    with track_usage() as usage:
        response = asyncio.run(complete_async("hi"))

    assert response.text == "ok"
    assert (usage.calls, usage.failed_calls) == (1, 0)
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (0, 2, 0)
