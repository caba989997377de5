"""Plugin entry point: registers the ``gemini`` and ``vertex`` LLM providers.

This module imports no vendor SDK: the factories import the provider on first use,
so ``import pocketflow`` (and loading plugins) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketflow import hookimpl
from pocketflow_gemini import FALLBACK_KEY_ENV, GEMINI, KEY_ENV, VERTEX

if TYPE_CHECKING:
    from pocketflow.hookspecs import RegisterLLMProvider
    from pocketflow.providers import LLMProvider, ProviderSettings

GEMINI_SETTINGS: dict[str, type | tuple[type, ...]] = {"api_version": str}
"""Extra keys ``[providers.gemini]`` accepts: the API version (default "v1beta")."""

VERTEX_SETTINGS: dict[str, type | tuple[type, ...]] = {
    "project": str,
    "location": str,
    "api_version": str,
}
"""Extra keys ``[providers.vertex]`` accepts: the Google Cloud project and location
(else GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION) and the API version."""


def make_gemini(settings: ProviderSettings) -> LLMProvider:
    """Create a ``gemini`` provider (cheap: its SDK client is made on first use)."""
    from pocketflow_gemini.provider import GeminiProvider

    return GeminiProvider(settings)


def make_vertex(settings: ProviderSettings) -> LLMProvider:
    """Create a ``vertex`` provider (cheap: credentials are looked up on first use)."""
    from pocketflow_gemini.provider import VertexProvider

    return VertexProvider(settings)


@hookimpl
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """Register ``gemini`` (Gemini API key) and ``vertex`` (Vertex AI, Google credentials)."""
    register(
        GEMINI,
        make_gemini,
        settings=GEMINI_SETTINGS,
        description="Google Gemini models via the Gemini API (google-genai SDK)",
        api_key_env=KEY_ENV,
        api_key_env_fallbacks=(FALLBACK_KEY_ENV,),
        abilities=("chat", "stream", "structured", "tools", "embed"),
    )
    register(
        VERTEX,
        make_vertex,
        settings=VERTEX_SETTINGS,
        description="Google Gemini models on Vertex AI, application default credentials",
        abilities=("chat", "stream", "structured", "tools", "embed"),
    )
