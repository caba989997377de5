"""pocketflow-gemini: the ``gemini`` and ``vertex`` LLM providers for PocketFlow Pluggable.

``gemini`` speaks Google's Gemini API with an API key (``GEMINI_API_KEY``, else
``GOOGLE_API_KEY``); ``vertex`` speaks the same models on Vertex AI with a Google
Cloud project, a location and application default credentials. Both run on the
official ``google-genai`` SDK, which is imported only when a provider makes its
first call.
"""

GEMINI = "gemini"
VERTEX = "vertex"
KEY_ENV = "GEMINI_API_KEY"
"""The environment variable the Gemini API key is read from first."""
FALLBACK_KEY_ENV = "GOOGLE_API_KEY"
"""Read when ``GEMINI_API_KEY`` is not set (the SDK's other name for the key)."""

__all__ = ["FALLBACK_KEY_ENV", "GEMINI", "KEY_ENV", "VERTEX"]
