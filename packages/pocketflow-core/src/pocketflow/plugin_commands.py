"""Subcommands of ``pocketflow`` that plugins add through the ``register_commands`` hook.

Each is added to the command line on its own: one whose name is taken, or whose
``add_arguments`` raises, is skipped with a warning and the others still work; one
whose ``run`` raises reports the error, naming its plugin, and exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from pocketflow.errors import PocketFlowError
from pocketflow.plugins import CommandRegistration, get_plugin_manager


def add_plugin_commands(commands: Any) -> dict[str, CommandRegistration]:
    """Add every plugin command to ``commands`` (argparse subparsers); return those added."""
    try:
        registered = get_plugin_manager().commands
    except PocketFlowError:  # strict mode and a broken plugin: `pocketflow plugins` says why
        return {}
    added = {}
    for name, command in registered.items():
        if name in commands.choices:
            warnings.warn(
                f"PocketFlow plugin '{command.plugin}' registers the command '{name}', which "
                f"pocketflow has already: the plugin's is skipped.",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        options = argparse.ArgumentParser(add_help=False)
        try:
            command.add_arguments(options)
        except Exception as error:
            warnings.warn(
                f"PocketFlow plugin '{command.plugin}': the command '{name}' was not added: its "
                f"add_arguments raised {type(error).__name__}: {error}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        commands.add_parser(name, parents=[options], help=command.help)
        added[name] = command
    return added


def run_plugin_command(command: CommandRegistration, arguments: argparse.Namespace) -> int:
    """Run a plugin command; its failure is reported, never a traceback."""
    try:
        return command.run(arguments)
    except PocketFlowError as error:
        print(f"pocketflow {command.name}: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        print(
            f"pocketflow {command.name} (plugin '{command.plugin}') failed: "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
