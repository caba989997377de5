"""The warnings ``messages.create`` gives about a model, given for ``client.post`` calls.

The provider posts to ``/v1/messages`` itself, below ``messages.create``, so it gives
that method's two warnings itself: a ``DeprecationWarning`` for a model nearing its
end of life, and a ``UserWarning`` for ``thinking={"type": "enabled"}`` on a model that
wants ``"adaptive"``. The model lists are the installed SDK's (a private module of it:
when a later SDK moves them, the warnings are simply not given).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from typing import Any

try:
    from anthropic._data import DEPRECATED_MODELS, MODELS_TO_WARN_WITH_THINKING_ENABLED
except ImportError:  # pragma: no cover - depends on the SDK's layout
    DEPRECATED_MODELS: Mapping[str, str] = {}  # type: ignore[no-redef]
    MODELS_TO_WARN_WITH_THINKING_ENABLED: Collection[str] = ()  # type: ignore[no-redef]


def warn_about_model(body: Mapping[str, Any]) -> None:
    """Give the SDK's warnings for the ``model`` (and ``thinking``) in a request ``body``."""
    model = body.get("model")
    if model in DEPRECATED_MODELS:
        warnings.warn(
            f"The model '{model}' is deprecated and will reach end-of-life on "
            f"{DEPRECATED_MODELS[model]}.\nPlease migrate to a newer model. Visit "
            "https://docs.anthropic.com/en/docs/resources/model-deprecations for more "
            "information.",
            DeprecationWarning,
            stacklevel=2,
        )
    thinking = body.get("thinking")
    if (
        model in MODELS_TO_WARN_WITH_THINKING_ENABLED
        and isinstance(thinking, Mapping)
        and thinking.get("type") == "enabled"
    ):
        warnings.warn(
            f"Using Claude with {model} and 'thinking.type=enabled' is deprecated. Use "
            "'thinking.type=adaptive' instead which results in better model performance "
            "in our testing: "
            "https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking",
            UserWarning,
            stacklevel=2,
        )
