"""Each answered call carries an estimated cost; tallies add them; unknown is never zero."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pocketflow import complete_async, track_usage
from pocketflow.cost import all_input_tokens, estimate_cost
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


def test_a_cost_the_provider_reports_is_used_unless_the_user_prices_the_model() -> None:
    usage = Usage(input_tokens=1_000, output_tokens=100)
    prices = {"acme:m1": {"input": 2.0, "output": 10.0}}
    assert estimate_cost("acme", "m2", usage, prices, reported=0.25) == 0.25
    assert estimate_cost("acme", "m1", usage, prices, reported=0.25) == pytest.approx(0.003)
    assert estimate_cost("acme", "m2", usage, prices) is None  # the table knows no acme


USAGES = (
    Usage(input_tokens=1_234, output_tokens=567),
    Usage(input_tokens=90_000, output_tokens=12, cache_read_tokens=40_000),
    Usage(input_tokens=5_000, output_tokens=300, cache_read_tokens=1_000, cache_write_tokens=2_000),
)


def test_every_simply_priced_model_of_the_table_costs_what_the_table_says() -> None:
    # After its first call a model with one flat price is priced from a remembered
    # per-token price instead of the table: the figures must be the table's own.
    genai_prices = pytest.importorskip("genai_prices")
    from genai_prices.data_snapshot import get_snapshot

    checked = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for usage in USAGES:
                table = table_price(genai_prices, provider.id, model.id, usage)
                first = estimate_cost(provider.id, model.id, usage, {})
                again = estimate_cost(provider.id, model.id, usage, {})
                expected = None if table is None else pytest.approx(table, rel=1e-9, abs=1e-15)
                assert (first, again) == (expected, expected), (provider.id, model.id, usage)
            checked += 1
    assert checked > 500  # the table prices hundreds of models


def table_price(genai_prices: Any, provider: str, model: str, usage: Usage) -> float | None:
    try:
        calculation = genai_prices.calc_price(
            genai_prices.Usage(
                input_tokens=all_input_tokens(provider, usage),
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens or None,
                cache_write_tokens=usage.cache_write_tokens or None,
            ),
            model,
            provider_id=provider,
        )
    except LookupError:
        return None
    return float(calculation.total_price)
