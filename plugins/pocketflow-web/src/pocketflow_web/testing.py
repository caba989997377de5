"""Run ``pocketflow serve`` in a subprocess for tests: wait for the address it prints.

with serve_process(["--store", url], cwd=folder) as (process, address):
    ...  # address is the printed one: http://127.0.0.1:PORT/?token=...
process.output  # everything it wrote (stdout and stderr), once it stopped
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

_ADDRESS = re.compile(r"open (http://\S+)")


class ServeProcess:
    """A running ``pocketflow serve``; ``output`` holds what it printed once it stopped."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []

    @property
    def output(self) -> str:
        """Everything read from the process so far (stdout and stderr merged)."""
        return "".join(self.lines)

    def wait_for_address(self, timeout: float) -> str:
        """Read lines until the address line; return the address."""
        stream = self.process.stdout
        assert stream is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"pocketflow serve printed no address in {timeout} s")
            readable, _, _ = select.select([stream], [], [], remaining)
            if not readable:
                continue
            line = stream.readline()
            if not line:
                self.process.wait(timeout=5)
                raise RuntimeError(f"pocketflow serve exited early:\n{self.output}")
            self.lines.append(line)
            match = _ADDRESS.search(line)
            if match:
                return match.group(1)

    def stop(self) -> None:
        """Stop it as Ctrl-C would, and collect the rest of its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            rest, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rest, _ = self.process.communicate()
        self.lines.append(rest or "")


@contextlib.contextmanager
def serve_process(
    arguments: Sequence[str] = (),
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[tuple[ServeProcess, str]]:
    """Run ``python -m pocketflow serve --port 0 ARGUMENTS``; yield it and its address."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "pocketflow", "serve", "--port", "0", *arguments],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    serving = ServeProcess(process)
    try:
        address = serving.wait_for_address(timeout)
        yield serving, address
    finally:
        serving.stop()
