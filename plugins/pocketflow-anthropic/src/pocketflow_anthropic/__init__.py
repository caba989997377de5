"""pocketflow-anthropic: the ``anthropic`` LLM provider for PocketFlow Pluggable.

Installing this package registers the provider through the ``pocketflow`` entry
point; choose it by configuration (``POCKETFLOW_LLM=anthropic:claude-haiku-4-5``).
Importing this package does not import the anthropic SDK.
"""

PROVIDER_NAME = "anthropic"
"""The name users write before the colon."""

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
"""The environment variable the API key is read from unless ``api_key_env`` names another."""

__all__ = ["DEFAULT_KEY_ENV", "PROVIDER_NAME"]
