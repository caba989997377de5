"""The ``pocketflow`` command: what is installed, which models, which configuration.

pocketflow plugins    installed plugins, failed ones with the reason, what each registers
pocketflow models     providers and what each can do, aliases, the default models, and
                      where each came from
pocketflow prompt     send one prompt ("..." or standard input) and stream the answer (-m MODEL)
pocketflow config     the effective configuration with its sources (keys: set/unset only;
                      a secret written into a config file is hidden, with the reason)
pocketflow run        run a flow durably (pocketflow run MODULE:ATTR --shared JSON)
pocketflow runs       list, show, answer, resume, cancel and prune durable runs; a worker
pocketflow NAME       a command a plugin adds (register_commands), e.g. serve (pocketflow-web)
pocketflow graph      print a flow as a Mermaid flowchart (--format dot: Graphviz)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pocketflow import prompt_command, redaction
from pocketflow.config import (
    ENV_CONFIG,
    ENV_EMBEDDING,
    ENV_FEEDBACK,
    ENV_LLM,
    PROVIDER_KEYS,
    Config,
    provider_settings,
)
from pocketflow.errors import PocketFlowError
from pocketflow.install_hints import install_hint
from pocketflow.plugin_commands import add_plugin_commands, run_plugin_command
from pocketflow.plugins import PluginManager, Registration, get_plugin_manager
from pocketflow.providers import first_set_variable
from pocketflow.runs import commands as run_commands
from pocketflow.runs import flowchart
from pocketflow.runtime import DEFAULT_FEEDBACK, current_runtime


def _key_state(variables: Sequence[str]) -> str:
    """The first of ``variables`` that is set ("GOOGLE_API_KEY set"), else the first unset."""
    if not variables:
        return "no key needed"
    found = first_set_variable(variables)
    return f"{found} set" if found else f"{variables[0]} unset"


def show_plugins(plugins: PluginManager) -> list[str]:
    """Lines describing every plugin and what it registered."""
    lines = ["Plugins (entry-point group 'pocketflow', built-ins last):"]
    for status in plugins.statuses:
        state = "ok    " if status.ok else "FAILED"
        lines.append(f"  {state} {status.name:<12} {status.source}")
        if status.error:
            lines.append(f"         reason: {status.error}")
        elif status.registered:
            lines.append(f"         registers: {', '.join(status.registered)}")
    for conflict in plugins.conflicts:
        lines.append(f"  conflict: {conflict}")
    sections = (
        ("LLM providers (use as provider:model)", plugins.llm_providers),
        ("File readers", plugins.readers),
        ("Feedback providers", plugins.feedback_providers),
        ("Run stores (for durable runs)", plugins.run_stores),
        ("Executors (for batch items)", plugins.executors),
    )
    for title, table in sections:
        lines.append(f"{title}:")
        for name, registration in sorted(table.items()):
            schemes = f" [{', '.join(registration.schemes)}]" if registration.schemes else ""
            lines.append(f"  {name:<12}{schemes} {registration.description}")
        if not table:
            lines.append("  (none)")
    lines.append("Commands (pocketflow NAME):")
    for name, command in sorted(plugins.commands.items()):
        lines.append(f"  {name:<12} {command.help} [{command.plugin}]")
    if not plugins.commands:
        lines.append("  (none)")
    return lines


def show_models(config: Config, plugins: PluginManager) -> list[str]:
    """Lines describing the default model, fallbacks, aliases and providers."""
    default = config.llm or f"(none: set {ENV_LLM}=provider:model)"
    lines = [f"Default model: {default}    [{config.source_of('llm')}]"]
    if config.fallbacks:
        lines.append(
            f"Fallbacks: {', '.join(config.fallbacks)}    [{config.source_of('fallbacks')}]"
        )
    embedding = config.embedding or f"(none: set {ENV_EMBEDDING}=provider:model)"
    lines.append(f"Embedding model: {embedding}    [{config.source_of('embedding')}]")
    if config.embedding_fallbacks:
        lines.append(
            f"Embedding fallbacks: {', '.join(config.embedding_fallbacks)}    "
            f"[{config.source_of('embedding_fallbacks')}]"
        )
    if config.aliases:
        lines.append(f"Aliases    [{config.source_of('aliases')}]:")
        lines += [f"  {alias} -> {target}" for alias, target in sorted(config.aliases.items())]
    lines.append("Providers:")
    names = sorted({*plugins.llm_providers, *config.providers})
    for name in names:
        table = config.providers.get(name, {})
        kind = table.get("kind", name)
        registration = plugins.llm_providers.get(kind)
        if registration is None:
            hint = install_hint(kind) or "install the plugin that provides it"
            lines.append(f"  {name:<12} kind {kind}: NOT INSTALLED ({hint})")
            continue
        if "api_key_env" in table:
            variables: Sequence[str] = [table["api_key_env"]]
        elif registration.api_key_env:
            variables = [registration.api_key_env, *registration.api_key_env_fallbacks]
        else:
            variables = []
        where = f"[providers.{name}] in {config.where}" if table else "installed"
        base_url = table.get("base_url", "vendor default")
        lines.append(
            f"  {name:<12} kind {kind:<10} key {_key_state(variables):<26} "
            f"base_url {base_url}    [{where}]"
        )
        lines.append(f"  {'':<12} can: {_abilities(name, kind, config, registration)}")
        if registration.description:
            lines.append(f"  {'':<12} {registration.description}")
    return lines


def _abilities(name: str, kind: str, config: Config, registration: Registration) -> str:
    """What provider ``name`` can do ("chat, stream, embed"), or why that is unknown.

    A plugin declares it when it registers (``abilities=``); otherwise the provider is
    made (cheap by the plugin contract: it never calls out, though it may import its SDK).
    """
    if registration.abilities is not None:
        return ", ".join(registration.abilities)
    try:
        settings = provider_settings(name, kind, config, registration.settings)
        return ", ".join(registration.factory(settings).abilities())
    except Exception as error:  # a broken plugin or config must not hide the others
        return f"unknown ({type(error).__name__}: {error})"


def show_config(config: Config) -> list[str]:
    """Lines describing the effective configuration and where each part came from."""
    lines = [f"Config file: {config.path or 'none found (searched from the working directory up)'}"]
    lines.append(f"  {ENV_CONFIG}={os.environ.get(ENV_CONFIG, '(unset)')}")
    lines.append(f"llm = {config.llm!r}    [{config.source_of('llm')}]")
    feedback = repr(config.feedback) if config.feedback else f"unset: {DEFAULT_FEEDBACK} is used"
    lines.append(f"feedback = {feedback}    [{config.source_of('feedback')}]")
    lines.append(f"fallbacks = {list(config.fallbacks)!r}    [{config.source_of('fallbacks')}]")
    lines.append(f"embedding = {config.embedding!r}    [{config.source_of('embedding')}]")
    if config.embedding_fallbacks:
        lines.append(f"embedding_fallbacks = {list(config.embedding_fallbacks)!r}")
    for alias, target in sorted(config.aliases.items()):
        lines.append(f"aliases.{alias} = {target!r}")
    for section, tables in (
        ("providers", config.providers),
        ("readers", config.readers),
        ("feedback_providers", config.feedback_providers),
    ):
        for name, table in sorted(tables.items()):
            lines.append(f"[{section}.{name}]")
            for key, value in sorted(table.items()):
                shown = redaction.shown(key, value)
                if key == "api_key_env":
                    shown += f" ({_key_state([value])})"
                lines.append(f"  {key} = {shown}")
    lines.append("Environment:")
    for variable in (ENV_LLM, ENV_EMBEDDING, ENV_FEEDBACK, "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        value = os.environ.get(variable)
        secret = variable.endswith("_KEY")
        shown = ("set" if value else "unset") if secret else (value or "(unset)")
        lines.append(f"  {variable}: {shown}")
    lines.append(f"Provider settings accepted by every provider: {', '.join(PROVIDER_KEYS)}")
    return lines


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pocketflow-core")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _unknown_command(
    argv: Sequence[str], commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> str | None:
    """An error naming a misspelled command and the closest one, or None."""
    given = next((arg for arg in argv if not arg.startswith("-")), None)
    if given is None or given in commands.choices:
        return None
    import difflib

    close = difflib.get_close_matches(given, list(commands.choices), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown command '{given}'.{hint} Commands: {', '.join(commands.choices)}."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pocketflow`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="pocketflow", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"pocketflow {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("plugins", help="installed plugins and what they register")
    commands.add_parser("models", help="providers, aliases and the default model")
    commands.add_parser("config", help="the effective configuration and its sources")
    prompt_command.add_parser(commands)
    run_commands.add_commands(commands)
    flowchart.add_command(commands)
    plugin_commands = add_plugin_commands(commands)
    args = list(sys.argv[1:] if argv is None else argv)
    unknown = _unknown_command(args, commands)
    if unknown:
        print(f"pocketflow: {unknown}", file=sys.stderr)
        return 2
    arguments = parser.parse_args(args)
    if arguments.command in run_commands.COMMANDS:
        return run_commands.main(arguments)
    if arguments.command in plugin_commands:
        return run_plugin_command(plugin_commands[arguments.command], arguments)
    if arguments.command == flowchart.COMMAND:
        return flowchart.main(arguments)
    try:
        if arguments.command == "prompt":
            return prompt_command.run(arguments)
        if arguments.command == "plugins":
            lines = show_plugins(get_plugin_manager())
        else:
            runtime = current_runtime()
            if arguments.command == "models":
                lines = show_models(runtime.config, runtime.plugins)
            else:
                lines = show_config(runtime.config)
    except PocketFlowError as error:
        print(f"pocketflow: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
