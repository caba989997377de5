"""Plugin entry point: registers the ``console`` feedback provider."""

from __future__ import annotations

from pocketflow.hookspecs import RegisterFeedbackProvider, hookimpl
from pocketflow.providers import ComponentSettings, FeedbackProvider
from pocketflow_console.options import SETTING_TYPES


def make_provider(settings: ComponentSettings) -> FeedbackProvider:
    """Create the provider (its module loads only now)."""
    from pocketflow_console.provider import ConsoleFeedback

    return ConsoleFeedback(settings)


@hookimpl
def register_feedback_providers(register: RegisterFeedbackProvider) -> None:
    """Register ``console``."""
    register(
        "console",
        make_provider,
        settings=SETTING_TYPES,
        description="asks a person in the terminal to approve or deny (default, timeout, comment)",
    )
