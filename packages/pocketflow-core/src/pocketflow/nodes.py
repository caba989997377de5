"""The node classes: one idea each, and every async class shaped like its sync twin.

``BaseNode`` holds prep/exec/post and the successors; ``Node`` adds retries, waits and
a fallback; ``BatchNode`` runs ``exec`` once per item. ``AsyncNode``,
``AsyncBatchNode`` and ``AsyncParallelBatchNode`` are the same ideas with
``async def`` hooks. The behaviour is PocketFlow 0.0.3's, so its programs run
unchanged; the new keyword arguments (backoff, max_wait, jitter, max_concurrency)
default to the old behaviour.
"""

from __future__ import annotations

import asyncio
import copy
import copyreg
import random
import time
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, Final, TypeVar

from pocketflow import executor_seam, observers
from pocketflow.errors import AsyncRunRequired, InvalidAction, InvalidBatch, NotANode

NodeT = TypeVar("NodeT", bound="BaseNode")


class BaseNode:
    """A step of a flow: ``prep`` reads shared state, ``exec`` computes, ``post`` writes.

    ``post`` returns the action (a string, or None for ``"default"``) that picks the
    next node among ``successors``. ``params`` are set by the flow that runs the node.
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.successors: dict[str, BaseNode] = {}

    def set_params(self, params: dict[str, Any]) -> None:
        """Give the node its params (a flow passes the same dict to each of its nodes)."""
        self.params = params

    def next(self, node: NodeT, action: str = "default") -> NodeT:
        """Run ``node`` after this one when ``post`` returns ``action``; return ``node``."""
        if action in self.successors:
            warnings.warn(f"Overwriting successor for action '{action}'", stacklevel=2)
        self.successors[action] = node
        return node

    def prep(self, shared: Any) -> Any:
        """Read what ``exec`` needs from ``shared``; the result is passed to exec and post."""

    def exec(self, prep_res: Any) -> Any:
        """Do the work on ``prep_res`` (without touching ``shared``) and return a result."""

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        """Write results to ``shared`` and return the next action (None means default)."""

    def _exec(self, prep_res: Any) -> Any:
        return self.exec(prep_res)

    def _run(self, shared: Any) -> Any:
        prep_res = self.prep(shared)
        exec_res = self._exec(prep_res)
        return self.post(shared, prep_res, exec_res)

    def run(self, shared: Any) -> Any:
        """Run this node alone (not its successors) and return its action."""
        if self.successors:
            warnings.warn("Node won't run successors. Use Flow.", stacklevel=2)
        return self._run(shared)

    def __rshift__(self, other: NodeT) -> NodeT:
        """``a >> b`` runs ``b`` after ``a`` on the default action."""
        return self.next(other)

    def __sub__(self, action: str) -> _ConditionalTransition:
        """``a - "action" >> b`` runs ``b`` after ``a`` when ``a`` returns ``action``."""
        if isinstance(action, str):
            return _ConditionalTransition(self, action)
        raise InvalidAction(action)


class _ConditionalTransition:
    """The ``a - "action"`` half of ``a - "action" >> b``."""

    def __init__(self, source: BaseNode, action: str) -> None:
        self.source = source
        self.action = action

    def __rshift__(self, target: NodeT) -> NodeT:
        return self.source.next(target, self.action)


class Node(BaseNode):
    """A node whose ``exec`` is tried up to ``max_retries`` times before ``exec_fallback``.

    Between tries it waits ``wait`` seconds, multiplied by ``backoff`` after each failed
    try, capped at ``max_wait``, and drawn uniformly from [0, delay] when ``jitter``.
    ``cur_retry`` is the index (from 0) of the try in progress.
    """

    # Class-level defaults keep subclasses that skip Node.__init__ working.
    max_retries: int = 1
    wait: float = 0
    backoff: float = 1.0
    max_wait: float | None = None
    jitter: bool = False
    cur_retry: int = 0

    def __init__(
        self,
        max_retries: int = 1,
        wait: float = 0,
        *,
        backoff: float = 1.0,
        max_wait: float | None = None,
        jitter: bool = False,
    ) -> None:
        super().__init__()
        self.max_retries = max_retries
        self.wait = wait
        self.backoff = backoff
        self.max_wait = max_wait
        self.jitter = jitter

    def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
        """Return a result after the last try failed with ``exc``; by default re-raise it."""
        raise exc

    def retry_delay(self, failed_try: int) -> float:
        """Seconds to wait after try number ``failed_try`` (from 0) failed."""
        delay = self.wait * self.backoff**failed_try
        if self.max_wait is not None and delay > self.max_wait:
            delay = self.max_wait
        if self.jitter and delay > 0:
            delay = random.uniform(0, delay)
        return delay

    def _exec(self, prep_res: Any) -> Any:
        # A while loop: in this hot path it is cheaper than `for ... in range(...)`.
        attempt = 0
        while attempt < self.max_retries:
            self.cur_retry = attempt
            try:
                return self.exec(prep_res)
            except Exception as error:
                if attempt >= self.max_retries - 1:
                    return self.exec_fallback(prep_res, error)
            delay = self.retry_delay(attempt)
            if delay > 0:
                time.sleep(delay)
            attempt += 1
        return None


class BatchNode(Node):
    """A node whose ``prep`` returns an iterable of items; ``exec`` runs once per item.

    Each item gets its own retries and fallback; ``post`` receives the list of results.
    ``executor`` names where the items run: ``"local"`` (this process, one after
    another), an installed executor such as ``"ray"`` or ``"dask"`` (the node's
    per-item path runs on the cluster's workers, items in parallel), or None for
    ``[executors] default`` in ``pocketflow.toml`` (``"local"`` when unset).
    """

    executor: str | None = None

    def __init__(
        self,
        max_retries: int = 1,
        wait: float = 0,
        *,
        backoff: float = 1.0,
        max_wait: float | None = None,
        jitter: bool = False,
        executor: str | None = None,
    ) -> None:
        super().__init__(max_retries, wait, backoff=backoff, max_wait=max_wait, jitter=jitter)
        self.executor = executor

    def _exec(self, items: Any) -> Any:
        if self.executor != "local":
            remote = executor_seam.remote_executor(self)
            if remote is not None:
                return executor_seam.get_dispatch().run_sync(self, remote, items)
        run_item = super()._exec
        if observers.active:
            batch = batch_items(self, items)
            run_pair = observers.observed_items(self, run_item, batch)
            return [run_pair(pair) for pair in enumerate(batch)]
        return [run_item(item) for item in batch_items(self, items)]


class AsyncNode(Node):
    """A node whose hooks are coroutines: ``prep_async``, ``exec_async``, ``post_async``.

    Run it with ``await node.run_async(shared)`` or inside an ``AsyncFlow``. Retries,
    waits and the fallback (``exec_fallback_async``) work as in :class:`Node`, and a
    wait between tries can be cancelled.
    """

    async def prep_async(self, shared: Any) -> Any:
        """Read what ``exec_async`` needs from ``shared``."""

    async def exec_async(self, prep_res: Any) -> Any:
        """Do the work on ``prep_res`` and return a result."""

    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
        """Return a result after the last try failed with ``exc``; by default re-raise it."""
        raise exc

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        """Write results to ``shared`` and return the next action (None means default)."""

    async def _exec(self, prep_res: Any) -> Any:
        attempt = 0
        while attempt < self.max_retries:
            self.cur_retry = attempt
            try:
                return await self.exec_async(prep_res)
            except Exception as error:
                if attempt >= self.max_retries - 1:
                    return await self.exec_fallback_async(prep_res, error)
            delay = self.retry_delay(attempt)
            if delay > 0:
                await asyncio.sleep(delay)
            attempt += 1
        return None

    async def run_async(self, shared: Any) -> Any:
        """Run this node alone (not its successors) and return its action."""
        if self.successors:
            warnings.warn("Node won't run successors. Use AsyncFlow.", stacklevel=2)
        return await self._run_async(shared)

    async def _run_async(self, shared: Any) -> Any:
        prep_res = await self.prep_async(shared)
        exec_res = await self._exec(prep_res)
        return await self.post_async(shared, prep_res, exec_res)

    def _run(self, shared: Any) -> Any:
        raise AsyncRunRequired(self)


class AsyncBatchNode(AsyncNode, BatchNode):
    """An async batch node: ``exec_async`` runs once per item, one item after another."""

    async def _exec(self, items: Any) -> Any:
        if self.executor != "local":
            remote = executor_seam.remote_executor(self)
            if remote is not None:
                return await executor_seam.get_dispatch().run(self, remote, items)
        run_item = super()._exec
        if observers.active:
            batch = batch_items(self, items)
            run_pair = observers.observed_items_async(self, run_item, batch)
            return [await run_pair(pair) for pair in enumerate(batch)]
        return [await run_item(item) for item in batch_items(self, items)]


class AsyncParallelBatchNode(AsyncNode, BatchNode):
    """An async batch node whose items run concurrently; results keep the input order.

    ``max_concurrency`` (None: no limit) bounds how many items are in flight, here or
    on the cluster of the node's ``executor``. When an
    item fails for good (after its retries and fallback), the items still in flight are
    cancelled and the first error is raised.
    """

    max_concurrency: int | None = None

    def __init__(
        self,
        max_retries: int = 1,
        wait: float = 0,
        *,
        backoff: float = 1.0,
        max_wait: float | None = None,
        jitter: bool = False,
        max_concurrency: int | None = None,
        executor: str | None = None,
    ) -> None:
        super().__init__(
            max_retries,
            wait,
            backoff=backoff,
            max_wait=max_wait,
            jitter=jitter,
            executor=executor,
        )
        self.max_concurrency = max_concurrency

    async def _exec(self, items: Any) -> Any:
        if self.executor != "local":
            remote = executor_seam.remote_executor(self)
            if remote is not None:
                return await executor_seam.get_dispatch().run(self, remote, items)
        run_item = super()._exec
        if observers.active:
            batch = batch_items(self, items)
            run_pair = observers.observed_items_async(self, run_item, batch)
            return await run_concurrently(run_pair, enumerate(batch), self.max_concurrency)
        return await run_concurrently(run_item, batch_items(self, items), self.max_concurrency)


# --- Helpers shared with pocketflow.flows --------------------------------------------


def batch_items(node: BaseNode, items: Any) -> Iterable[Any]:
    """The items a batch ``prep`` returned: None means none; anything else must iterate."""
    if items is None:
        return []
    try:
        iter(items)
    except TypeError:
        raise InvalidBatch(
            node,
            f"prep must return an iterable of items (a list, say) or None; "
            f"got {items!r} (a {type(items).__name__}).",
        ) from None
    iterable: Iterable[Any] = items
    return iterable


async def run_concurrently(
    run_one: Callable[[Any], Coroutine[Any, Any, Any]],
    items: Iterable[Any],
    max_concurrency: int | None,
) -> list[Any]:
    """Await ``run_one(item)`` for every item concurrently; return results in input order.

    At most ``max_concurrency`` run at once (None: all). The first failure cancels the
    others, waits for them to finish, and is raised as itself (not as a group); so does
    cancelling the caller.
    """
    pending = items if isinstance(items, list) else list(items)
    count = len(pending)
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ValueError(f"max_concurrency must be None or an int >= 1, not {max_concurrency!r}")
    if count == 0:
        return []
    if count == 1:
        return [await run_one(pending[0])]
    loop = asyncio.get_running_loop()
    batch = _ConcurrentBatch(run_one, count, loop)
    if max_concurrency is None or max_concurrency >= count:
        # Every item in flight at once: one task each.
        jobs = [batch.run_item(index, item) for index, item in enumerate(pending)]
    else:
        # A few workers pull items from one shared iterator: an item costs a coroutine,
        # not a task, so a bounded batch is cheaper than one task per item.
        work = enumerate(pending)
        jobs = [batch.run_worker(work) for _ in range(max_concurrency)]
    batch.unfinished_jobs = len(jobs)
    create_task = loop.create_task
    tasks = [create_task(job) for job in jobs]
    try:
        await batch.finished
    except BaseException:  # the caller was cancelled (or interrupted)
        await _cancel_and_wait(tasks)
        raise
    if batch.errors:
        await _cancel_and_wait(tasks)
        raise batch.errors[0]
    return batch.results


class _ConcurrentBatch:
    """The shared state of one :func:`run_concurrently` call.

    Jobs report their end here, rather than through a done callback per task: that
    saves a loop iteration per task and keeps tasks from ending with an exception that
    nobody retrieves. A job that ends by cancellation it did not get from us (say, it
    awaited a future that someone else cancelled) counts as a failure too, so the batch
    never waits for a job that will not report.
    """

    def __init__(
        self,
        run_one: Callable[[Any], Coroutine[Any, Any, Any]],
        count: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.run_one = run_one
        self.results: list[Any] = [None] * count
        self.errors: list[BaseException] = []
        self.unfinished_jobs = 0
        self.finished: asyncio.Future[None] = loop.create_future()

    async def run_item(self, index: int, item: Any) -> None:
        """Job of an unbounded batch: one item."""
        try:
            self.results[index] = await self.run_one(item)
        except BaseException as error:
            self._failed(error)
            if not isinstance(error, Exception):
                raise  # cancellation and interrupts end the task as they should
        else:
            self._job_done()

    async def run_worker(self, work: Iterator[tuple[int, Any]]) -> None:
        """Job of a bounded batch: items from ``work`` (shared by all workers) until done."""
        results, run_one = self.results, self.run_one
        try:
            for index, item in work:
                results[index] = await run_one(item)
        except BaseException as error:
            self._failed(error)
            if not isinstance(error, Exception):
                raise
        else:
            self._job_done()

    def _failed(self, error: BaseException) -> None:
        self.errors.append(error)
        if not self.finished.done():
            self.finished.set_result(None)

    def _job_done(self) -> None:
        self.unfinished_jobs -= 1
        if self.unfinished_jobs == 0 and not self.finished.done():
            self.finished.set_result(None)


async def _cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the unfinished ``tasks`` and wait until every one has finished."""
    unfinished = [task for task in tasks if not task.done()]
    for task in unfinished:
        task.cancel()
    cancelled_meanwhile: asyncio.CancelledError | None = None
    while unfinished:
        try:
            await asyncio.wait(unfinished)
        except asyncio.CancelledError as error:
            # Cancelled again while cleaning up: finish the clean-up, then obey.
            cancelled_meanwhile = error
        unfinished = [task for task in unfinished if not task.done()]
    if cancelled_meanwhile is not None:
        raise cancelled_meanwhile


_fast_copy_classes: dict[type, bool] = {}
_object_new = object.__new__


START: Final = object()
"""The ``action`` that :func:`copy_node` is given for a flow's start node."""


def copy_node(node: Any, source: BaseNode, action: Any) -> BaseNode:
    """A shallow copy of ``node`` (``copy.copy`` semantics, without its generic cost).

    ``node`` was reached from ``source`` on ``action`` (or is the start node of the flow
    ``source`` when ``action`` is :data:`START`); that names the culprit when ``node``
    is not a node at all.
    """
    cls = type(node)
    fast = _fast_copy_classes.get(cls)
    if fast is None:
        if not isinstance(node, BaseNode):
            if action is START:
                raise NotANode(node, f"The start node of {type(source).__name__}")
            origin = f"The successor of {type(source).__name__} for action {action or 'default'!r}"
            raise NotANode(node, origin)
        fast = _fast_copy_classes[cls] = _copies_like_plain_object(cls)
    if fast:
        new = _object_new(cls)
        new.__dict__ = node.__dict__.copy()
        return new  # type: ignore[no-any-return]  # an instance of type(node), a BaseNode
    return copy.copy(node)  # type: ignore[no-any-return]  # same as above


def _copies_like_plain_object(cls: type) -> bool:
    """True when ``copy.copy`` of a ``cls`` instance is "new object, same __dict__".

    That holds unless the class (or a base other than ``object``) customises copying,
    pickling state or construction, or declares ``__slots__``.
    """
    if cls in copyreg.dispatch_table:
        return False
    customised = _COPY_CUSTOMISATIONS.intersection
    return not any(customised(vars(klass)) for klass in cls.__mro__ if klass is not object)


_COPY_CUSTOMISATIONS = frozenset(
    {
        "__copy__",
        "__reduce_ex__",
        "__reduce__",
        "__getstate__",
        "__setstate__",
        "__getnewargs__",
        "__getnewargs_ex__",
        "__new__",
        "__slots__",
    }
)
