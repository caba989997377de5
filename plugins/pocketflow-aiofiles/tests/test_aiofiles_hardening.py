"""The aiofiles reader under attack: racing symlinks and pipes, huge limits, odd paths."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import threading
from pathlib import Path

import pytest

import pocketflow
from pocketflow import read_file_async
from pocketflow.errors import FileReadError

INSIDE = "inside content"
SECRET = "SECRET outside content"
READS = 4000


@pytest.fixture(autouse=True)
def clean_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every test runs with a clean configuration in an empty working directory."""
    return pocketflow_env


def read(location: str | Path) -> str:
    """Read ``location`` through the public facade on a fresh event loop."""

    async def scenario() -> str:
        try:
            return await read_file_async(location)
        finally:
            await pocketflow.aclose()

    return asyncio.run(scenario())


class Swapper(threading.Thread):
    """Swaps ``target`` between its real form and the forms in ``swaps``, until stopped.

    Each form is put in place by an atomic rename, so a reader sees one or the other.
    A reader stuck opening the pipe (with no writer) is let go every few swaps, so a
    reader that would hang reads "" instead and the test stays bounded.
    """

    def __init__(self, target: Path, real: Path, pipe: Path, swaps: list[Path]) -> None:
        super().__init__(daemon=True)
        self.target, self.real, self.pipe, self.swaps = target, real, pipe, swaps
        self.stash = pipe.parent
        self.stop = threading.Event()

    def run(self) -> None:
        forms = [self.real, *self.swaps]
        for turn in range(200_000):
            if self.stop.is_set():
                return
            form = forms[turn % len(forms)]
            temporary = self.stash / f"next{turn % 2}"
            with contextlib.suppress(FileExistsError):
                temporary.unlink(missing_ok=True)
            if form.is_symlink():
                temporary.symlink_to(os.readlink(form))
            else:
                os.link(form, temporary)
            os.replace(temporary, self.target)
            if turn % 64 == 0:
                _unblock_pipe(self.pipe)


def _unblock_pipe(pipe: Path) -> None:
    """Let a reader blocked opening ``pipe`` go on: it then reads an empty file."""
    for _ in range(100):
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ENXIO:  # nobody is waiting to read
                return
            raise
        os.close(fd)


def _race(target: Path, location: str) -> list[str | FileReadError]:
    """Read ``location`` READS times while ``target`` keeps changing; the outcomes."""

    async def scenario() -> list[str | FileReadError]:
        outcomes: list[str | FileReadError] = []
        try:
            for start in range(0, READS, 50):
                batch = [read_file_async(location) for _ in range(start, start + 50)]
                results = await asyncio.gather(*batch, return_exceptions=True)
                for result in results:
                    if isinstance(result, BaseException) and not isinstance(result, FileReadError):
                        raise result
                    assert isinstance(result, str | FileReadError)
                    outcomes.append(result)
        finally:
            await pocketflow.aclose()
        return outcomes

    return asyncio.run(scenario())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="symlinks and named pipes: POSIX only")
def test_a_racing_swap_to_a_symlink_or_a_pipe_never_escapes_root_nor_hangs(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    stash = tmp_path / "stash"
    stash.mkdir()
    real = stash / "real.txt"
    real.write_text(INSIDE, encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    link_out = stash / "link_out"
    link_out.symlink_to(secret)
    pipe = stash / "pipe"
    os.mkfifo(pipe)
    (tmp_path / "pocketflow.toml").write_text(f'[readers.aiofiles]\nroot = "{docs}"\n')
    target = docs / "notes.txt"
    os.link(real, target)
    swapper = Swapper(target, real, pipe, [link_out, pipe])

    clean_env.chdir(tmp_path)
    swapper.start()
    try:
        outcomes = _race(target, str(target))
    finally:
        swapper.stop.set()
        swapper.join()
        _unblock_pipe(pipe)

    texts = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert len(outcomes) == READS
    assert set(texts) <= {INSIDE}, "a read returned content from outside root"
    assert texts, "no read succeeded at all"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks are POSIX only")
def test_a_racing_swap_of_a_folder_for_a_symlink_never_escapes_root(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    stash = tmp_path / "stash"
    stash.mkdir()
    real_folder = stash / "real"
    real_folder.mkdir()
    (real_folder / "notes.txt").write_text(INSIDE, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "pocketflow.toml").write_text(f'[readers.aiofiles]\nroot = "{docs}"\n')
    folder = docs / "sub"
    stop = threading.Event()

    def swap() -> None:
        for _ in range(200_000):
            if stop.is_set():
                return
            os.rename(real_folder, folder)
            os.rename(folder, real_folder)
            os.symlink(outside, folder)
            os.unlink(folder)

    clean_env.chdir(tmp_path)
    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        outcomes = _race(folder, str(folder / "notes.txt"))
    finally:
        stop.set()
        swapper.join()

    texts = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert len(outcomes) == READS
    assert set(texts) <= {INSIDE}, "a read returned content from outside root"


def test_a_huge_max_bytes_reads_a_small_file(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    (tmp_path / "pocketflow.toml").write_text("[readers.aiofiles]\nmax_bytes = 30000000000\n")
    clean_env.chdir(tmp_path)
    Path("small.txt").write_text("small", encoding="utf-8")

    assert read("small.txt") == "small"


def test_a_nul_byte_in_a_path_is_a_file_read_error() -> None:
    with pytest.raises(FileReadError, match=r"NUL byte"):
        read("notes\0.txt")


def test_a_nul_byte_in_a_path_under_root_is_a_file_read_error(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "pocketflow.toml").write_text('[readers.aiofiles]\nroot = "docs"\n')
    clean_env.chdir(tmp_path)

    with pytest.raises(FileReadError, match=r"NUL byte"):
        read("docs/notes\0.txt")
