"""Running a flow durably: commit each step, journal each answer, resume where it stopped.

:class:`DurableRun` walks a flow as :mod:`pocketflow.flows` does (the same prep, exec,
post, successors, params, batches and nesting) and adds, per step: facade calls
journaled under the step's key, the exec result (or each batch item's) journaled
before ``post`` runs, and a commit after ``post`` returns. A flow level's progress is
a *scope* (``""`` for the top flow, ``"2/"`` inside the flow run as step 2,
``"2/[5]/"`` for item 5 of a batch flow there), so a resumed run starts every level at
the step after its last commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from pocketflow import executor_seam, observers
from pocketflow.durability import Suspend, current_calls
from pocketflow.errors import (
    AsyncRunRequired,
    DurableRunError,
    FlowChangedError,
    FlowSuspended,
    MaxStepsExceeded,
    MissingStartNode,
    RunCancelledError,
    RunLeasedError,
    StoreUnavailableError,
)
from pocketflow.flows import YIELD_EVERY, AsyncFlow, AsyncParallelBatchFlow, BatchFlow, Flow
from pocketflow.nodes import (
    START,
    AsyncNode,
    AsyncParallelBatchNode,
    BaseNode,
    BatchNode,
    Node,
    batch_items,
    copy_node,
    run_concurrently,
)
from pocketflow.runs.graph import FlowGraph, check_unchanged, shape
from pocketflow.runs.journal import StepCalls, StepTokens
from pocketflow.runs.serialize import SERIALIZERS
from pocketflow.runs.settings import RunSettings, run_settings
from pocketflow.runs.store import (
    Commit,
    LoadedRun,
    Question,
    RunInfo,
    Scope,
    StepRecord,
    new_owner,
)
from pocketflow.runtime import current_runtime

T = TypeVar("T")


class DurableRun:
    """One process's turn at running a durable run (it holds the run's lease)."""

    def __init__(
        self, run_id: str, settings: RunSettings, owner: str, shared: dict[str, Any]
    ) -> None:
        self.run_id = run_id
        self.store = settings.store
        self.serializer = settings.serializer
        self.history = settings.history
        self.lease_seconds = settings.lease_seconds
        self.owner = owner
        self.shared = shared
        self.graph = FlowGraph()
        self.scopes: dict[str, Scope] = {}
        self.journal: dict[str, tuple[str, bytes]] = {}
        self.committed_steps = 0
        self.running_nodes: dict[str, str] = {}
        """Node id by step key while the step runs (to say who asked a question)."""

    def resume_from(self, loaded: LoadedRun) -> None:
        """Continue from what the store holds: each level's progress and the journal."""
        self.scopes = loaded.scopes
        self.journal = loaded.journal
        self.committed_steps = loaded.info.steps

    # --- the journal and commits --------------------------------------------------------

    async def record(self, key: str, kind: str, value: Any) -> None:
        """Journal ``value`` as the answer at ``key``."""
        data = self.serializer.dumps(value, f"the {kind} answer journaled as {key}")
        await self.store.record(self.run_id, self.owner, key, kind, data)

    def _replayed(self, key: str) -> tuple[bool, Any]:
        entry = self.journal.get(key)
        if entry is None:
            return False, None
        return True, self.serializer.loads(entry[1])

    async def _commit(self, scope: str, progress: Scope, step: StepRecord, nested: bool) -> None:
        state = self.serializer.dumps(self.shared, "shared")
        if self.history:
            step = replace(step, state=state)
        lease_until = step.started + step.duration + self.lease_seconds
        self.committed_steps += 1
        commit = Commit(scope, progress, step, state, lease_until, self.committed_steps, nested)
        await self.store.commit(self.run_id, self.owner, commit)

    # --- walking the flow ---------------------------------------------------------------

    async def run_flow(self, flow: Flow, shared: Any, prefix: str, in_async: bool) -> Any:
        """Run ``flow`` (prep, its steps or batch, post) at scope ``prefix``."""
        in_async = in_async and isinstance(flow, AsyncFlow)
        prep = flow.prep_async if isinstance(flow, AsyncFlow) and in_async else flow.prep
        prep_res = await self._phase(prep, (shared,), f"{prefix}flow-prep", StepTokens(), in_async)
        if not isinstance(flow, BatchFlow):
            last_action = await self._orchestrate(flow, shared, None, prefix, in_async)
            post_args: tuple[Any, ...] = (shared, prep_res, last_action)
        else:
            batch = batch_items(flow, prep_res)

            def run_item(pair: tuple[int, Any]) -> Coroutine[Any, Any, Any]:
                index, item_params = pair
                params = flow._item_params(item_params)
                return self._orchestrate(flow, shared, params, f"{prefix}[{index}]/", in_async)

            pairs = list(enumerate(batch))
            if observers.active:
                run_item = functools.partial(_observed_item, flow, len(pairs), run_item)
            if in_async and isinstance(flow, AsyncParallelBatchFlow):
                await run_concurrently(run_item, pairs, flow.max_concurrency)
            else:
                for pair in pairs:
                    await run_item(pair)
            post_args = (shared, batch, None)
        post = flow.post_async if isinstance(flow, AsyncFlow) and in_async else flow.post
        return await self._phase(post, post_args, f"{prefix}flow-post", StepTokens(), in_async)

    async def _orchestrate(
        self, flow: Flow, shared: Any, params: dict[str, Any] | None, prefix: str, in_async: bool
    ) -> Any:
        params = params or {**flow.params}
        ids = self.graph.ids(flow)
        scope = self.scopes.get(prefix)
        if scope is None:
            original: BaseNode | None = flow.start_node
            steps, action = 0, None
        elif scope.done:
            return scope.action
        else:
            steps, action = scope.step, scope.action
            original = ids.node_by_id.get(scope.next_node or "")
            if original is None:
                raise FlowChangedError(
                    f"Run {self.run_id!r} stopped before node {scope.next_node}, which its "
                    f"flow no longer has: it cannot resume there."
                )
        if original is None:
            raise MissingStartNode(flow)
        get_next_node = flow.get_next_node
        standard_lookup = getattr(get_next_node, "__func__", None) is Flow.get_next_node
        max_steps = flow.max_steps
        current: BaseNode = copy_node(original, flow, START)
        while True:
            if max_steps is not None and steps >= max_steps:
                raise MaxStepsExceeded(flow, current, max_steps)
            if steps % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a cycle that never suspends can still be cancelled
            current.set_params(params)
            key = f"{prefix}{steps}"
            started, clock = time.time(), time.perf_counter()
            tokens = StepTokens()
            node_id = self.running_nodes[key] = ids.id_of(original)
            action = await self._observed_step(current, shared, key, in_async, tokens)
            del self.running_nodes[key]
            duration = time.perf_counter() - clock
            try:
                next_node = current.successors.get(action or "default") if standard_lookup else None
            except TypeError:  # an unhashable action: get_next_node names it
                next_node = None
            if next_node is None:
                next_node = get_next_node(current, action)
            steps += 1
            shown = None if action is None else str(action)
            next_id = None if next_node is None else ids.id_of(next_node)
            record = StepRecord(key, node_id, shown, started, duration, tokens.input, tokens.output)
            progress = Scope(steps, next_id, shown, next_node is None)
            await self._commit(prefix, progress, record, isinstance(current, Flow))
            if next_node is None:
                return action
            original = next_node
            current = copy_node(next_node, current, action)

    async def _observed_step(
        self, node: BaseNode, shared: Any, key: str, in_async: bool, tokens: StepTokens
    ) -> Any:
        if not observers.active:
            return await self._step(node, shared, key, in_async, tokens)
        observers.node_started(node, shared)
        try:
            action = await self._step(node, shared, key, in_async, tokens)
        except BaseException as error:
            observers.node_finished(node, shared, None, error)
            raise
        observers.node_finished(node, shared, action, None)
        return action

    async def _step(
        self, node: BaseNode, shared: Any, key: str, in_async: bool, tokens: StepTokens
    ) -> Any:
        if isinstance(node, Flow):
            return await self.run_flow(node, shared, f"{key}/", in_async)
        is_async = isinstance(node, AsyncNode)
        if is_async and not in_async:
            raise AsyncRunRequired(node)
        # One journal scope for the step; its phases only move its key along.
        calls = StepCalls(self, f"{key}|prep", tokens)
        reset = current_calls.set(calls)
        try:
            if is_async:
                prep_res = await node.prep_async(shared)  # type: ignore[attr-defined]
            else:
                prep_res = node.prep(shared)
            exec_key = f"{key}|exec"
            found, exec_res = self._replayed(exec_key)
            if not found:
                calls.move_to(exec_key)
                exec_res = await self._exec(node, prep_res, key, is_async, tokens)
                await self.record(exec_key, "exec", exec_res)
            calls.move_to(f"{key}|post")
            if is_async:
                return await node.post_async(shared, prep_res, exec_res)  # type: ignore[attr-defined]
            return node.post(shared, prep_res, exec_res)
        finally:
            current_calls.reset(reset)

    async def _exec(
        self, node: BaseNode, prep_res: Any, key: str, is_async: bool, tokens: StepTokens
    ) -> Any:
        if not isinstance(node, BatchNode):
            result = node._exec(prep_res)
            return await result if is_async else result
        executor = executor_seam.remote_executor(node) if node.executor != "local" else None
        if executor is not None:
            return await self._exec_remote(node, prep_res, key, executor)
        run_one: Callable[..., Any] = AsyncNode._exec if is_async else Node._exec

        async def run_item(pair: tuple[int, Any]) -> Any:
            index, item = pair
            item_key = f"{key}|i{index}"
            found, result = self._replayed(item_key)
            if not found:
                result = await self._phase(run_one, (node, item), item_key, tokens, is_async)
                await self.record(item_key, "item", result)
            return result

        pairs = list(enumerate(batch_items(node, prep_res)))
        if observers.active:
            run_item = functools.partial(_observed_item, node, len(pairs), run_item)
        if is_async and isinstance(node, AsyncParallelBatchNode):
            return await run_concurrently(run_item, pairs, node.max_concurrency)
        return [await run_item(pair) for pair in pairs]

    async def _exec_remote(self, node: BatchNode, prep_res: Any, key: str, executor: Any) -> Any:
        """A batch on a cluster: journaled items are not sent; the others are journaled
        as their results arrive."""
        batch = list(batch_items(node, prep_res))
        done: dict[int, Any] = {}
        for index in range(len(batch)):
            found, result = self._replayed(f"{key}|i{index}")
            if found:
                done[index] = result

        async def journal(index: int, result: Any) -> None:
            await self.record(f"{key}|i{index}", "item", result)

        dispatch = executor_seam.get_dispatch()
        return await dispatch.run(node, executor, batch, done, journal)

    async def _phase(
        self,
        hook: Callable[..., Any],
        args: tuple[Any, ...],
        base: str,
        tokens: StepTokens,
        is_async: bool,
    ) -> Any:
        reset = current_calls.set(StepCalls(self, base, tokens))
        try:
            result = hook(*args)
            return await result if is_async else result
        finally:
            current_calls.reset(reset)


