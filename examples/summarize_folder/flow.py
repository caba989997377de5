"""Summarise every document of a folder in parallel, at most N at a time.

What the engine adds to PocketFlow, in one flow: ``AsyncParallelBatchFlow`` with
``max_concurrency`` bounds the LLM calls in flight, node retries with exponential
backoff absorb a flaky document, and a failure that survives them cancels the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pocketflow import AsyncNode, AsyncParallelBatchFlow, call_llm_async, read_file_async


class SummarizeDocument(AsyncNode):
    """Summarise the one document named by ``self.params["path"]``."""

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return await read_file_async(self.params["path"])

    async def exec_async(self, text: str) -> str:
        return await call_llm_async(f"Summarize in two sentences: {text}")

    async def post_async(self, shared: dict[str, Any], prep_res: str, exec_res: str) -> None:
        shared["summaries"][self.params["path"]] = exec_res
        on_done: Callable[[str], None] | None = shared.get("on_done")
        if on_done is not None:
            on_done(self.params["path"])


class SummarizeFolder(AsyncParallelBatchFlow):
    """One batch item per ``*.txt`` file of ``shared["folder"]``."""

    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        shared.setdefault("summaries", {})
        paths = await asyncio.to_thread(list_documents, Path(shared["folder"]))
        shared["total"] = len(paths)
        return [{"path": str(path)} for path in paths]


def list_documents(folder: Path) -> list[Path]:
    """The ``*.txt`` files of ``folder``, sorted by name."""
    return sorted(folder.glob("*.txt"))


def build_flow(max_concurrency: int) -> SummarizeFolder:
    """The folder flow with at most ``max_concurrency`` documents in flight."""
    document = SummarizeDocument(max_retries=3, wait=0.5, backoff=2.0, max_wait=5.0)
    return SummarizeFolder(start=document, max_concurrency=max_concurrency)
