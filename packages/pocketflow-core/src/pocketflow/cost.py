"""What an LLM call cost, estimated: the user's own prices first, then a kept price table.

Prices in ``pocketflow.toml`` (US dollars per million tokens) win, for private or
discounted models::

    [prices."openai:gpt-4o-mini"]
    input = 0.15
    output = 0.60
    cache_read = 0.075     # optional, default: the input price
    cache_write = 0.1875   # optional, default: the input price

Otherwise the ``genai-prices`` table prices the model (``pip install
pocketflow-core[cost]``; imported on the first priced call, never by ``import
pocketflow``). A model that neither knows costs ``None``: unknown, never zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pocketflow.errors import ConfigError
from pocketflow.providers import Usage

PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_UNPRICED_PROVIDERS = frozenset({"offline"})  # built-in test answers: no price exists
_table: Any = None
_table_missing = False


def check_prices(prices: Mapping[str, Any], where: str) -> dict[str, dict[str, float]]:
    """The ``[prices]`` table, checked: ``"provider:model" -> {input, output, ...}``."""
    checked: dict[str, dict[str, float]] = {}
    for model, table in prices.items():
        what = f'{where}: [prices."{model}"]'
        if ":" not in model:
            raise ConfigError(f'{what}: name the model as "provider:model".')
        if not isinstance(table, dict):
            raise ConfigError(f"{what} must be a table such as {{ input = 0.15, output = 0.6 }}.")
        unknown = sorted(set(table) - set(PRICE_KEYS))
        if unknown:
            raise ConfigError(
                f"{what} has unknown key '{unknown[0]}'. Known: {', '.join(PRICE_KEYS)}."
            )
        for key in ("input", "output"):
            if key not in table:
                raise ConfigError(f"{what} needs '{key}' (US dollars per million tokens).")
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{what} '{key}' must be a number of dollars, not {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{what} '{key}' must be 0 or more and finite, not {value!r}.")
        checked[model] = {key: float(value) for key, value in table.items()}
    return checked


def estimate_cost(
    provider: str,
    model: str,
    usage: Usage,
    prices: Mapping[str, Mapping[str, float]],
    kind: str | None = None,
    asked: str | None = None,
) -> float | None:
    """US dollars that ``usage`` of ``provider:model`` cost, or None when unknown.

    ``kind`` is the provider's implementation (``openai`` for a ``deepseek`` provider);
    ``asked`` the model string the call named, which a ``[prices]`` entry may use too
    (a vendor may answer as ``gpt-4o-mini-2024-07-18`` when asked for ``gpt-4o-mini``).
    """
    input_tokens = all_input_tokens(kind or provider, usage)
    own = prices.get(f"{provider}:{model}")
    if own is None and asked is not None:
        own = prices.get(asked)
    if own is not None:
        return _priced(own, usage, input_tokens)
    if provider in _UNPRICED_PROVIDERS:
        return None
    return _from_table(provider, model, usage, input_tokens)


def all_input_tokens(kind: str, usage: Usage) -> int:
    """Input tokens with cache reads and writes included, for a provider of ``kind``.

    Anthropic reports cache reads and writes beside ``input_tokens``; the others count
    them within it (and so do the price table and the OpenTelemetry conventions).
    """
    if kind == "anthropic":
        return usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return usage.input_tokens


def _priced(price: Mapping[str, float], usage: Usage, input_tokens: int) -> float:
    input_price = price["input"]
    plain_input = max(0, input_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
    dollars = (
        plain_input * input_price
        + usage.cache_read_tokens * price.get("cache_read", input_price)
        + usage.cache_write_tokens * price.get("cache_write", input_price)
        + usage.output_tokens * price["output"]
    )
    return dollars / 1_000_000


def _from_table(provider: str, model: str, usage: Usage, input_tokens: int) -> float | None:
    global _table, _table_missing
    if _table is None:
        if _table_missing:
            return None
        try:
            import genai_prices  # a kept price table; imported on the first priced call
        except ImportError:
            _table_missing = True
            return None
        _table = genai_prices
    try:
        calculation = _table.calc_price(
            _table.Usage(
                input_tokens=input_tokens,
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