async def _observed_item(
    node: BaseNode,
    total: int,
    run_pair: Callable[[tuple[int, Any]], Any],
    pair: tuple[int, Any],
) -> Any:
    """Run one batch item ``pair`` (index, item) of ``total``, reporting it to the observers."""
    index, item = pair
    observers.batch_item_started(node, index, item, total)
    try:
        result = await run_pair(pair)
    except BaseException as error:
        observers.batch_item_finished(node, index, item, None, error)
        raise
    observers.batch_item_finished(node, index, item, result, None)
    return result


# --- starting, resuming and ending a run ------------------------------------------------------


async def run_durably(
    flow: Flow, shared: Any, run_id: str, options: dict[str, Any], *, in_async: bool
) -> Any:
    """Run or resume ``flow`` as ``run_id``; return its outcome.

    The observers see it as one flow run (``flow_started`` and ``flow_finished`` with
    the run id); see :func:`_run_durably` for ``options``.
    """
    if not observers.active:
        return await _run_durably(flow, shared, run_id, options, in_async=in_async)

    def run() -> Coroutine[Any, Any, Any]:
        return _run_durably(flow, shared, run_id, options, in_async=in_async)

    return await observers.observe_flow_async(flow, shared, run, run_id)


async def _run_durably(
    flow: Flow, shared: Any, run_id: str, options: dict[str, Any], *, in_async: bool
) -> Any:
    """Run or resume ``flow`` as ``run_id``; return its outcome.

    ``options``: ``store`` (URL), ``on_change``, ``target`` (``MODULE:ATTR`` for the
    CLI and workers), ``owner`` (a worker's lease id) and ``on_cancel`` ("queued": a
    cancelled run goes back to the queue rather than failing).
    """
    if not isinstance(shared, dict):
        raise DurableRunError(
            f"A durable run keeps its shared store as a dict; got a {type(shared).__name__}. "
            f"Pass a dict as shared, or run without run_id."
        )
    if not isinstance(run_id, str) or not run_id:
        raise DurableRunError(f"run_id must be a non-empty string, not {run_id!r}.")
    settings = run_settings(options.get("store"))
    serializer, store = settings.serializer, settings.store
    existing = await store.get(run_id)
    if existing is not None and existing.status == "waiting":
        await _still_waiting(store, existing, shared, serializer)
    owner, now = options.get("owner") or new_owner(), time.time()
    info = RunInfo(
        run_id=run_id,
        status="running",
        flow=flow_name(flow),
        shape=shape(flow),
        serializer=serializer.name,
        created=now,
        updated=now,
        target=options.get("target"),
        state=serializer.dumps(shared, "shared"),
    )
    loaded = await store.start(info, owner, now + settings.lease_seconds, now)
    run = DurableRun(run_id, settings, owner, shared)
    if loaded is not None:
        stored = loaded.info
        if stored.status == "cancelled":
            raise RunCancelledError(
                f"Run {run_id!r} was cancelled; it does not run again. Start a new run id."
            )
        if stored.status != "done":  # a finished run returns its outcome, whatever changed
            try:
                _check_resumable(stored, info, options)
            except DurableRunError as error:
                await _finish(run, "failed", error=str(error))
                raise
        written_with = SERIALIZERS.get(stored.serializer, serializer)
        if stored.state is not None:
            shared.clear()
            shared.update(written_with.loads(stored.state))
        if stored.status == "done":
            return None if stored.outcome is None else written_with.loads(stored.outcome)
        run.resume_from(loaded)
    with _Heartbeat(run):
        try:
            outcome = await run.run_flow(flow, shared, "", in_async)
        except (RunLeasedError, RunCancelledError):
            raise  # not ours to record any more
        except Suspend as suspend:
            raise await _suspend(run, suspend) from None
        except asyncio.CancelledError:
            status = "queued" if options.get("on_cancel") == "queued" else "failed"
            await _finish(run, status, error="cancelled")
            raise
        except StoreUnavailableError as error:
            status = "queued" if options.get("on_cancel") == "queued" else "failed"
            with contextlib.suppress(StoreUnavailableError):  # then the lease runs out
                await _finish(run, status, error=f"{type(error).__name__}: {error}")
            raise
        except BaseException as error:
            await _finish(run, "failed", error=f"{type(error).__name__}: {error}")
            raise
        await _finish(run, "done", state=serializer.dumps(shared, "shared"), outcome=outcome)
    return outcome


