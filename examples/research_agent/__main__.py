"""Ask the research agent a question about the notes, on any configured vendor.

    uv run python examples/research_agent ["QUESTION"] [--llm provider:model]
        [--max-searches N]

With nothing configured it runs offline (``offline:summarize``, which answers
structured output with schema-valid JSON and runs tool loops the same way every
time) and says so on its first line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from pocketflow import aclose, track_usage
from pocketflow.config import load_config
from pocketflow.errors import PocketFlowError

from flow import build_flow  # this folder is on sys.path when run as a program

OFFLINE_LLM = "offline:summarize"
QUESTION = "How does PocketFlow retry failed LLM calls?"


def choose_llm(llm: str | None) -> str:
    """Put the chosen model in the environment; say plainly what will run."""
    if llm:
        os.environ["POCKETFLOW_LLM"] = llm
    config = load_config()
    if config.llm:
        return f"LLM: {config.llm} (from {config.source_of('llm')})"
    os.environ["POCKETFLOW_LLM"] = OFFLINE_LLM
    return (
        f"Running offline ({OFFLINE_LLM}): no LLM is configured. "
        "Set POCKETFLOW_LLM=openai:gpt-4o-mini (with OPENAI_API_KEY) to use a real vendor."
    )


async def run(question: str, max_searches: int) -> dict[str, Any]:
    """Run the agent once; the shared store holds the decisions and the answer."""
    shared: dict[str, Any] = {"question": question, "max_searches": max_searches}
    try:
        await build_flow().run_async(shared)
    finally:
        await aclose()
    return shared


def shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def report(shared: dict[str, Any], usage: Any) -> str:
    """The decisions taken, the answer and its sources, the calls made."""
    lines = [f"Question: {shared['question']}", ""]
    for number, (action, query) in enumerate(shared.get("decisions", []), 1):
        searched = f" ({shorten(query)})" if action == "search" else ""
        lines.append(f"Decision {number}: {action}{searched}")
    answer = shared["answer"]
    lines += ["", f"Answer: {answer.answer}"]
    if answer.sources:
        lines.append(f"Sources: {', '.join(shorten(source) for source in answer.sources)}")
    searches = len(shared.get("findings", []))
    lines += ["", f"{usage.calls} LLM call(s), {searches} search(es)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--llm", help="provider:model or an alias (POCKETFLOW_LLM)")
    parser.add_argument("--max-searches", type=int, default=2, help="searches before answering")
    arguments = parser.parse_args(argv)
    try:
        print(choose_llm(arguments.llm), flush=True)
        with track_usage() as usage:
            shared = asyncio.run(run(arguments.question, arguments.max_searches))
        print(report(shared, usage))
    except PocketFlowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
