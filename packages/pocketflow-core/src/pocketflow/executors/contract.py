"""What an executor is: the protocol a plugin's executor implements, and what it is given.

An executor runs the items of one batch somewhere else (a Ray or Dask cluster). The
core has already serialized everything (:mod:`pocketflow.executors.shipping`): the
node once per batch, each item once, so an executor only moves bytes and calls
:func:`pocketflow.executors.worker.run_item` on its workers. Ordering results,
re-raising an item's error and journaling durable runs are the core's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

ItemOutcome = tuple[bool, bytes]
"""What a worker returns for an item: (True, result) or (False, error), each pickled."""

ResultCallback = Callable[[int, ItemOutcome], Awaitable[None]]
"""``on_result(index, outcome)``: the core's handler for an item that finished."""


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """What an executor's factory gets: its ``[executors.<name>]`` table, checked."""

    name: str
    """The executor's registered name ("ray")."""

    table: Mapping[str, Any] = field(default_factory=dict)
    """The ``[executors.<name>]`` keys (``address``, ``num_cpus``, ...), types checked."""

    where: str = field(default="no config file", compare=False)
    """The config file these settings came from, for error messages."""


@dataclass(frozen=True, slots=True)
class Shipment:
    """The node of one batch, serialized once, with what workers need to run it.

    A plain tuple (:meth:`as_tuple`) travels to workers, so they import nothing of this
    module to unpack it.
    """

    token: str
    """Unique per batch: a worker keeps the node it unpickled under it."""

    node: bytes
    """The node (successors stripped), pickled with cloudpickle."""

    env: Mapping[str, str]
    """Environment variables the worker sets before running the node (never logged)."""

    def as_tuple(self) -> tuple[str, bytes, dict[str, str]]:
        """``(token, node, env)``, the form :func:`~pocketflow.executors.worker.run_item` takes."""
        return (self.token, self.node, dict(self.env))

    def __repr__(self) -> str:  # the env may hold keys: never show it
        return f"Shipment(token={self.token!r}, node=<{len(self.node)} bytes>, env=<hidden>)"


@dataclass(frozen=True, slots=True)
class Job:
    """One batch to run on an executor."""

    node_name: str
    """The node's class name, for messages."""

    shipment: Shipment
    """The node, shipped once for the whole batch."""

    items: Sequence[tuple[int, bytes]]
    """(index in the batch, pickled item) for every item to run."""

    max_concurrency: int | None
    """The most items in flight at once on the cluster (None: as many as it takes)."""

    max_retries: int
    """The node's ``max_retries``: how often an item is tried when its worker dies."""


class Executor(Protocol):
    """Runs the items of a :class:`Job` on workers; made once and reused for every batch.

    For each ``(index, item)`` of ``job.items`` the executor calls, on a worker,
    ``pocketflow.executors.worker.run_item(job.shipment.as_tuple(), item)`` (shipping
    the shipment to the cluster once, not once per item) and awaits
    ``on_result(index, outcome)`` with what it returned, in whatever order items finish.
    """

    name: str
    """The registered name ("ray")."""

    async def map(self, job: Job, on_result: ResultCallback) -> None:
        """Run every item of ``job``, awaiting ``on_result`` as each one finishes.

        At most ``job.max_concurrency`` items are in flight. When ``on_result`` raises
        (the core does so for an item that failed), or this call is cancelled, the items
        still queued or running are cancelled on the cluster and the error propagates.
        A worker that dies mid-item has the item tried again, up to ``job.max_retries``
        tries in all. Returns when every item's ``on_result`` has returned.
        """

    async def aclose(self) -> None:
        """Release the cluster connection (and stop a cluster this executor started)."""


ExecutorFactory = Callable[[ExecutorSettings], Executor]
"""What a plugin registers: makes the executor from its settings (cheap; connect later)."""
