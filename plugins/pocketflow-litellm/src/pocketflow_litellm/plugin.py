"""Plugin entry point: registers the ``litellm`` LLM provider.

This module imports neither ``litellm`` nor the provider: the factory imports the
provider when a ``litellm:`` model is first used, and only then does ``litellm`` load
(on a background thread), so ``import pocketflow`` and other providers' calls stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketflow import hookimpl
from pocketflow_litellm import PROVIDER_NAME

if TYPE_CHECKING:
    from pocketflow.hookspecs import RegisterLLMProvider
    from pocketflow.providers import LLMProvider, ProviderSettings

SETTINGS: dict[str, type | tuple[type, ...]] = {"max_embedding_inputs": int}
"""Extra keys ``[providers.litellm]`` accepts: texts per embedding request (default 128)."""


def make_provider(settings: ProviderSettings) -> LLMProvider:
    """Create the provider (it starts importing ``litellm`` in the background)."""
    from pocketflow_litellm.provider import LiteLLMProvider

    return LiteLLMProvider(settings)


@hookimpl
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """Register ``litellm``: about a hundred vendors through LiteLLM."""
    register(
        PROVIDER_NAME,
        make_provider,
        settings=SETTINGS,
        description="LiteLLM bridge: Bedrock, Vertex, Mistral, Cohere, Groq, ... (litellm)",
        # declared, so that listing them does not start the long import of litellm;
        # which a given model has comes from LiteLLM's model table at call time
        abilities=("chat", "stream", "structured", "tools", "embed"),
    )
