"""The plugin contract: the hooks a PocketFlow plugin may implement.

A plugin is a module named by an entry point in the ``pocketflow`` group, holding
functions marked ``@pocketflow.hookimpl`` whose names are the hooks below.

Hooks are plain, synchronous functions. The ``register_*`` hooks *register*
provider objects (whose methods are ``async``); they never perform a call, because
pluggy cannot await a hook. Every ``register_*`` hook is called once, when plugins
load; all implementations run and no result is used. The observer hooks are called
as things happen and must return quickly; their results are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import argparse

    from pocketflow.calls import (
        EmbeddingCallRecord,
        EmbeddingCallStart,
        LLMCallRecord,
        LLMCallStart,
    )
    from pocketflow.executors.contract import ExecutorFactory
    from pocketflow.files import FileRead
    from pocketflow.providers import (
        Feedback,
        FeedbackProviderFactory,
        FeedbackRequest,
        FileReaderFactory,
        LLMProviderFactory,
        SettingTypes,
    )
    from pocketflow.runs.store import RunStoreFactory

PROJECT = "pocketflow"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementations: ``@hookimpl def register_llm_providers(...)``."""


class RegisterLLMProvider(Protocol):
    """The ``register`` callback of :func:`register_llm_providers`."""

    def __call__(
        self,
        name: str,
        factory: LLMProviderFactory,
        *,
        settings: SettingTypes | None = None,
        description: str = "",
        api_key_env: str | None = None,
        abilities: tuple[str, ...] | None = None,
        api_key_env_fallbacks: tuple[str, ...] = (),
    ) -> None:
        """Register ``factory`` as provider ``name``.

        ``settings`` declares the extra keys its ``[providers.<name>]`` table may hold
        (key -> type); ``description`` is the line ``pocketflow plugins`` shows;
        ``api_key_env`` names the variable its key is read from by default, and
        ``api_key_env_fallbacks`` those read, in order, when it is not set;
        ``abilities`` what it can do, for ``pocketflow models`` (some of "chat",
        "stream", "structured", "tools", "embed"; when not given, the provider is made
        and asked, see :meth:`~pocketflow.providers.LLMProvider.abilities`, which
        imports its SDK).
        """


class RegisterFileReader(Protocol):
    """The ``register`` callback of :func:`register_file_readers`."""

    def __call__(
        self,
        name: str,
        schemes: tuple[str, ...],
        factory: FileReaderFactory,
        *,
        settings: SettingTypes | None = None,
        description: str = "",
    ) -> None:
        """Register ``factory`` as reader ``name`` for URL ``schemes`` ("file" covers paths)."""


class RegisterFeedbackProvider(Protocol):
    """The ``register`` callback of :func:`register_feedback_providers`."""

    def __call__(
        self,
        name: str,
        factory: FeedbackProviderFactory,
        *,
        settings: SettingTypes | None = None,
        description: str = "",
    ) -> None:
        """Register ``factory`` as feedback provider ``name``."""


class RegisterRunStore(Protocol):
    """The ``register`` callback of :func:`register_run_stores`."""

    def __call__(
        self,
        name: str,
        schemes: tuple[str, ...],
        factory: RunStoreFactory,
        *,
        settings: SettingTypes | None = None,
        description: str = "",
    ) -> None:
        """Register ``factory`` as run store ``name`` for URL ``schemes`` (``sqlite``)."""


class RegisterExecutor(Protocol):
    """The ``register`` callback of :func:`register_executors`."""

    def __call__(
        self,
        name: str,
        factory: ExecutorFactory,
        *,
        settings: SettingTypes | None = None,
        description: str = "",
    ) -> None:
        """Register ``factory`` as executor ``name`` (``executor="ray"`` on a batch node).

        ``settings`` declares the keys its ``[executors.<name>]`` table may hold.
        """


class RegisterCommand(Protocol):
    """The ``register`` callback of :func:`register_commands`."""

    def __call__(
        self,
        name: str,
        add_arguments: Callable[[argparse.ArgumentParser], None],
        run: Callable[[argparse.Namespace], int],
        *,
        help: str = "",
    ) -> None:
        """Register ``pocketflow NAME``: ``add_arguments(parser)`` declares its options,
        ``run(arguments)`` does the work and returns the exit status; ``help`` is its line
        in ``pocketflow --help``."""


@hookspec
def register_llm_providers(register: RegisterLLMProvider) -> None:
    """Register LLM providers: call ``register(name, factory, ...)`` once for each.

    Called once when plugins load. ``factory(settings)`` must be cheap and import no
    vendor SDK; the provider makes its client on first use.
    """


@hookspec
def register_file_readers(register: RegisterFileReader) -> None:
    """Register file readers: call ``register(name, schemes, factory, ...)`` for each.

    Called once when plugins load. A later registration for a scheme does not replace
    an earlier one; built-ins register last, so plugins win.
    """


@hookspec
def register_feedback_providers(register: RegisterFeedbackProvider) -> None:
    """Register feedback providers: call ``register(name, factory, ...)`` for each.

    Called once when plugins load.
    """


