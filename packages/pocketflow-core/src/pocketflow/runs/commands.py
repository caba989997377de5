"""The ``pocketflow run`` and ``pocketflow runs ...`` commands.

pocketflow run MODULE:ATTR [--shared JSON|@file.json] [--run-id ID] [--queue] [--quiet]
                                   run a flow (or a function returning one) durably,
                                   showing its progress on stderr (live on a terminal),
                                   or queue it for a worker
pocketflow runs list [--status S]  runs, most recently updated first
pocketflow runs show ID [--state]  a run's steps (node, action, duration, tokens, errors)
pocketflow runs resume ID          resume a run started with ``pocketflow run``
pocketflow runs answer ID approve|deny [--comment TEXT]
                                   answer the question a run waits on
pocketflow runs worker             resume every run that is ready, several at once
pocketflow runs cancel ID          cancel an unfinished run
pocketflow runs prune --older-than 30d   delete ended runs not updated since
pocketflow runs migrate            create or upgrade the store's schema now (PostgreSQL)

Every command takes ``--store URL`` (default: ``[runs] store``, ``POCKETFLOW_RUNS``)
and ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pocketflow import durability
from pocketflow.errors import DurableRunError, PocketFlowError, RunNotFoundError
from pocketflow.flows import AsyncFlow
from pocketflow.runs.answers import answer_in
from pocketflow.runs.live import run_view
from pocketflow.runs.queue import enqueue, new_run_id
from pocketflow.runs.settings import RunSettings, close_stores, run_settings
from pocketflow.runs.store import STATUSES, Question, RunInfo, RunStore, StepRecord
from pocketflow.runs.targets import load_flow
from pocketflow.runs.worker import RunWorker

COMMANDS = ("run", "runs")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_commands(commands: Any) -> None:
    """Add ``run`` and ``runs`` to the ``pocketflow`` command's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="run store URL (default: [runs] store)")
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    run = commands.add_parser("run", parents=[common], help="run a flow durably")
    run.add_argument("target", help="MODULE:ATTR, a flow or a function returning one")
    run.add_argument("--shared", default="{}", help="the shared store: JSON, or @file.json")
    run.add_argument("--run-id", help="the run's id (default: a new one)")
    run.add_argument("--queue", action="store_true", help="queue it for `pocketflow runs worker`")
    run.add_argument("--quiet", action="store_true", help="show no progress while it runs")
    runs = commands.add_parser("runs", help="list, show, resume, cancel and prune runs")
    actions = runs.add_subparsers(dest="runs_command", required=True)
    listing = actions.add_parser("list", parents=[common], help="runs, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=50)
    show = actions.add_parser("show", parents=[common], help="a run and its steps")
    show.add_argument("run_id")
    show.add_argument("--state", action="store_true", help="also print the shared store")
    resume = actions.add_parser("resume", parents=[common], help="resume a run")
    resume.add_argument("run_id")
    resume.add_argument("--on-change", choices=("refuse", "continue"), default="refuse")
    answer = actions.add_parser("answer", parents=[common], help="answer a waiting question")
    answer.add_argument("run_id")
    answer.add_argument("decision", help="approve or deny")
    answer.add_argument("--comment", help="why (kept with the answer)")
    worker = actions.add_parser("worker", parents=[common], help="resume runs that are ready")
    worker.add_argument("--concurrency", type=int, default=4, help="runs at once (default 4)")
    worker.add_argument("--poll", type=float, default=2.0, help="seconds between looks")
    worker.add_argument("--once", action="store_true", help="stop when nothing is ready")
    cancel = actions.add_parser("cancel", parents=[common], help="cancel an unfinished run")
    cancel.add_argument("run_id")
    actions.add_parser("migrate", parents=[common], help="create or upgrade the store's schema")
    prune = actions.add_parser("prune", parents=[common], help="delete old ended runs")
    prune.add_argument("--older-than", required=True, help="e.g. 30d, 12h, 90m")


def main(arguments: argparse.Namespace) -> int:
    """Run one of these commands; returns the exit status."""
    try:
        return asyncio.run(_closing(_dispatch(arguments)))
    except (PocketFlowError, ValueError) as error:
        print(f"pocketflow: {error}", file=sys.stderr)
        return 2


async def _closing(command: Coroutine[Any, Any, int]) -> int:
    try:
        return await command
    finally:
        await close_stores()


async def _dispatch(arguments: argparse.Namespace) -> int:
    if arguments.command == "run":
        run_id = arguments.run_id or new_run_id()
        shared = _shared_from(arguments.shared)
        if arguments.queue:
            await enqueue(arguments.target, shared, run_id=run_id, store=arguments.store)
            lines = [f"run {run_id} queued: a `pocketflow runs worker` will run it."]
            _print(arguments, {"run_id": run_id, "status": "queued"}, lines)
            return 0
        return await _run(arguments, arguments.target, run_id, shared, "refuse")
    settings = run_settings(arguments.store)
    store = settings.store
    command = arguments.runs_command
    if command == "list":
        infos = await store.list_runs(arguments.status, arguments.limit)
        lines = _list_lines(infos)
        questions = await store.questions("waiting", arguments.limit)
        if arguments.status in (None, "waiting") and questions:
            lines += _question_lines(questions)
        rows = [_info_json(i) for i in infos]
        if arguments.status == "waiting":
            asked = {q.run_id: q for q in questions}
            rows = [{**row, "question": _question_json(asked.get(row["run_id"]))} for row in rows]
        _print(arguments, rows, lines)
        return 0
    if command == "answer":
        question = await answer_in(
            store, arguments.run_id, arguments.decision, comment=arguments.comment
        )
        lines = [
            f"{question.run_id}: {question.decision} recorded. Resume it: pocketflow runs resume "
            f"{question.run_id} (or a running `pocketflow runs worker` picks it up)."
        ]
        _print(arguments, _question_json(question), lines)
        return 0
    if command == "worker":
        return await _work(arguments, settings)
    if command == "migrate":
        return await _migrate(arguments, store)
    info = None if command == "prune" else await _get(store, arguments.run_id)
    if command == "show":
        assert info is not None
        steps = await store.steps(info.run_id)
        data = {**_info_json(info), "steps": [_step_json(step) for step in steps]}
        state = _decoded(info, info.state) if arguments.state else None
        if arguments.state:
            data["state"] = state
        _print(arguments, data, _show_lines(info, steps, arguments.state, state))
        return 0
    if command == "resume":
        assert info is not None
        if not info.target:
            raise DurableRunError(
                f"Run {info.run_id!r} was started from code, not with `pocketflow run`: resume "
                f"it by running your program again with run_id={info.run_id!r}."
            )
        return await _run(arguments, info.target, info.run_id, {}, arguments.on_change)
    if command == "cancel":
        assert info is not None
        cancelled = await store.cancel(info.run_id, time.time())
        message = "cancelled" if cancelled else f"not cancelled: it is {info.status} already"
        _print(arguments, {"run_id": info.run_id, "cancelled": cancelled}, [f"{message}."])
        return 0 if cancelled else 1
    cutoff = time.time() - _seconds(arguments.older_than)
    count = await store.prune(cutoff)
    _print(arguments, {"pruned": count}, [f"pruned {count} ended run(s)."])
    return 0


async def _run(
    arguments: argparse.Namespace, target: str, run_id: str, shared: Any, on_change: str
) -> int:
    flow = load_flow(target)
    options = {"store": arguments.store, "on_change": on_change, "target": target}
    if not arguments.json:
        print(f"run {run_id}: {target} (resume with: pocketflow runs resume {run_id})")
    runner = durability.get_runner()
    quiet = arguments.json or getattr(arguments, "quiet", False)
    try:
        with run_view("quiet" if quiet else "auto"):  # progress on stderr
            if isinstance(flow, AsyncFlow):
                outcome = await runner.run_async(flow, shared, run_id, options)
            else:
                outcome = await asyncio.to_thread(runner.run, flow, shared, run_id, options)
    except DurableRunError:
        raise
    except Exception as error:
        print(
            f"run {run_id} failed: {type(error).__name__}: {error}\n"
            f"Its committed steps are kept: pocketflow runs resume {run_id}",
            file=sys.stderr,
        )
        return 1
    data = {"run_id": run_id, "outcome": outcome, "shared": shared}
    _print(arguments, data, [f"outcome: {outcome!r}", _json(shared)])
    return 0


def _shared_from(text: str) -> Any:
    source = text
    if text.startswith("@"):
        source = Path(text[1:]).read_text(encoding="utf-8")
    try:
        shared = json.loads(source)
    except json.JSONDecodeError as error:
        raise ValueError(f"--shared is not valid JSON: {error}") from error
    if not isinstance(shared, dict):
        raise ValueError('--shared must be a JSON object, e.g. \'{"doc_path": "a.txt"}\'.')
    return shared


def _seconds(text: str) -> float:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"--older-than {text!r}: write a number and a unit: 30d, 12h, 90m, 45s.")
    return float(match.group(1)) * _SECONDS[match.group(2)]


