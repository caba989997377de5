"""Plugin entry point: registers ``pocketflow serve`` (Starlette loads only when it runs)."""

from __future__ import annotations

import argparse

from pocketflow.hookspecs import RegisterCommand, hookimpl

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8421


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``pocketflow serve``."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free one"
    )
    parser.add_argument("--store", help="run store URL (default: [runs] store)")


def run(arguments: argparse.Namespace) -> int:
    """Serve the review page until Ctrl-C."""
    from pocketflow_web.server import main

    return main(arguments.host, arguments.port, arguments.store)


@hookimpl
def register_commands(register: RegisterCommand) -> None:
    """Register ``serve``."""
    register(
        "serve",
        add_arguments,
        run,
        help="the review page: approve or deny waiting questions in a browser",
    )
