"""The built-in plugin: registered through the same hooks as any outside plugin,
after them, so a plugin may replace a built-in by registering the same name first."""

from __future__ import annotations

from pocketflow.auto_feedback import AutoFeedback
from pocketflow.hookspecs import (
    RegisterFeedbackProvider,
    RegisterLLMProvider,
    hookimpl,
)
from pocketflow.judge import LLMJudge
from pocketflow.offline import OfflineLLM


@hookimpl
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """The offline provider."""
    register(
        "offline",
        OfflineLLM,
        settings=OfflineLLM.settings_types,
        description="offline, deterministic answers for tests and demos (no network): "
        "offline:summarize, offline:echo, offline:scripted (replies from reply, replies "
        "or rules under [providers.offline])",
    )


@hookimpl
def register_feedback_providers(register: RegisterFeedbackProvider) -> None:
    """The ``auto`` and ``llm-judge`` feedback providers."""
    register(
        "auto",
        AutoFeedback,
        settings=AutoFeedback.settings_types,
        description="scripted verdicts for unattended runs (auto, auto:deny, auto:deny,approve)",
    )
    register(
        "llm-judge",
        LLMJudge,
        settings=LLMJudge.settings_types,
        description="a model checks the content against a rubric (llm-judge:provider:model)",
    )
