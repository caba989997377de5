"""The plugin manager: finds plugins through entry points, registers the built-ins
the same way, and keeps what each one registered.

Each entry point in the ``pocketflow`` group is loaded on its own: a plugin that
fails to import, names a hook that does not exist, or raises while registering is
reported (a warning, and a line in ``pocketflow plugins``) and skipped, unless
``POCKETFLOW_STRICT_PLUGINS=1`` makes that fatal. ``POCKETFLOW_LOAD_PLUGINS`` (a
comma-separated list: only these) and ``POCKETFLOW_DISABLE_PLUGINS`` (all but
these) choose which entry points load; the built-ins are always registered, last.

A plugin is imported on a worker thread with a time limit
(``POCKETFLOW_PLUGIN_IMPORT_TIMEOUT``, 30 s by default), so a plugin that hangs or
calls ``sys.exit()`` at import is reported as failed instead of ending or stopping
the host. Two plugins registering the same name (an ``openai`` provider, a reader for
``file``) are warned about and listed as a conflict; the first registration is used.
An entry point names a module of hooks, or a callable (a class, a function) that is
called each time plugins load and returns the object holding the hooks: a plugin that
observes only when something is configured (a tracer without an SDK) can then offer
no observer hooks at all, so unobserved flows keep their speed.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from pocketflow import hookspecs, observers
from pocketflow.errors import PluginError
from pocketflow.providers import SettingTypes

if TYPE_CHECKING:
    import argparse
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "pocketflow"
ENV_LOAD = "POCKETFLOW_LOAD_PLUGINS"
ENV_DISABLE = "POCKETFLOW_DISABLE_PLUGINS"
ENV_STRICT = "POCKETFLOW_STRICT_PLUGINS"
ENV_IMPORT_TIMEOUT = "POCKETFLOW_PLUGIN_IMPORT_TIMEOUT"
DEFAULT_IMPORT_TIMEOUT = 30.0
BUILTIN = "pocketflow (built-in)"

ComponentKind = Literal["llm", "reader", "feedback", "store", "executor"]
_HOOK_BY_KIND: dict[ComponentKind, str] = {
    "llm": "register_llm_providers",
    "reader": "register_file_readers",
    "feedback": "register_feedback_providers",
    "store": "register_run_stores",
    "executor": "register_executors",
}


@dataclass(frozen=True, slots=True)
class Registration:
    """One component a plugin registered: an LLM provider, a reader or a feedback provider."""

    kind: ComponentKind
    name: str
    factory: Callable[[Any], Any]
    plugin: str
    settings: SettingTypes = field(default_factory=dict)
    description: str = ""
    schemes: tuple[str, ...] = ()
    api_key_env: str | None = None
    abilities: tuple[str, ...] | None = None
    """What an LLM provider declared it can do ("chat", "stream", "embed", ...), if it did."""
    api_key_env_fallbacks: tuple[str, ...] = ()
    """Variables the provider reads its key from, in order, when ``api_key_env`` is unset."""


@dataclass(frozen=True, slots=True)
class CommandRegistration:
    """A ``pocketflow`` subcommand a plugin registered through ``register_commands``."""

    name: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    plugin: str
    help: str = ""


@dataclass(slots=True)
class PluginStatus:
    """How loading one plugin went, for ``pocketflow plugins``."""

    name: str
    source: str
    error: str | None = None
    registered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the plugin loaded and registered without error."""
        return self.error is None


