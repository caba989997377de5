"""The seam between the engine's batch nodes and executors (:mod:`pocketflow.executors`).

A batch node asks :func:`remote_executor` whether its items run elsewhere (on Ray,
Dask, ...). ``executor="local"`` never gets here; ``None`` (the configured default)
costs one call per batch, which says "local" unless ``[executors] default`` names
another. The engine imports nothing of the executors layer: it installs
:data:`dispatch` here when it is first imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

ItemCallback = Callable[[int, Any], Awaitable[None]]


class Dispatch(Protocol):
    """What :mod:`pocketflow.executors` installs: picks executors and runs batches on them."""

    def remote_executor(self, node: Any) -> Any | None:
        """The executor that runs ``node``'s items, or None when they run here."""

    async def run(
        self,
        node: Any,
        executor: Any,
        items: Any,
        done: Mapping[int, Any] | None = None,
        on_result: ItemCallback | None = None,
    ) -> list[Any]:
        """Run ``node``'s per-item path for each of ``items`` on ``executor``.

        Items whose index is in ``done`` are not sent: their result is taken from it.
        ``on_result(index, result)`` is awaited as each remote result arrives.
        """

    def run_sync(self, node: Any, executor: Any, items: Any) -> list[Any]:
        """:meth:`run` for a sync batch node, blocking until the batch is done."""


dispatch: Dispatch | None = None
"""Installed by :mod:`pocketflow.executors` when it is imported."""


def get_dispatch() -> Dispatch:
    """The executors' dispatch, loading :mod:`pocketflow.executors` on first use."""
    if dispatch is None:
        import pocketflow.executors  # noqa: F401 - installs the dispatch here

    assert dispatch is not None, "pocketflow.executors did not install its dispatch"
    return dispatch


def remote_executor(node: Any) -> Any | None:
    """The executor for ``node``'s items, or None when they run in this process."""
    return (dispatch or get_dispatch()).remote_executor(node)
