"""``pocketflow prompt "..." -m MODEL``: send one prompt, stream the answer to the terminal.

The prompt comes from the argument, or from standard input when there is none
(``echo hi | pocketflow prompt -m offline:echo``); the model from ``-m``, else the
configured default.
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``prompt`` subcommand to the CLI's parser."""
    parser = commands.add_parser(
        "prompt", help="send one prompt and stream the answer to the terminal"
    )
    parser.add_argument("text", nargs="?", help="the prompt (default: read standard input)")
    parser.add_argument("-m", "--model", help="provider:model or an alias (default: configured)")
    parser.add_argument("-s", "--system", help="a system prompt")


def run(arguments: argparse.Namespace) -> int:
    """Stream the answer to ``arguments.text``; raises PocketFlowError on failure."""
    text = arguments.text if arguments.text is not None else sys.stdin.read().rstrip("\n")
    asyncio.run(_stream(text, arguments.model, arguments.system))
    return 0


async def _stream(text: str, model: str | None, system: str | None) -> None:
    import pocketflow

    out = sys.stdout
    last = ""
    try:
        async for chunk in pocketflow.stream_llm_async(text, model=model, system=system):
            out.write(chunk)
            out.flush()
            last = chunk or last
    finally:
        await pocketflow.aclose()
    if not last.endswith("\n"):
        out.write("\n")
        out.flush()
