"""Plugin entry point: registers the ``openai`` and ``azure`` LLM providers.

This module imports no vendor SDK (``import pocketflow`` must stay fast): each
factory imports the provider module only when the core first makes the provider.
"""

from __future__ import annotations

from pocketflow.hookspecs import RegisterLLMProvider, hookimpl
from pocketflow.providers import LLMProvider, ProviderSettings, SettingTypes
from pocketflow_openai.connection import AZURE_KEY_ENV, OPENAI_KEY_ENV

OPENAI_SETTINGS: SettingTypes = {
    "organization": str,
    "project": str,
    "require_key": bool,
    "max_connections": int,
    "max_tokens_param": str,
}
"""Extra keys a ``[providers.<name>]`` table of kind ``openai`` may hold."""

AZURE_SETTINGS: SettingTypes = {
    "api_version": str,
    "deployment": str,
    "max_connections": int,
    "max_tokens_param": str,
}
"""Extra keys a ``[providers.<name>]`` table of kind ``azure`` may hold."""

ABILITIES = ("chat", "stream", "structured", "tools", "embed")
"""What both providers can do (embeddings with the models whose name contains "embed"),
declared so that ``pocketflow models`` need not import the SDK to say so."""


def make_openai(settings: ProviderSettings) -> LLMProvider:
    """The ``openai`` provider (the SDK is imported here, on first use)."""
    from pocketflow_openai.provider import OpenAIProvider

    return OpenAIProvider(settings)


def make_azure(settings: ProviderSettings) -> LLMProvider:
    """The ``azure`` provider (the SDK is imported here, on first use)."""
    from pocketflow_openai.provider import AzureOpenAIProvider

    return AzureOpenAIProvider(settings)


@hookimpl
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """Register ``openai`` (and OpenAI-compatible endpoints) and ``azure``."""
    register(
        "openai",
        make_openai,
        settings=OPENAI_SETTINGS,
        description="OpenAI Chat Completions and Embeddings, and OpenAI-compatible endpoints "
        "(kind = openai)",
        api_key_env=OPENAI_KEY_ENV,
        abilities=ABILITIES,
    )
    register(
        "azure",
        make_azure,
        settings=AZURE_SETTINGS,
        description="Azure OpenAI deployments (base_url or AZURE_OPENAI_ENDPOINT, api_version)",
        api_key_env=AZURE_KEY_ENV,
        abilities=ABILITIES,
    )
