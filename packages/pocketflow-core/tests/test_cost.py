"""Each answered call carries an estimated cost; tallies add them; unknown is never zero."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from pocketflow import complete_async, track_usage
from pocketflow.cost import estimate_cost
from pocketflow.errors import ConfigError
from pocketflow.providers import Usage
from pocketflow.runtime import reset_runtime


def write_config(text: str) -> None:
    Path("pocketflow.toml").write_text(text, encoding="utf-8")
    reset_runtime()


def test_a_model_without_a_known_price_costs_unknown_not_zero(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    with track_usage() as usage:
        response = asyncio.run(complete_async("one two three", model="offline:echo"))
    assert response.cost is None
    assert usage.cost is None
    assert usage.unpriced_calls == 1
    assert usage.cost_text == "cost unknown"


def test_prices_in_the_config_price_each_call_and_the_tally(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    write_config('[prices."offline:echo"]\ninput = 2.0\noutput = 10.0\n')
    with track_usage() as usage:
        first = asyncio.run(complete_async("one two three", model="offline:echo"))
        asyncio.run(complete_async("four five", model="offline:echo"))
    tokens = first.usage
    assert first.cost == pytest.approx(
        (tokens.input_tokens * 2.0 + tokens.output_tokens * 10.0) / 1_000_000
    )
    assert first.cost is not None and usage.cost is not None and usage.cost > first.cost
    assert usage.unpriced_calls == 0
    assert usage.cost == pytest.approx((5 * 2.0 + 9 * 10.0) / 1_000_000)
    assert usage.cost_text == "$0.0001"


def test_a_tally_with_priced_and_unpriced_calls_says_at_least(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    write_config('[prices."offline:echo"]\ninput = 1000.0\noutput = 1000.0\n')
    with track_usage() as usage:
        asyncio.run(complete_async("one two", model="offline:echo"))
        asyncio.run(complete_async("one two", model="offline:summarize"))
    assert usage.unpriced_calls == 1
    assert usage.cost_text.startswith("at least $0.")
    assert usage.cost_text.endswith("(1 call unpriced)")


def test_cache_reads_are_priced_at_the_cache_price() -> None:
    prices = {"acme:m1": {"input": 1.0, "output": 2.0, "cache_read": 0.1}}
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cache_read_tokens=500_000)
    assert estimate_cost("acme", "m1", usage, prices) == pytest.approx(0.5 + 0.05)
    # Anthropic counts cache reads beside its input tokens, the others within them.
    assert estimate_cost("acme", "m1", usage, prices, kind="anthropic") == pytest.approx(1.05)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[prices."offline:echo"]\ninput = 1.0\n', "needs 'output'"),
        ('[prices."offline:echo"]\ninput = 1.0\noutput = "cheap"\n', "must be a number"),
        ('[prices."offline:echo"]\ninput = -1.0\noutput = 1.0\n', "0 or more and finite"),
        ('[prices."offline:echo"]\ninput = nan\noutput = 1.0\n', "0 or more and finite"),
        ('[prices."offline:echo"]\ninput = 1\noutput = 1\nextra = 1\n', "unknown key 'extra'"),
        ("[prices]\necho = { input = 1, output = 1 }\n", '"provider:model"'),
    ],
)
def test_a_bad_price_is_a_clear_config_error(
    pocketflow_env: pytest.MonkeyPatch, table: str, message: str
) -> None:
    write_config(table)
    with pytest.raises(ConfigError, match=message):
        asyncio.run(complete_async("hi", model="offline:echo"))


def test_import_pocketflow_does_not_load_the_price_table() -> None:
    code = "import sys, pocketflow; print('genai_prices' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
