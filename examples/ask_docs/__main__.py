"""Ask a question of a folder of documents; the answer cites the files it rests on.

    uv run python examples/ask_docs [QUESTION] [--docs DIR] [--top-k K]
        [--llm provider:model] [--embedding provider:model]

With nothing configured it runs offline (``offline:hash`` embeddings and the
``offline:summarize`` model) and says so on its first lines. ``--llm`` and
``--embedding`` are the same settings as POCKETFLOW_LLM and POCKETFLOW_EMBEDDING.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from pocketflow import aclose, track_usage
from pocketflow.config import load_config
from pocketflow.errors import PocketFlowError

from flow import build_flow  # this folder is on sys.path when run as a program

DOCS = Path(__file__).parent / "docs"
QUESTION = "How are failed calls retried?"
OFFLINE_LLM = "offline:summarize"
OFFLINE_EMBEDDING = "offline:hash"


def choose_settings(arguments: argparse.Namespace) -> list[str]:
    """Put the chosen models in the environment; say plainly what will run."""
    if arguments.llm:
        os.environ["POCKETFLOW_LLM"] = arguments.llm
    if arguments.embedding:
        os.environ["POCKETFLOW_EMBEDDING"] = arguments.embedding
    config = load_config()
    notes = []
    if not config.embedding:
        os.environ["POCKETFLOW_EMBEDDING"] = OFFLINE_EMBEDDING
        notes.append(
            f"Embedding offline ({OFFLINE_EMBEDDING}, hashed words): set "
            "POCKETFLOW_EMBEDDING=openai:text-embedding-3-small to use a vendor."
        )
    else:
        notes.append(f"Embedding: {config.embedding} (from {config.source_of('embedding')})")
    if not config.llm:
        os.environ["POCKETFLOW_LLM"] = OFFLINE_LLM
        notes.append(
            f"Answering offline ({OFFLINE_LLM}, an extract): set "
            "POCKETFLOW_LLM=openai:gpt-4o-mini to use a vendor."
        )
    else:
        notes.append(f"LLM: {config.llm} (from {config.source_of('llm')})")
    return notes


async def ask(shared: dict[str, Any]) -> None:
    """Run the flow on ``shared``, then close the vendor clients."""
    try:
        await build_flow().run_async(shared)
    finally:
        await aclose()


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--docs", type=Path, default=DOCS, help="the folder of .md/.txt files")
    parser.add_argument("--top-k", type=int, default=3, help="paragraphs to answer from")
    parser.add_argument("--llm", help="provider:model or an alias (POCKETFLOW_LLM)")
    parser.add_argument("--embedding", help="provider:model or an alias (POCKETFLOW_EMBEDDING)")
    arguments = parser.parse_args(argv)
    if arguments.top_k < 1:
        parser.error("--top-k must be 1 or more")
    shared: dict[str, Any] = {
        "docs": str(arguments.docs),
        "question": arguments.question,
        "top_k": arguments.top_k,
    }
    try:
        print("\n".join(choose_settings(arguments)))
        with track_usage() as usage:
            asyncio.run(ask(shared))
    except (PocketFlowError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\nQuestion: {arguments.question}\n\n{shared['answer']}\n\nSources:")
    for number, hit in enumerate(shared["hits"], 1):
        print(f"  [{number}] {hit.chunk.path} (similarity {hit.score:.2f})")
    files = len({chunk.path for chunk in shared["chunks"]})
    print(
        f"\n{len(shared['chunks'])} paragraphs of {files} files; "
        f"{usage.embedding_calls} embedding call(s), {usage.embedding_tokens} tokens embedded; "
        f"{usage.calls} LLM call(s), {usage.total_tokens} tokens; {usage.cost_text}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
