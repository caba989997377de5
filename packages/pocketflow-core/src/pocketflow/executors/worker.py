"""What runs on a cluster worker for each batch item: the node's own per-item path.

:func:`run_item` is the function executors call remotely. It unpickles the batch's
node once per worker process (kept under the batch's token), sets the forwarded
environment (so plugins and configuration load as they would on the caller's
machine), and runs the item through the node's ``exec`` with its retries, waits and
fallback: ``Node._exec`` or, for async nodes, ``AsyncNode._exec`` on one event loop
per worker process, run by a helper thread (so vendor clients made on it are reused,
and threads of a multi-threaded worker share it). It never raises for the item's own
failure: it returns ``(False, pickled exception)``, so every executor reports errors
the same way.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import threading
import traceback
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

_KEPT_NODES = 8
_nodes: OrderedDict[str, Any] = OrderedDict()
_nodes_lock = threading.Lock()
_worker_loop: asyncio.AbstractEventLoop | None = None


def run_item(shipment: tuple[str, bytes, dict[str, str]], item: bytes) -> tuple[bool, bytes]:
    """Run one item of a shipped batch; return ``(ok, pickled result or exception)``."""
    import cloudpickle  # type: ignore[import-untyped]  # ships no type hints

    from pocketflow.nodes import AsyncNode, Node

    node = _node(shipment)
    try:
        value = pickle.loads(item)
        if isinstance(node, AsyncNode):
            result = _run_on_loop(AsyncNode._exec(node, value))
        else:
            result = Node._exec(node, value)
    except Exception as error:
        return False, _pickled_error(cloudpickle, error)
    try:
        return True, cloudpickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        from pocketflow.errors import ExecutorError

        failure = ExecutorError(
            f"{type(node).__name__}'s result cannot be sent back from the worker: "
            f"{type(error).__name__}: {error}. Return plain data (str, dict, list, ...)."
        )
        return False, cloudpickle.dumps(failure)


def _node(shipment: tuple[str, bytes, dict[str, str]]) -> Any:
    token, data, env = shipment
    node = _nodes.get(token)
    if node is not None:
        return node
    with _nodes_lock:
        node = _nodes.get(token)
        if node is None:
            _apply_env(env)
            node = pickle.loads(data)
            _nodes[token] = node
            while len(_nodes) > _KEPT_NODES:
                _nodes.popitem(last=False)
    return node


def _apply_env(env: dict[str, str]) -> None:
    """Set the forwarded variables; re-read configuration and plugins if any changed."""
    changed = False
    for name, value in env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
            changed = True
    if changed:
        from pocketflow.runtime import reset_runtime

        reset_runtime()


def _run_on_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` on the worker's event loop and wait for its result."""
    future = asyncio.run_coroutine_threadsafe(coroutine, _loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()  # interrupted (a cancelled task): stop the coroutine too
        raise


def _loop() -> asyncio.AbstractEventLoop:
    """The worker process's event loop, started on a daemon thread on first use."""
    global _worker_loop
    if _worker_loop is None:
        with _nodes_lock:
            if _worker_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="pocketflow-worker-loop", daemon=True
                )
                thread.start()
                _worker_loop = loop
    return _worker_loop


def _pickled_error(cloudpickle: Any, error: Exception) -> bytes:
    """The item's exception, pickled with the worker's traceback as a note.

    An exception whose ``__init__`` takes other arguments than its message does not
    unpickle the usual way; it is then rebuilt from its class, ``args`` and attributes
    (those that pickle), so the caller still gets its type and message.
    """
    remote = "".join(traceback.format_exception(error)).rstrip()
    error.add_note(f"Raised on a cluster worker (pid {os.getpid()}):\n{remote}")
    try:
        data: bytes = cloudpickle.dumps(error)
        pickle.loads(data)
        return data
    except Exception:
        pass
    state = {}
    for name, value in vars(error).items():
        try:
            cloudpickle.dumps(value)
        except Exception:
            continue
        state[name] = value
    try:
        rebuilt: bytes = cloudpickle.dumps(_Rebuild(type(error), error.args, state))
        pickle.loads(rebuilt)
        return rebuilt
    except Exception:
        from pocketflow.errors import ExecutorError

        stand_in = ExecutorError(f"{type(error).__name__}: {error}")
        stand_in.add_note(
            f"The item's own {type(error).__name__} could not be sent back as itself.\n{remote}"
        )
        fallback: bytes = cloudpickle.dumps(stand_in)
        return fallback


class _Rebuild:
    """Pickles as a call that rebuilds an exception without running its ``__init__``."""

    def __init__(self, cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]):
        self.cls, self.args, self.state = cls, args, state

    def __reduce__(self) -> tuple[Any, ...]:
        return (rebuild_exception, (self.cls, self.args, self.state))


def rebuild_exception(
    cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseException:
    """An instance of ``cls`` with ``args`` and attributes ``state``, ``__init__`` not run."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error