@hookspec
def register_run_stores(register: RegisterRunStore) -> None:
    """Register run stores for durable runs: call ``register(name, schemes, factory)``.

    Called once when plugins load. ``factory(location)`` gets a
    :class:`~pocketflow.runs.store.StoreLocation` (the URL, the folder relative paths
    start from, the ``[runs]`` settings) and returns a
    :class:`~pocketflow.runs.store.RunStore`; it is called once per URL and process.
    A later registration for a scheme does not replace an earlier one.
    """


@hookspec
def register_executors(register: RegisterExecutor) -> None:
    """Register executors for batch items: call ``register(name, factory, ...)`` for each.

    Called once when plugins load; keep it cheap (import the cluster library inside the
    executor, on first use). ``factory(settings)`` gets an
    :class:`~pocketflow.executors.contract.ExecutorSettings` (the ``[executors.<name>]``
    table and the variables to forward) and returns an
    :class:`~pocketflow.executors.contract.Executor`; it is called once per process and
    configuration, and the executor is reused for every batch. The first registration of
    a name wins; ``local`` is the core's.
    """


@hookspec
def register_commands(register: RegisterCommand) -> None:
    """Register subcommands of ``pocketflow``: call ``register(name, add_arguments, run)``.

    Called once when plugins load; keep it cheap (import what the command needs inside
    ``run``). A name the core already uses, or that an earlier plugin took, is skipped
    with a warning. A command whose ``run`` raises reports the error and exits 1.
    """


@hookspec
def flow_started(flow: Any, shared: Any, run_id: str | None) -> None:
    """A run of ``flow`` (the outermost one; nested flows are node steps) starts.

    ``run_id`` names the durable run, or is None. Return quickly.
    """


@hookspec
def flow_finished(
    flow: Any, shared: Any, action: Any, error: BaseException | None, run_id: str | None
) -> None:
    """A run of ``flow`` returned ``action``, or raised ``error`` (then action is None)."""


@hookspec
def node_started(node: Any, shared: Any) -> None:
    """A flow is about to run ``node`` with the ``shared`` store. Return quickly."""


@hookspec
def node_finished(node: Any, shared: Any, action: Any, error: BaseException | None) -> None:
    """A flow ran ``node``: it chose ``action``, or raised ``error`` (then action is None)."""


@hookspec
def batch_item_started(node: Any, index: int, item: Any, total: int | None) -> None:
    """Batch ``node`` (a batch node, or a batch flow with the item's params) starts item ``index``.

    ``total`` is the number of items, or None when the batch is an iterable without a length.

    Called in the task that runs the item (parallel items each run in their own task),
    so context variables set here are seen by the item's work. Return quickly.
    """


@hookspec
def batch_item_finished(
    node: Any, index: int, item: Any, result: Any, error: BaseException | None
) -> None:
    """Item ``index`` of batch ``node`` gave ``result``, or raised ``error``."""


@hookspec
def feedback_requested(question: Any) -> None:
    """A durable run stopped on a question for a person (``inbox`` feedback).

    Called once, when the question is stored. ``question`` is a
    :class:`~pocketflow.runs.store.Question` (run id, content, audience, expiry). Post
    it to a chat, send a mail, page someone; return quickly.
    """


@hookspec
def llm_call_started(call: LLMCallStart) -> None:
    """An LLM call starts: ``call`` gives the model asked for, its provider and the request.

    Its ``llm_call_finished`` record carries the same ``call`` object (``record.call``).
    """


@hookspec
def llm_call_finished(record: LLMCallRecord) -> None:
    """An LLM call ended, answered or failed for good.

    ``record`` gives the model asked for, the response (with usage, the model that
    answered and the attempts) or the error, and the duration in seconds.
    """


@hookspec
def embedding_call_started(call: EmbeddingCallStart) -> None:
    """An ``embed_async`` call starts: the model asked for, its provider, every text.

    Its ``embedding_call_finished`` record carries the same ``call`` object.
    """


@hookspec
def embedding_call_finished(record: EmbeddingCallRecord) -> None:
    """An ``embed_async`` call ended, answered (``record.embeddings``: vectors, usage,
    batches, who answered) or failed for good (``record.error``)."""


@hookspec
def file_read_started(read: FileRead) -> None:
    """``read_file_async`` starts reading ``read.location`` with reader ``read.reader``."""


@hookspec
def file_read_finished(read: FileRead, text: str | None, error: BaseException | None) -> None:
    """A read ended with ``text``, or failed with ``error`` (then text is None)."""


@hookspec
def feedback_started(request: FeedbackRequest, provider: str) -> None:
    """Feedback provider ``provider`` is asked to judge ``request.content``."""


@hookspec
def feedback_finished(
    request: FeedbackRequest, provider: str, feedback: Feedback | None, error: BaseException | None
) -> None:
    """The provider gave ``feedback`` (decision and comment), or failed with ``error``.

    A durable run stopping to wait for a person ends the ask with the ``Suspend`` error.
    """