async def _suspend(run: DurableRun, suspend: Suspend) -> FlowSuspended:
    """Store the question the run stopped on; the error its caller gets."""
    now = time.time()
    key = suspend.key or ""
    step = key.partition("|")[0]
    question = Question(
        run_id=run.run_id,
        key=key,
        content=suspend.content,
        asked=now,
        audience=suspend.audience,
        expires=None if suspend.expires_in is None else now + suspend.expires_in,
        default=suspend.default,
        node=f"step {step} ({run.running_nodes.get(step, '?')})",
    )
    await run.store.suspend(run.run_id, run.owner, question)
    plugins = current_runtime().plugins
    if plugins.hooks.hook.feedback_requested.get_hookimpls():
        plugins.hooks.hook.feedback_requested(question=question)
    return FlowSuspended(run.run_id, question, waiting_message(question))


async def _still_waiting(
    store: Any, info: RunInfo, shared: dict[str, Any], serializer: Any
) -> None:
    """A run that waits for an answer does not run: fill ``shared`` and say so again."""
    waiting = [q for q in await store.questions("waiting", limit=10_000) if q.run_id == info.run_id]
    if info.state is not None:
        shared.clear()
        shared.update(serializer.loads(info.state))
    if waiting:
        raise FlowSuspended(info.run_id, waiting[0], waiting_message(waiting[0]))