class PluginManager:
    """The loaded plugins and everything they registered."""

    def __init__(self) -> None:
        self.hooks = pluggy.PluginManager(hookspecs.PROJECT)
        self.hooks.add_hookspecs(hookspecs)
        self.statuses: list[PluginStatus] = []
        self.llm_providers: dict[str, Registration] = {}
        self.readers: dict[str, Registration] = {}
        self.reader_for_scheme: dict[str, str] = {}
        self.feedback_providers: dict[str, Registration] = {}
        self.run_stores: dict[str, Registration] = {}
        self.executors: dict[str, Registration] = {}
        self.store_for_scheme: dict[str, str] = {}
        self.conflicts: list[str] = []
        self._sources: dict[str, str] = {}
        self.commands: dict[str, CommandRegistration] = {}

    def components(self, kind: ComponentKind) -> Mapping[str, Registration]:
        """The registrations of one ``kind``, by name."""
        return {
            "llm": self.llm_providers,
            "reader": self.readers,
            "feedback": self.feedback_providers,
            "store": self.run_stores,
            "executor": self.executors,
        }[kind]

    def add_plugin(self, module: ModuleType | object, name: str, source: str) -> PluginStatus:
        """Register one plugin and run its ``register_*`` hooks, isolating its failures."""
        status = PluginStatus(name=name, source=source)
        self.statuses.append(status)
        self._sources[name] = source
        try:
            self.hooks.register(module, name=name)
        except ValueError as error:  # the same plugin (or name) twice
            status.error = str(error)
            return status
        except pluggy.PluginValidationError as error:
            status.error = str(error)
            return status
        unknown = self._unknown_hooks(module)
        if unknown:
            self.hooks.unregister(name=name)
            status.error = unknown
            return status
        for kind in _HOOK_BY_KIND:
            if not status.error:
                self._run_register_hook(kind, module, name, status)
        if not status.error:
            self._run_commands_hook(module, name, status)
        if status.error:
            self._forget(name)
            self.hooks.unregister(name=name)
        return status

    def _unknown_hooks(self, module: object) -> str | None:
        known = set(_hook_names())
        marker = f"{hookspecs.PROJECT}_impl"
        for attribute in dir(module):
            if hasattr(getattr(module, attribute, None), marker) and attribute not in known:
                import difflib

                close = difflib.get_close_matches(attribute, _hook_names(), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                return f"hook '{attribute}' is not a pocketflow hook.{hint}"
        return None

    def _run_register_hook(
        self, kind: ComponentKind, module: object, plugin: str, status: PluginStatus
    ) -> None:
        hook = getattr(module, _HOOK_BY_KIND[kind], None)
        if hook is None or not hasattr(hook, f"{hookspecs.PROJECT}_impl"):
            return
        registered: list[Registration] = []

        def add(
            name: str,
            *args: Any,
            settings: SettingTypes | None = None,
            description: str = "",
            api_key_env: str | None = None,
            abilities: tuple[str, ...] | None = None,
            api_key_env_fallbacks: tuple[str, ...] = (),
        ) -> None:
            schemes: tuple[str, ...] = ()
            if kind in ("reader", "store"):
                schemes, factory = tuple(args[0]), args[1]
            else:
                (factory,) = args
            registered.append(
                Registration(
                    kind,
                    name,
                    factory,
                    plugin,
                    dict(settings or {}),
                    description,
                    schemes,
                    api_key_env,
                    tuple(abilities) if abilities is not None else None,
                    tuple(api_key_env_fallbacks),
                )
            )

        try:
            hook(register=add)
        except (Exception, SystemExit) as error:
            status.error = f"{_HOOK_BY_KIND[kind]} raised {type(error).__name__}: {error}"
            return
        for registration in registered:
            self._store(registration, status)

    def _run_commands_hook(self, module: object, plugin: str, status: PluginStatus) -> None:
        hook = getattr(module, "register_commands", None)
        if hook is None or not hasattr(hook, f"{hookspecs.PROJECT}_impl"):
            return
        registered: list[CommandRegistration] = []

        def add(
            name: str,
            add_arguments: Callable[[argparse.ArgumentParser], None],
            run: Callable[[argparse.Namespace], int],
            *,
            help: str = "",
        ) -> None:
            registered.append(CommandRegistration(name, add_arguments, run, plugin, help))

        try:
            hook(register=add)
        except Exception as error:
            status.error = f"register_commands raised {type(error).__name__}: {error}"
            return
        for command in registered:
            if command.name in self.commands:
                warnings.warn(
                    f"PocketFlow plugin '{plugin}' registers the command '{command.name}', "
                    f"which plugin '{self.commands[command.name].plugin}' registered first: "
                    f"its own is skipped.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            self.commands[command.name] = command
            status.registered.append(f"command {command.name}")

    def _store(self, registration: Registration, status: PluginStatus) -> None:
        table = self.components(registration.kind)
        what = f"{registration.kind} '{registration.name}'"
        existing = table.get(registration.name)
        if existing is not None:  # the first registration wins; built-ins come last
            self._conflict(what, self._label(existing), self._label(registration))
            return
        assert isinstance(table, dict)
        table[registration.name] = registration
        if registration.kind == "reader":
            for scheme in registration.schemes:
                reader = self.reader_for_scheme.setdefault(scheme, registration.name)
                if reader != registration.name:
                    used, ignored = self.readers[reader], registration
                    self._conflict(
                        f"the reader for '{scheme}'",
                        f"'{used.name}' of {self._label(used)}",
                        f"'{ignored.name}' of {self._label(ignored)}",
                    )
        if registration.kind == "store":
            for scheme in registration.schemes:
                self.store_for_scheme.setdefault(scheme, registration.name)
        status.registered.append(f"{registration.kind} {registration.name}")

    def _label(self, registration: Registration) -> str:
        plugin = registration.plugin
        return f"plugin {plugin} [{self._sources.get(plugin, plugin)}]"

    def _conflict(self, what: str, used: str, ignored: str) -> None:
        """Record and warn that two plugins registered ``what``; ``used`` won."""
        message = (
            f"{what} is registered twice: by {used} and by {ignored}; the first, {used}, is "
            f"used. If that is not the one you want, uninstall the other plugin or disable it "
            f"with {ENV_DISABLE}."
        )
        self.conflicts.append(message)
        warnings.warn(f"PocketFlow plugins: {message}", RuntimeWarning, stacklevel=4)

    def _forget(self, plugin: str) -> None:
        for kind in _HOOK_BY_KIND:
            table = self.components(kind)
            assert isinstance(table, dict)
            for name in [n for n, r in table.items() if r.plugin == plugin]:
                del table[name]
        for name in [n for n, c in self.commands.items() if c.plugin == plugin]:
            del self.commands[name]
        for scheme in [s for s, n in self.reader_for_scheme.items() if n not in self.readers]:
            del self.reader_for_scheme[scheme]
        for scheme in [s for s, n in self.store_for_scheme.items() if n not in self.run_stores]:
            del self.store_for_scheme[scheme]

    def observes_nodes(self) -> bool:
        """True when some plugin implements a flow, node or batch item observer hook."""
        hook = self.hooks.hook
        return any(getattr(hook, name).get_hookimpls() for name in _ENGINE_OBSERVERS)

    def observes_calls(self) -> bool:
        """True when some plugin observes LLM or embedding calls, file reads or feedback."""
        hook = self.hooks.hook
        return any(getattr(hook, name).get_hookimpls() for name in _CALL_OBSERVERS)


_ENGINE_OBSERVERS = (
    "flow_started",
    "flow_finished",
    "node_started",
    "node_finished",
    "batch_item_started",
    "batch_item_finished",
)
_CALL_OBSERVERS = (
    "llm_call_started",
    "llm_call_finished",
    "embedding_call_started",
    "embedding_call_finished",
    "file_read_started",
    "file_read_finished",
    "feedback_started",
    "feedback_finished",
)


def _hook_names() -> list[str]:
    return [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "pocketflow_spec")]


def _entry_points() -> Iterator[EntryPoint]:
    from importlib.metadata import entry_points  # only when plugins load

    yield from entry_points(group=ENTRY_POINT_GROUP)


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def load_plugins(environ: Mapping[str, str] | None = None) -> PluginManager:
    """Load every enabled entry-point plugin, then the built-ins, into a new manager."""
    env = os.environ if environ is None else environ
    only, disabled = _names(env.get(ENV_LOAD)), _names(env.get(ENV_DISABLE)) or set()
    strict = env.get(ENV_STRICT, "") not in ("", "0", "false", "no")
    time_limit = _import_time_limit(env)
    manager = PluginManager()
    for entry_point in _entry_points():
        if (only is not None and entry_point.name not in only) or entry_point.name in disabled:
            continue
        dist = entry_point.dist.name if entry_point.dist else "unknown distribution"
        source = f"entry point '{entry_point.name}' ({dist})"
        # Two distributions may both name an entry point "openai": keep both apart.
        taken = {status.name for status in manager.statuses}
        key = entry_point.name if entry_point.name not in taken else f"{entry_point.name}@{dist}"
        module, failure = _import_plugin(entry_point, time_limit)
        if module is None:
            status = PluginStatus(key, source, failure)
            manager.statuses.append(status)
        else:
            status = manager.add_plugin(module, key, source)
        if not status.ok:
            message = f"PocketFlow plugin '{status.name}' was not loaded: {status.error}"
            if strict:
                raise PluginError(f"{message} (strict mode: {ENV_STRICT} is set)")
            warnings.warn(message, RuntimeWarning, stacklevel=2)
    from pocketflow import builtins

    manager.add_plugin(builtins, "builtins", BUILTIN)
    observers.attach(manager.hooks.hook if manager.observes_nodes() else None)
    return manager


def _import_time_limit(env: Mapping[str, str]) -> float:
    value = env.get(ENV_IMPORT_TIMEOUT, "")
    try:
        seconds = float(value) if value else DEFAULT_IMPORT_TIMEOUT
    except ValueError:
        raise PluginError(
            f"{ENV_IMPORT_TIMEOUT}={value!r} is not a number of seconds; e.g. "
            f"{ENV_IMPORT_TIMEOUT}=30."
        ) from None
    if not seconds > 0:
        raise PluginError(f"{ENV_IMPORT_TIMEOUT} must be seconds greater than 0, not {value}.")
    return seconds


def _import_plugin(entry_point: EntryPoint, time_limit: float) -> tuple[Any, str | None]:
    """Import a plugin's module on a worker thread, so that neither ``sys.exit()`` at
    import nor a hang can take the host with it. Returns (module, None) or (None, why)."""
    outcome: list[Any] = []

    def load() -> None:
        try:
            module = entry_point.load()
            if callable(module) and not isinstance(module, ModuleType):
                module = module()  # a factory: the plugin chooses its hooks as plugins load
            outcome.append(("ok", module))
        except BaseException as error:  # SystemExit too: the host decides, not the plugin
            outcome.append(("error", error))

    worker = threading.Thread(target=load, name=f"pocketflow-plugin-{entry_point.name}")
    worker.daemon = True  # a hung import must not keep the process alive at exit
    worker.start()
    worker.join(time_limit)
    if not outcome:
        return None, (
            f"it did not finish importing within {time_limit:g} s (it hangs at import, or is "
            f"very slow); it was given up on. Fix or uninstall it, disable it with "
            f"{ENV_DISABLE}={entry_point.name}, or wait longer with "
            f"{ENV_IMPORT_TIMEOUT}=<seconds>."
        )
    state, value = outcome[0]
    if state == "ok":
        return value, None
    if isinstance(value, SystemExit):
        return None, f"import failed: it called sys.exit({value.code!r}) while being imported"
    if isinstance(value, KeyboardInterrupt):
        raise value
    return None, f"import failed: {type(value).__name__}: {value}"


_lock = threading.Lock()
_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process's plugin manager, loading plugins on first use."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = load_plugins()
    return _manager


def reset_plugins() -> None:
    """Forget the loaded plugins, so the next use loads them again (for tests)."""
    global _manager
    with _lock:
        _manager = None
        observers.attach_lazily()
