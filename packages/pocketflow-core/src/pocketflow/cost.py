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
from decimal import Decimal
from typing import Any

from pocketflow.errors import ConfigError
from pocketflow.providers import Usage

PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_UNPRICED_PROVIDERS = frozenset({"offline"})  # built-in test answers: no price exists
_table: Any = None
_table_missing = False
_TABLE_KEYS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
}
_PER_REQUEST_KEY = "requests_kcount"
_UNKNOWN_MODEL: Any = object()
_REMEMBERED_MODELS = 1024
_table_prices: dict[tuple[str, str], tuple[Any, Any]] = {}
"""Per ``(provider, model)``: the table snapshot it was looked up in, and its per-token
price (a dict), None (price each call through the table) or ``_UNKNOWN_MODEL``.
Pricing a call through the table takes 130 to 190 us of CPU; from the remembered
price, about 2 us (1,620 of the table's 2,330 models have such a price)."""


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
    reported: float | None = None,
) -> float | None:
    """US dollars that ``usage`` of ``provider:model`` cost, or None when unknown.

    ``kind`` is the provider's implementation (``openai`` for a ``deepseek`` provider);
    ``asked`` the model string the call named, which a ``[prices]`` entry may use too
    (a vendor may answer as ``gpt-4o-mini-2024-07-18`` when asked for ``gpt-4o-mini``);
    ``reported`` the cost the provider itself worked out (LiteLLM does), which only the
    user's ``[prices]`` overrule.
    """
    input_tokens = all_input_tokens(kind or provider, usage)
    own = prices.get(f"{provider}:{model}")
    if own is None and asked is not None:
        own = prices.get(asked)
    if own is not None:
        return _priced(own, usage, input_tokens)
    if reported is not None:
        return reported
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
    table = _price_table()
    if table is None:
        return None
    snapshot = table.data_snapshot.get_snapshot()  # another after a price update
    found = _table_prices.get((provider, model))
    if found is not None and found[0] is snapshot:
        price = found[1]
        if price is _UNKNOWN_MODEL:
            return None
        if price is not None:
            return _priced(price, usage, input_tokens)
    try:
        calculation = table.calc_price(
            table.Usage(
                input_tokens=input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens or None,
                cache_write_tokens=usage.cache_write_tokens or None,
            ),
            model,
            provider_id=provider,
        )
    except LookupError:
        _remember(provider, model, snapshot, _UNKNOWN_MODEL)
        return None
    _remember(provider, model, snapshot, _per_token_price(calculation))
    return float(calculation.total_price)


def _price_table() -> Any:
    """The ``genai_prices`` module, imported on the first priced call; None without it."""
    global _table, _table_missing
    if _table is None and not _table_missing:
        try:
            import genai_prices  # a kept price table; imported on the first priced call
            import genai_prices.data_snapshot
        except ImportError:
            _table_missing = True
            return None
        _table = genai_prices
    return _table


def _per_token_price(calculation: Any) -> Mapping[str, float] | None:
    """The model's price as ``{input, output, cache_read?, cache_write?}`` per million
    tokens when it is that simple for the usage we report (one price at all times, no
    tiers, no price per request); else None, and every call of that model asks the table.

    Prices of units our usage never carries (audio tokens, web searches, ...) count
    nothing, and variants (batch, service tiers) apply only to a price context, which
    we never pass. The table's own arithmetic is the reference: a test checks that this
    shortcut gives its figures for every model in it.
    """
    if not isinstance(calculation.model.prices, type(calculation.model_price)):
        return None  # prices that change with the date or the time of day
    price: dict[str, float] = {}
    for key, value in vars(calculation.model_price).items():
        if value is None or key.startswith("_"):
            continue
        if key == _PER_REQUEST_KEY or not isinstance(value, Decimal):
            return None  # a price per request, or tiers by prompt size
        name = _TABLE_KEYS.get(key)
        if name is not None:
            price[name] = float(value)
    if "input" not in price or "output" not in price:
        return None
    return price


def _remember(provider: str, model: str, snapshot: Any, price: Any) -> None:
    if len(_table_prices) >= _REMEMBERED_MODELS:
        _table_prices.clear()  # models named by users' calls: a few, unless generated
    _table_prices[(provider, model)] = (snapshot, price)
