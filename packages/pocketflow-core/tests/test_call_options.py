"""Keyword arguments of the LLM facades: misspellings are caught, vendor extras go in
options=, and fallbacks apply to streams as to calls (hardening item 18)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pocketflow import call_llm_async, complete_async, embed, stream_llm_async
from pocketflow.errors import ConfigError, ServerError, UnknownOptionError
from pocketflow.offline import Script
from pocketflow.testing import FakeClock

ScriptFactory = Callable[..., Script]


def test_a_misspelled_parameter_is_refused_with_did_you_mean(llm_script: ScriptFactory) -> None:
    script = llm_script(["hi"])
    with pytest.raises(UnknownOptionError, match=r"temprature=: did you mean temperature=\?"):
        asyncio.run(call_llm_async("Hi", temprature=0.5))
    with pytest.raises(UnknownOptionError, match="did you mean max_tokens="):
        stream_llm_async("Hi", max_token=5)
    assert script.requests == []


def test_other_unknown_keywords_still_reach_the_vendor_for_compatibility(
    llm_script: ScriptFactory,
) -> None:
    script = llm_script(["hi"])
    asyncio.run(complete_async("Hi", top_k=40, speed="fast", metadata={"user_id": "u1"}))
    assert script.requests[0].options == {
        "top_k": 40,
        "speed": "fast",
        "metadata": {"user_id": "u1"},
    }


def test_options_pass_vendor_extras_unchecked(llm_script: ScriptFactory) -> None:
    script = llm_script(["hi"])
    asyncio.run(call_llm_async("Hi", options={"temprature": 1, "top_p": 0.5}))
    assert script.requests[0].options == {"temprature": 1, "top_p": 0.5}


def test_a_stream_falls_back_to_the_next_model_before_its_first_chunk(
    llm_script: ScriptFactory, fake_clock: FakeClock
) -> None:
    script = llm_script([ServerError("overloaded"), "from the fallback"])
    Path("pocketflow.toml").write_text('[providers.backup]\nkind = "offline"\n')

    async def scenario() -> tuple[str, str]:
        stream = stream_llm_async(
            "Hi", model="offline:scripted", fallbacks=["backup:scripted"], max_retries=0
        )
        text = "".join([chunk async for chunk in stream])
        assert stream.response is not None
        return text, stream.response.provider

    assert asyncio.run(scenario()) == ("from the fallback", "backup")
    assert len(script.requests) == 2
    assert all("fallbacks" not in r.options for r in script.requests)


def test_a_tool_loop_parameter_given_to_one_call_says_where_it_belongs(
    llm_script: ScriptFactory,
) -> None:
    llm_script(["hi"])
    with pytest.raises(UnknownOptionError, match="max_turns= belongs to the tool loop"):
        asyncio.run(complete_async("Hi", max_turns=3))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout must be greater than 0 seconds, not 0."),
        ({"timeout": float("nan")}, "timeout must be greater than 0 seconds, not nan."),
        ({"max_retries": -1}, "max_retries must be 0 or more, not -1."),
    ],
    ids=["zero-timeout", "nan-timeout", "negative-retries"],
)
def test_a_call_s_own_timeout_and_retries_are_checked_before_anything_is_sent(
    llm_script: ScriptFactory, options: dict[str, Any], message: str
) -> None:
    script = llm_script(["hi"])
    with pytest.raises(ConfigError, match=re.escape(message)):
        asyncio.run(call_llm_async("Hi", **options))
    with pytest.raises(ConfigError, match=re.escape(message)):
        embed("Hi", model="offline:hash", **options)
    assert script.requests == []