def waiting_message(question: Question) -> str:
    """What the caller of a run that stopped on ``question`` reads."""
    lines = question.content.strip().splitlines() or [""]
    shown = lines[0][:200] + (" ..." if len(lines) > 1 or len(lines[0]) > 200 else "")
    run_id = question.run_id
    expiry = ""
    if question.expires is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(question.expires))
        expiry = f" If nobody answers by {when}, {question.default!r} applies."
    who = f" (for {question.audience})" if question.audience else ""
    return (
        f"Run {run_id!r} is waiting for a person's verdict{who} at {question.node}: "
        f"{shown!r}.{expiry}\n"
        f"Answer it:   pocketflow runs answer {run_id} approve   (or deny; --comment TEXT)\n"
        f"Then resume: pocketflow runs resume {run_id}, a running `pocketflow runs worker`, "
        f"or this flow run again with run_id={run_id!r}."
    )


def flow_name(flow: Flow) -> str:
    """How runs list a flow: its class, or for a plain flow, its start node's."""
    kind = type(flow)
    if kind.__module__ == Flow.__module__:  # not subclassed: name it by its start node
        return f"{kind.__qualname__}(start={type(flow.start_node).__qualname__})"
    return f"{kind.__module__}.{kind.__qualname__}"


def _check_resumable(stored: RunInfo, current: RunInfo, options: dict[str, Any]) -> None:
    if stored.serializer != current.serializer:
        raise DurableRunError(
            f"Run {stored.run_id!r} was stored with the {stored.serializer} serializer, and "
            f"[runs] serializer is now {current.serializer!r}: set it back to resume."
        )
    if options.get("on_change", "refuse") == "refuse":
        check_unchanged(stored.shape, current.shape, stored.run_id)