async def _get(store: RunStore, run_id: str) -> RunInfo:
    info = await store.get(run_id)
    if info is None:
        raise RunNotFoundError(f"No run {run_id!r} in {store.url}: see `pocketflow runs list`.")
    return info


def _decoded(info: RunInfo, data: bytes | None) -> Any:
    if data is None:
        return None
    from pocketflow.runs.serialize import SERIALIZERS

    return SERIALIZERS[info.serializer].loads(data)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def _print(arguments: argparse.Namespace, data: Any, lines: list[str]) -> None:
    print(_json(data) if arguments.json else "\n".join(lines))


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _info_json(info: RunInfo) -> dict[str, Any]:
    return {
        "run_id": info.run_id, "status": info.status, "flow": info.flow, "target": info.target,
        "steps": info.steps, "input_tokens": info.input_tokens,
        "output_tokens": info.output_tokens, "created": info.created, "updated": info.updated,
        "error": info.error,
    }  # fmt: skip


def _step_json(step: StepRecord) -> dict[str, Any]:
    return {
        "key": step.key, "node": step.node, "action": step.action, "started": step.started,
        "duration": step.duration, "input_tokens": step.input_tokens,
        "output_tokens": step.output_tokens, "error": step.error,
    }  # fmt: skip


async def _migrate(arguments: argparse.Namespace, store: RunStore) -> int:
    migrate = getattr(store, "migrate", None)
    if migrate is None:
        lines = [f"{store.url}: this store makes and upgrades its tables itself on first use."]
        _print(arguments, {"store": store.url, "migrated": False}, lines)
        return 0
    before, after = await migrate()
    done = f"upgraded from version {before} to {after}" if before != after else "up to date"
    _print(
        arguments,
        {"store": store.url, "migrated": True, "before": before, "after": after},
        [f"{store.url}: schema {done} (version {after})."],
    )
    return 0


