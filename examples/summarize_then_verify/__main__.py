"""Summarise a document, then have the summary verified, on any configured vendor.

    uv run python examples/summarize_then_verify [DOCUMENT]
        [--llm provider:model] [--feedback provider] [--max-attempts N] [--run-id ID]

With nothing configured it runs offline (the built-in ``offline:summarize`` model and
``auto`` feedback) and says so on its first line. ``--llm`` and ``--feedback`` are
the same settings as POCKETFLOW_LLM and POCKETFLOW_FEEDBACK: the flow's code never
changes.

With ``--run-id`` the run is durable: it survives a crash, and with ``--feedback inbox``
it stops to wait for a person (exit status 4) and prints the command that answers;
run it again with the same ``--run-id`` after the answer (or let ``pocketflow runs
worker`` resume it) and it finishes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from pocketflow import aclose, track_usage
from pocketflow.config import load_config
from pocketflow.errors import FlowSuspended, PocketFlowError

from flow import build_flow  # this folder is on sys.path when run as a program

SAMPLE = Path(__file__).parent / "sample.txt"
TARGET = f"{Path(__file__).parent / 'flow.py'}:build_flow"
"""How a worker loads this flow to resume a durable run of it."""
WAITING = 4
OFFLINE_LLM = "offline:summarize"
OFFLINE_FEEDBACK = "auto"


def choose_settings(arguments: argparse.Namespace) -> str:
    """Put the chosen settings in the environment; say plainly what will run."""
    if arguments.llm:
        os.environ["POCKETFLOW_LLM"] = arguments.llm
    if arguments.feedback:
        os.environ["POCKETFLOW_FEEDBACK"] = arguments.feedback
    config = load_config()
    notes = []
    if not config.llm:
        os.environ["POCKETFLOW_LLM"] = OFFLINE_LLM
        notes.append(
            f"Running offline ({OFFLINE_LLM}): no LLM is configured. "
            "Set POCKETFLOW_LLM=openai:gpt-4o-mini (with OPENAI_API_KEY) to use a real vendor."
        )
    else:
        notes.append(f"LLM: {config.llm} (from {config.source_of('llm')})")
    if not config.feedback:
        os.environ["POCKETFLOW_FEEDBACK"] = OFFLINE_FEEDBACK
        notes.append(
            "Feedback: auto (approves unattended). "
            "Set POCKETFLOW_FEEDBACK=console to judge it yourself."
        )
    else:
        notes.append(f"Feedback: {config.feedback} (from {config.source_of('feedback')})")
    return "\n".join(notes)


async def run(document: Path, max_attempts: int, run_id: str | None = None) -> dict[str, Any]:
    """Run the flow once (durably with ``run_id``); the shared store holds the outcome."""
    shared: dict[str, Any] = {"doc_path": str(document), "max_attempts": max_attempts}
    try:
        if run_id is None:
            await build_flow().run_async(shared)
        else:
            await build_flow().run_async(shared, run_id=run_id, target=TARGET)
    finally:
        await aclose()
    return shared


def report(shared: dict[str, Any], usage: Any, seconds: float, run_id: str | None = None) -> str:
    """What a person wants to read after the run."""
    attempts = shared.get("attempts", 0)
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if shared.get("outcome") == "approved":
        head = f"Summary (approved after {tries}):"
        body = shared["summary"]
    else:
        head = f"No summary was approved in {tries}; the last draft:"
        body = shared.get("last_draft", "")
    tokens = f"{usage.input_tokens} in / {usage.output_tokens} out"
    retries = f", {usage.retries} retried" if usage.retries else ""
    sent = " sent by this invocation (journaled answers replay free)" if run_id else ""
    cost = usage.cost_text
    stats = f"{usage.calls} LLM call(s){sent}{retries}, tokens {tokens}, {cost}, {seconds:.2f} s"
    return f"\n{head}\n\n{body}\n\n{stats}"


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", nargs="?", type=Path, default=SAMPLE, help="text to summarise")
    parser.add_argument("--llm", help="provider:model or an alias (POCKETFLOW_LLM)")
    parser.add_argument("--feedback", help="console, auto, auto:deny, llm-judge, ...")
    parser.add_argument("--max-attempts", type=int, default=3, help="drafts before giving up")
    parser.add_argument("--run-id", help="run durably under this id (resume by giving it again)")
    arguments = parser.parse_args(argv)
    try:
        print(choose_settings(arguments), flush=True)
        started = time.perf_counter()
        with track_usage() as usage:
            document = arguments.document.resolve()  # a resumed run may start elsewhere
            shared = asyncio.run(run(document, arguments.max_attempts, arguments.run_id))
        print(report(shared, usage, time.perf_counter() - started, arguments.run_id))
    except FlowSuspended as waiting:
        print(f"\n{waiting}")
        return WAITING
    except PocketFlowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0 if shared.get("outcome") == "approved" else 3


if __name__ == "__main__":
    raise SystemExit(main())
