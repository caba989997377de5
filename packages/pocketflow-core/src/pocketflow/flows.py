"""The flow classes: a flow walks from its start node along the actions nodes return.

A flow is itself a node, so flows nest. ``BatchFlow`` runs the whole flow once per
param dict that its ``prep`` returns; the async forms mirror the sync ones, and
``AsyncFlow`` also runs sync nodes. Each step runs on a shallow copy of the node, so
two runs of one flow never share node state.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from pocketflow import durability, observers
from pocketflow.errors import InvalidActionResult, InvalidBatch, MaxStepsExceeded, MissingStartNode
from pocketflow.nodes import (
    START,
    AsyncNode,
    BaseNode,
    NodeT,
    batch_items,
    copy_node,
    run_concurrently,
)


class Flow(BaseNode):
    """Runs nodes from ``start``, following each node's action to its successor.

    The flow's own action (what ``post`` returns by default) is the last node's action.
    ``max_steps`` (None: no limit) stops a run that would take more node steps than that,
    raising :class:`~pocketflow.errors.MaxStepsExceeded`.
    """

    start_node: BaseNode | None = None
    max_steps: int | None = None

    def __init__(self, start: BaseNode | None = None, *, max_steps: int | None = None) -> None:
        super().__init__()
        self.start_node = start
        self.max_steps = max_steps

    def start(self, start: NodeT) -> NodeT:
        """Make ``start`` the first node of this flow and return it (for chaining)."""
        self.start_node = start
        return start

    def get_next_node(self, curr: BaseNode, action: str | None) -> BaseNode | None:
        """The successor of ``curr`` for ``action`` (None means "default"), or None.

        A non-string action from a node with successors is an InvalidActionResult.
        """
        if not curr.successors:
            return None
        if action is not None and not isinstance(action, str):
            raise InvalidActionResult(curr, action)
        next_node = curr.successors.get(action or "default")
        if next_node is None:
            warnings.warn(
                f"Flow ends: '{action}' not found in {list(curr.successors)}", stacklevel=1
            )
        return next_node

    def _copy_start_node(self) -> BaseNode:
        start = self.start_node
        if start is None:
            raise MissingStartNode(self)
        return copy_node(start, self, START)

    def _item_params(self, item_params: Any) -> dict[str, Any]:
        try:
            return {**self.params, **item_params}
        except TypeError:
            raise InvalidBatch(
                self,
                f"prep must return an iterable of param dicts; one item is {item_params!r} "
                f"(a {type(item_params).__name__}).",
            ) from None

    def _orch(self, shared: Any, params: dict[str, Any] | None = None) -> Any:
        params = params or {**self.params}
        current: BaseNode | None = self._copy_start_node()
        get_next_node = self.get_next_node
        # With the standard get_next_node, look successors up inline (it is called
        # only when the lookup misses, to warn about a dead end).
        standard_lookup = getattr(get_next_node, "__func__", None) is Flow.get_next_node
        max_steps = self.max_steps
        steps = 0
        action = None
        while current is not None:
            if max_steps is not None:
                steps += 1
                if steps > max_steps:
                    raise MaxStepsExceeded(self, current, max_steps)
            current.set_params(params)
            action = _run_observed(current, shared) if observers.active else current._run(shared)
            try:
                next_node = current.successors.get(action or "default") if standard_lookup else None
            except TypeError:  # an unhashable action: get_next_node names it
                next_node = None
            if next_node is None:
                next_node = get_next_node(current, action)
            current = None if next_node is None else copy_node(next_node, current, action)
        return action

    def _run(self, shared: Any) -> Any:
        prep_res = self.prep(shared)
        last_action = self._orch(shared)
        return self.post(shared, prep_res, last_action)

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        """Return the flow's action: by default ``exec_res``, the last node's action."""
        return exec_res

    def run(
        self,
        shared: Any,
        *,
        run_id: str | None = None,
        store: str | None = None,
        on_change: durability.OnChange = "refuse",
        target: str | None = None,
    ) -> Any:
        """Run the flow on ``shared`` and return its action.

        With ``run_id`` the run is durable: each step is committed to the run store
        (``store``, a URL; default: ``[runs] store`` in the config), and calling again
        with the same ``run_id`` resumes it (see the README's "Durable runs").
        ``on_change="continue"`` resumes a run whose flow changed shape since it started.
        ``target`` (``"MODULE:ATTR"`` or ``"path/to/file.py:ATTR"``, a flow or a function
        returning one) lets ``pocketflow runs resume`` and workers resume the run.
        """
        if run_id is None:
            if observers.active:
                run = super().run
                return observers.observe_flow(self, shared, lambda: run(shared))
            return super().run(shared)
        options = {"store": store, "on_change": on_change, "target": target}
        return durability.get_runner().run(self, shared, run_id, options)


class BatchFlow(Flow):
    """Runs the whole flow once per param dict that ``prep`` returns, one after another.

    Each run's params are the flow's params updated with that item's dict.
    """

    def _run(self, shared: Any) -> Any:
        batch = batch_items(self, self.prep(shared))
        if observers.active:
            run_pair = observers.observed_items(self, self._run_one_item(shared), batch)
            for pair in enumerate(batch):
                run_pair(pair)
        else:
            for item_params in batch:
                self._orch(shared, self._item_params(item_params))
        return self.post(shared, batch, None)

    def _run_one_item(self, shared: Any) -> Callable[[Any], Any]:
        """Run the flow for one batch item's params."""
        return lambda item_params: self._orch(shared, self._item_params(item_params))


class AsyncFlow(Flow, AsyncNode):
    """A flow run with ``await flow.run_async(shared)``; its nodes may be sync or async."""

    async def _orch_async(self, shared: Any, params: dict[str, Any] | None = None) -> Any:
        params = params or {**self.params}
        current: BaseNode | None = self._copy_start_node()
        get_next_node = self.get_next_node
        # With the standard get_next_node, look successors up inline (it is called
        # only when the lookup misses, to warn about a dead end).
        standard_lookup = getattr(get_next_node, "__func__", None) is Flow.get_next_node
        max_steps = self.max_steps
        limit = _NO_LIMIT if max_steps is None else max_steps
        # One check serves both max_steps and yielding to the loop every YIELD_EVERY
        # steps, so a cycle of steps that never suspend can still be cancelled.
        check_after = min(limit, YIELD_EVERY)
        steps = 0
        action = None
        while current is not None:
            steps += 1
            if steps > check_after:
                if steps > limit:
                    raise MaxStepsExceeded(self, current, limit)
                await asyncio.sleep(0)
                check_after = min(limit, steps - 1 + YIELD_EVERY)
            current.set_params(params)
            if observers.active:
                action = await _run_observed_async(current, shared)
            elif isinstance(current, AsyncNode):
                action = await current._run_async(shared)
            else:
                action = current._run(shared)
            try:
                next_node = current.successors.get(action or "default") if standard_lookup else None
            except TypeError:  # an unhashable action: get_next_node names it
                next_node = None
            if next_node is None:
                next_node = get_next_node(current, action)
            current = None if next_node is None else copy_node(next_node, current, action)
        return action

    def _run_one_item_async(self, shared: Any) -> Callable[[Any], Coroutine[Any, Any, Any]]:
        """Run the flow for one batch item's params (for the batch flows)."""

        def run_item(item_params: Any) -> Coroutine[Any, Any, Any]:
            return self._orch_async(shared, self._item_params(item_params))

        return run_item

    async def _run_async(self, shared: Any) -> Any:
        prep_res = await self.prep_async(shared)
        last_action = await self._orch_async(shared)
        return await self.post_async(shared, prep_res, last_action)

    async def run_async(
        self,
        shared: Any,
        *,
        run_id: str | None = None,
        store: str | None = None,
        on_change: durability.OnChange = "refuse",
        target: str | None = None,
    ) -> Any:
        """Run the flow on ``shared`` and return its action; durable with ``run_id``.

        See :meth:`Flow.run` for ``run_id``, ``store``, ``on_change`` and ``target``.
        """
        if run_id is None:
            if observers.active:
                run = super().run_async
                return await observers.observe_flow_async(self, shared, lambda: run(shared))
            return await super().run_async(shared)
        options = {"store": store, "on_change": on_change, "target": target}
        return await durability.get_runner().run_async(self, shared, run_id, options)

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        """Return the flow's action: by default ``exec_res``, the last node's action."""
        return exec_res

    # No sync ``_run`` override: as in PocketFlow 0.0.3, ``async_flow.run(shared)`` runs
    # the flow synchronously through Flow._run, which works while every node is sync;
    # the first async node raises AsyncRunRequired naming itself.


class AsyncBatchFlow(AsyncFlow, BatchFlow):
    """Runs the async flow once per param dict that ``prep_async`` returns, in turn."""

    async def _run_async(self, shared: Any) -> Any:
        batch = batch_items(self, await self.prep_async(shared))
        if observers.active:
            run_pair = observers.observed_items_async(self, self._run_one_item_async(shared), batch)
            for pair in enumerate(batch):
                await run_pair(pair)
        else:
            for item_params in batch:
                await self._orch_async(shared, self._item_params(item_params))
        return await self.post_async(shared, batch, None)


class AsyncParallelBatchFlow(AsyncFlow, BatchFlow):
    """Runs the async flow for every param dict that ``prep_async`` returns, concurrently.

    ``max_concurrency`` (None: no limit) bounds how many runs are in flight. When a run
    fails, the others still in flight are cancelled and its error is raised.
    """

    max_concurrency: int | None = None

    def __init__(
        self,
        start: BaseNode | None = None,
        *,
        max_steps: int | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        super().__init__(start, max_steps=max_steps)
        self.max_concurrency = max_concurrency

    async def _run_async(self, shared: Any) -> Any:
        batch = batch_items(self, await self.prep_async(shared))
        run_item = self._run_one_item_async(shared)
        if observers.active:
            pairs = enumerate(batch)
            await run_concurrently(
                observers.observed_items_async(self, run_item, batch), pairs, self.max_concurrency
            )
        else:
            await run_concurrently(run_item, batch, self.max_concurrency)
        return await self.post_async(shared, batch, None)


YIELD_EVERY = 1024
"""An async flow yields to the event loop once per this many steps."""
_NO_LIMIT = 1 << 62


def _run_observed(node: BaseNode, shared: Any) -> Any:
    """Run one sync step, reporting it to the observers."""
    observers.node_started(node, shared)
    try:
        action = node._run(shared)
    except BaseException as error:
        observers.node_finished(node, shared, None, error)
        raise
    observers.node_finished(node, shared, action, None)
    return action


async def _run_observed_async(node: BaseNode, shared: Any) -> Any:
    """Run one step of an async flow (sync or async node), reporting it to the observers."""
    observers.node_started(node, shared)
    try:
        if isinstance(node, AsyncNode):
            action = await node._run_async(shared)
        else:
            action = node._run(shared)
    except BaseException as error:
        observers.node_finished(node, shared, None, error)
        raise
    observers.node_finished(node, shared, action, None)
    return action