async def _finish(
    run: DurableRun, status: Any, *, state: bytes | None = None, outcome: Any = None,
    error: str | None = None,
) -> None:  # fmt: skip
    encoded = None if status != "done" else run.serializer.dumps(outcome, "the flow's outcome")
    await run.store.finish(
        run.run_id, run.owner, status, state=state, outcome=encoded, error=error, now=time.time()
    )


class _Heartbeat:
    """Renews the run's lease from a thread while the run goes on (steps may be long)."""

    def __init__(self, run: DurableRun) -> None:
        self.run = run
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="pocketflow-lease", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()

    def _beat(self) -> None:
        run = self.run
        interval = run.lease_seconds / 3
        while not self.stopped.wait(interval):
            lease_until = time.time() + run.lease_seconds
            try:
                held = asyncio.run(run.store.renew(run.run_id, run.owner, lease_until))
            except Exception:
                continue  # the next commit reports a lost lease for good
            if not held:
                return


class Runner:
    """The durable runner :mod:`pocketflow.durability` hands flows to."""

    def run(self, flow: Any, shared: Any, run_id: str, options: dict[str, Any]) -> Any:
        """Run durably from sync code (``flow.run(shared, run_id=...)``)."""
        return _run_blocking(run_durably(flow, shared, run_id, options, in_async=False))

    async def run_async(self, flow: Any, shared: Any, run_id: str, options: dict[str, Any]) -> Any:
        """Run durably from async code (``await flow.run_async(shared, run_id=...)``)."""
        return await run_durably(flow, shared, run_id, options, in_async=True)


def _run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to the end from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # A sync node of an async flow runs a durable sync flow: its own loop, in a thread.
    outcome: list[Any] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome.append((True, context.run(asyncio.run, coroutine)))
        except BaseException as error:
            outcome.append((False, error))

    thread = threading.Thread(target=target, name="pocketflow-durable")
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    result: T = value
    return result
