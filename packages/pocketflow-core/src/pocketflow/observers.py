"""Observer seam between the engine and the plugin layer.

The engine reports a flow run (:func:`flow_started`, :func:`flow_finished`), each node
step (:func:`node_started`, :func:`node_finished`) and each batch item
(:func:`batch_item_started`, :func:`batch_item_finished`) only while ``active`` is
true. It starts true so that the first step loads the plugins (once); from then on it
stays true only if some plugin implements one of these hooks, so an unobserved flow
pays one attribute check per step.

Every started event is reported in the task (and so the :mod:`contextvars` context)
that runs the thing, and its finished event in the same one: parallel batch items run
in their own tasks, so a tracer keeping its current span in a context variable parents
each item's work under that item.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

active: bool = True
_relay: Any = None


def attach(relay: Any) -> None:
    """Forward node events to ``relay`` (pluggy's hook relay), or stop when it is None."""
    global active, _relay
    _relay = relay
    active = relay is not None


def attach_lazily() -> None:
    """Load the plugins at the next node step and decide then (after a plugin reset)."""
    global active, _relay
    _relay = None
    active = True


def _relay_or_load() -> Any:
    if _relay is None:
        from pocketflow.plugins import get_plugin_manager

        get_plugin_manager()  # calls attach()
    return _relay


def node_started(node: Any, shared: Any) -> None:
    """Report that ``node`` is about to run with ``shared``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.node_started(node=node, shared=shared)


def node_finished(node: Any, shared: Any, action: Any, error: BaseException | None) -> None:
    """Report that ``node`` finished with ``action``, or failed with ``error``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.node_finished(node=node, shared=shared, action=action, error=error)


def flow_started(flow: Any, shared: Any, run_id: str | None = None) -> None:
    """Report that ``flow`` starts a run on ``shared`` (durable as ``run_id``, when given)."""
    relay = _relay_or_load()
    if relay is not None:
        relay.flow_started(flow=flow, shared=shared, run_id=run_id)


def flow_finished(
    flow: Any, shared: Any, action: Any, error: BaseException | None, run_id: str | None = None
) -> None:
    """Report that a run of ``flow`` returned ``action``, or failed with ``error``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.flow_finished(flow=flow, shared=shared, action=action, error=error, run_id=run_id)


def batch_item_started(node: Any, index: int, item: Any, total: int | None = None) -> None:
    """Report that batch ``node`` (a batch node or flow) starts item ``index`` of ``total``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.batch_item_started(node=node, index=index, item=item, total=total)


def batch_item_finished(
    node: Any, index: int, item: Any, result: Any, error: BaseException | None
) -> None:
    """Report that item ``index`` of batch ``node`` gave ``result``, or failed with ``error``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.batch_item_finished(node=node, index=index, item=item, result=result, error=error)


def observe_flow(flow: Any, shared: Any, run: Callable[[], Any], run_id: str | None = None) -> Any:
    """Call ``run()`` (a run of ``flow``) between its flow_started and flow_finished reports."""
    flow_started(flow, shared, run_id)
    try:
        action = run()
    except BaseException as error:
        flow_finished(flow, shared, None, error, run_id)
        raise
    flow_finished(flow, shared, action, None, run_id)
    return action


async def observe_flow_async(
    flow: Any,
    shared: Any,
    run: Callable[[], Coroutine[Any, Any, Any]],
    run_id: str | None = None,
) -> Any:
    """Await ``run()`` (a run of ``flow``) between its flow reports."""
    flow_started(flow, shared, run_id)
    try:
        action = await run()
    except BaseException as error:
        flow_finished(flow, shared, None, error, run_id)
        raise
    flow_finished(flow, shared, action, None, run_id)
    return action


def observed_items(
    node: Any, run_one: Callable[[Any], Any], items: Any
) -> Callable[[tuple[int, Any]], Any]:
    """``run_one`` for ``(index, item)`` pairs, reporting each item of batch ``node``.

    ``items`` (the batch) gives the total, when it has a length.
    """
    total = _length(items)

    def run_item(pair: tuple[int, Any]) -> Any:
        index, item = pair
        batch_item_started(node, index, item, total)
        try:
            result = run_one(item)
        except BaseException as error:
            batch_item_finished(node, index, item, None, error)
            raise
        batch_item_finished(node, index, item, result, None)
        return result

    return run_item


def observed_items_async(
    node: Any, run_one: Callable[[Any], Coroutine[Any, Any, Any]], items: Any
) -> Callable[[tuple[int, Any]], Coroutine[Any, Any, Any]]:
    """``run_one`` for ``(index, item)`` pairs, reporting each item inside its own task."""
    total = _length(items)

    async def run_item(pair: tuple[int, Any]) -> Any:
        index, item = pair
        batch_item_started(node, index, item, total)
        try:
            result = await run_one(item)
        except BaseException as error:
            batch_item_finished(node, index, item, None, error)
            raise
        batch_item_finished(node, index, item, result, None)
        return result

    return run_item


def _length(items: Any) -> int | None:
    try:
        return len(items)
    except TypeError:  # a generator or other iterable without a length
        return None
