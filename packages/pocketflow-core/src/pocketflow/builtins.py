"""The built-in plugin: registered through the same hooks as any outside plugin,
after them, so a plugin may replace a built-in by registering the same name first."""

from __future__ import annotations

from typing import Any

from pocketflow.auto_feedback import AutoFeedback
from pocketflow.hookspecs import (
    RegisterExecutor,
    RegisterFeedbackProvider,
    RegisterLLMProvider,
    RegisterRunStore,
    hookimpl,
)
from pocketflow.inbox_feedback import InboxFeedback
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
        "or rules under [providers.offline]); offline:hash embeds (hashed bag of words)",
    )


@hookimpl
def register_feedback_providers(register: RegisterFeedbackProvider) -> None:
    """The ``auto``, ``inbox`` and ``llm-judge`` feedback providers."""
    register(
        "auto",
        AutoFeedback,
        settings=AutoFeedback.settings_types,
        description="scripted verdicts for unattended runs (auto, auto:deny, auto:deny,approve)",
    )
    register(
        "inbox",
        InboxFeedback,
        settings=InboxFeedback.settings_types,
        description="the question waits in the run store until a person answers (durable runs)",
    )
    register(
        "llm-judge",
        LLMJudge,
        settings=LLMJudge.settings_types,
        description="a model checks the content against a rubric (llm-judge:provider:model)",
    )


@hookimpl
def register_run_stores(register: RegisterRunStore) -> None:
    """The ``sqlite`` and ``memory`` run stores (their modules load on first use)."""
    register(
        "sqlite",
        ("sqlite",),
        _open_sqlite,
        settings={"synchronous": str},
        description="runs in a local SQLite file (sqlite:///path/runs.db)",
    )
    register(
        "memory",
        ("memory",),
        _open_memory,
        description="runs kept in this process only, for tests (memory:// or memory://name)",
    )


def _open_sqlite(location: Any) -> Any:
    from pocketflow.runs.sqlite_store import open_sqlite_store

    return open_sqlite_store(location)


def _open_memory(location: Any) -> Any:
    from pocketflow.runs.memory_store import MemoryRunStore

    return MemoryRunStore(location.url.partition("://")[2])


@hookimpl
def register_executors(register: RegisterExecutor) -> None:
    """The ``local`` executor: batch items run in this process, as they always have."""
    register("local", _local_executor, description="batch items run in this process (default)")


def _local_executor(settings: Any) -> Any:
    from pocketflow.executors.local import LocalExecutor

    return LocalExecutor(settings)