async def _work(arguments: argparse.Namespace, settings: RunSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    worker = RunWorker(
        settings,
        concurrency=arguments.concurrency,
        poll=arguments.poll,
        report=lambda line: print(line, flush=True),
    )
    print(f"worker {worker.owner}: resuming ready runs from {settings.store.url}", flush=True)
    finished = await worker.run(stop, once=arguments.once)
    print(f"worker stopped: {finished} run(s) finished.", flush=True)
    return 0


def _question_json(question: Question | None) -> dict[str, Any] | None:
    if question is None:
        return None
    return {
        "run_id": question.run_id, "key": question.key, "node": question.node,
        "content": question.content, "audience": question.audience, "asked": question.asked,
        "expires": question.expires, "default": question.default, "status": question.status,
        "decision": question.decision, "comment": question.comment,
        "answered": question.answered,
    }  # fmt: skip


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _question_lines(questions: list[Question]) -> list[str]:
    now = time.time()
    lines = ["", "Waiting for an answer (pocketflow runs answer ID approve|deny):"]
    for question in questions:
        first = (question.content.strip().splitlines() or [""])[0]
        shown = first[:70] + ("..." if len(first) > 70 else "")
        who = f" for {question.audience}" if question.audience else ""
        lines.append(f"  {question.run_id:<28} {_age(now - question.asked):>4} ago{who}: {shown}")
    return lines


def _list_lines(infos: list[RunInfo]) -> list[str]:
    if not infos:
        return ["no runs."]
    lines = [f"{'RUN':<28} {'STATUS':<9} {'STEPS':>5} {'TOKENS':>13}  {'UPDATED':<19}  FLOW"]
    for info in infos:
        tokens = f"{info.input_tokens}/{info.output_tokens}"
        lines.append(
            f"{info.run_id:<28} {info.status:<9} {info.steps:>5} {tokens:>13}  "
            f"{_when(info.updated):<19}  {info.flow}"
        )
    return lines


def _show_lines(info: RunInfo, steps: list[StepRecord], with_state: bool, state: Any) -> list[str]:
    lines = [
        f"run {info.run_id}: {info.status}",
        f"  flow     {info.flow}" + (f"  (pocketflow run {info.target})" if info.target else ""),
        f"  started  {_when(info.created)}, updated {_when(info.updated)}",
        f"  steps    {info.steps}, tokens {info.input_tokens} in / {info.output_tokens} out",
    ]
    if info.error:
        lines.append(f"  error    {info.error}")
    lines.append(f"  {'STEP':<14} {'NODE':<24} {'ACTION':<12} {'TIME':>9} {'TOKENS':>11}")
    for step in steps:
        tokens = f"{step.input_tokens}/{step.output_tokens}"
        lines.append(
            f"  {step.key:<14} {step.node:<24} {step.action or '-':<12} "
            f"{step.duration * 1000:>7.1f}ms {tokens:>11}"
        )
    if with_state:
        lines += ["shared:", _json(state)]
    return lines
