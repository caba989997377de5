"""Plugin entry point: registers the ``anthropic`` LLM provider.

This module imports no vendor SDK: the factory imports the provider on first use,
so ``import pocketflow`` (and loading plugins) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketflow import hookimpl
from pocketflow_anthropic import DEFAULT_KEY_ENV, PROVIDER_NAME

if TYPE_CHECKING:
    from pocketflow.hookspecs import RegisterLLMProvider
    from pocketflow.providers import LLMProvider, ProviderSettings

SETTINGS: dict[str, type | tuple[type, ...]] = {"max_tokens": int, "structured_output": str}
"""Extra keys ``[providers.anthropic]`` accepts: the default ``max_tokens`` of a reply, and
how structured output is asked for (``"native"`` or ``"tool"``; default: by model)."""


def make_provider(settings: ProviderSettings) -> LLMProvider:
    """Create the provider (cheap: its SDK client is made on first use)."""
    from pocketflow_anthropic.provider import AnthropicProvider

    return AnthropicProvider(settings)


@hookimpl
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """Register ``anthropic``: Claude models through the Messages API."""
    register(
        PROVIDER_NAME,
        make_provider,
        settings=SETTINGS,
        description="Anthropic Claude models via the Messages API (anthropic SDK)",
        api_key_env=DEFAULT_KEY_ENV,
        abilities=("chat", "stream", "structured", "tools"),
    )
