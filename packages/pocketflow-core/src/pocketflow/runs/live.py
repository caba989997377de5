"""What ``pocketflow run`` shows while a flow runs.

On a terminal, a live panel (``rich``, imported only then): the nodes running, steps
done, LLM calls in flight, tokens and cost so far, and a progress bar per batch.
Elsewhere (a pipe, a log file), one plain line per finished step and per tenth of a
batch. With ``--quiet``, nothing. The view is an observer registered for the run only
(:func:`pocketflow.runtime.add_observer`), so other runs pay nothing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from pocketflow.calls import LLMCallRecord, LLMCallStart, UsageTally
from pocketflow.hookspecs import hookimpl


@dataclass(slots=True)
class Batch:
    """One batch in progress."""

    name: str
    total: int | None
    done: int = 0


class RunProgress:
    """Observer hooks that keep the counts a view shows; ``changed`` is called on each event."""

    def __init__(self) -> None:
        self.running: dict[int, str] = {}
        self.steps_done = 0
        self.calls_in_flight = 0
        self.usage = UsageTally()
        self.batches: dict[int, Batch] = {}
        self._lock = threading.Lock()

    def changed(self, line: str | None) -> None:
        """React to an event; ``line`` is its plain description, when it has one."""

    @hookimpl
    def node_started(self, node: Any, shared: Any) -> None:
        """A step starts."""
        with self._lock:
            self.running[id(node)] = type(node).__name__
        self.changed(None)

    @hookimpl
    def node_finished(
        self, node: Any, shared: Any, action: Any, error: BaseException | None
    ) -> None:
        """A step ended."""
        with self._lock:
            name = self.running.pop(id(node), type(node).__name__)
            self.batches.pop(id(node), None)
            self.steps_done += 1
            ended = f"failed: {type(error).__name__}" if error else f"-> {action or 'default'}"
            line = f"step {self.steps_done}: {name} {ended} | {self.totals()}"
        self.changed(line)

    @hookimpl
    def batch_item_started(self, node: Any, index: int, item: Any, total: int | None) -> None:
        """A batch item starts: its batch appears."""
        with self._lock:
            if id(node) not in self.batches:
                self.batches[id(node)] = Batch(type(node).__name__, total)
        self.changed(None)

    @hookimpl
    def batch_item_finished(
        self, node: Any, index: int, item: Any, result: Any, error: BaseException | None
    ) -> None:
        """A batch item ended."""
        line = None
        with self._lock:
            batch = self.batches.get(id(node))
            if batch is not None:
                batch.done += 1
                every = max(1, (batch.total or 10) // 10)
                if batch.done % every == 0 or batch.done == batch.total:
                    of = f"/{batch.total}" if batch.total is not None else ""
                    line = f"  {batch.name}: {batch.done}{of} items"
        self.changed(line)

    @hookimpl
    def llm_call_started(self, call: LLMCallStart) -> None:
        """An LLM call starts."""
        with self._lock:
            self.calls_in_flight += 1
        self.changed(None)

    @hookimpl
    def llm_call_finished(self, record: LLMCallRecord) -> None:
        """An LLM call ended."""
        with self._lock:
            if record.call is not None:
                self.calls_in_flight = max(0, self.calls_in_flight - 1)
            self.usage.add(record)
        self.changed(None)

    def totals(self) -> str:
        """Calls, tokens and cost so far, in one phrase."""
        usage = self.usage
        return (
            f"{usage.calls} LLM call(s), tokens {usage.input_tokens} in / "
            f"{usage.output_tokens} out, {usage.cost_text}"
        )


class PlainLines(RunProgress):
    """One line per finished step and per tenth of a batch, for logs and pipes."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def changed(self, line: str | None) -> None:
        """Print ``line``, if any."""
        if line is not None:
            print(line, file=self.stream, flush=True)


class LivePanel(RunProgress):
    """A panel redrawn in place on a terminal (``rich``)."""

    def __init__(self, console: Any) -> None:
        super().__init__()
        from rich.live import Live

        self.live = Live(self, console=console, refresh_per_second=8, transient=False)

    def __rich__(self) -> Any:
        """The panel as it is now."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        with self._lock:
            running = ", ".join(sorted(set(self.running.values()))) or "-"
            table.add_row("running", running)
            table.add_row("steps done", str(self.steps_done))
            table.add_row("calls in flight", str(self.calls_in_flight))
            table.add_row("so far", self.totals())
            for batch in self.batches.values():
                of = f"/{batch.total}" if batch.total is not None else ""
                bar = ProgressBar(total=batch.total, completed=batch.done, width=30)
                table.add_row(batch.name, Group(bar, f"{batch.done}{of} items"))
        return table


@contextmanager
def run_view(mode: str, stream: IO[str] | None = None) -> Iterator[RunProgress | None]:
    """Show the run while the block runs: ``mode`` is "auto", "plain" or "quiet".

    "auto" is the live panel on a terminal (when ``rich`` is installed), else plain lines.
    """
    from pocketflow.runtime import add_observer

    out = sys.stderr if stream is None else stream
    if mode == "quiet":
        yield None
        return
    view: RunProgress = PlainLines(out)
    if mode == "auto" and out.isatty():
        try:
            from rich.console import Console
        except ImportError:
            pass
        else:
            view = LivePanel(Console(file=out))
    remove = add_observer(view, name="pocketflow-run-view")
    try:
        if isinstance(view, LivePanel):
            with view.live:
                yield view
        else:
            yield view
    finally:
        remove()
