"""Summarise a folder of documents in parallel, with a progress line on a terminal.

    uv run python examples/summarize_folder [FOLDER] [--concurrency N] [--llm provider:model]

With nothing configured it runs on the offline provider and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from pocketflow import aclose, track_usage
from pocketflow.config import load_config
from pocketflow.errors import PocketFlowError

from flow import build_flow, list_documents  # this folder is on sys.path when run as a program

DOCS = Path(__file__).parent / "docs"


class Progress:
    """A progress bar redrawn in place on a terminal; silent when output is piped."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.live = stream.isatty()

    def advance(self, path: str) -> None:
        """One more document done."""
        self.done += 1
        if self.live:
            filled = int(30 * self.done / max(self.total, 1))
            bar = "#" * filled + "." * (30 - filled)
            name = Path(path).name[:30]
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {name:<30}")
            self.stream.flush()

    def close(self) -> None:
        """End the progress line."""
        if self.live:
            self.stream.write("\n")


async def run(folder: Path, concurrency: int, progress: Progress) -> dict[str, Any]:
    """Summarise the folder; the shared store holds the summaries."""
    shared: dict[str, Any] = {"folder": str(folder), "on_done": progress.advance}
    try:
        await build_flow(concurrency).run_async(shared)
    finally:
        progress.close()
        await aclose()
    return shared


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DOCS)
    parser.add_argument("--concurrency", type=int, default=4, help="documents in flight")
    parser.add_argument("--llm", help="provider:model or an alias (POCKETFLOW_LLM)")
    arguments = parser.parse_args(argv)
    if arguments.llm:
        os.environ["POCKETFLOW_LLM"] = arguments.llm
    try:
        if not load_config().llm:
            os.environ["POCKETFLOW_LLM"] = "offline:summarize"
            print("Running offline (offline:summarize): set POCKETFLOW_LLM to use a vendor.")
        started = time.perf_counter()
        with track_usage() as usage:
            progress = Progress(len(list_documents(arguments.folder)))
            shared = asyncio.run(run(arguments.folder, arguments.concurrency, progress))
    except PocketFlowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path, summary in sorted(shared["summaries"].items()):
        print(f"\n{Path(path).name}\n  {summary}")
    seconds = time.perf_counter() - started
    print(
        f"\n{len(shared['summaries'])} documents, {usage.calls} LLM calls, "
        f"{usage.total_tokens} tokens, {seconds:.2f} s at concurrency {arguments.concurrency}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
