"""The aiofiles reader, used as a program would: ``read_file_async`` and pocketflow.toml."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

import pocketflow
from pocketflow import read_file_async
from pocketflow.errors import ConfigError, FileReadError


def read(location: str | Path, **options: Any) -> str:
    """Read ``location`` through the public facade on a fresh event loop."""

    async def scenario() -> str:
        try:
            return await read_file_async(location, **options)
        finally:
            await pocketflow.aclose()

    return asyncio.run(scenario())


def configure(text: str, folder: Path | None = None) -> None:
    """Write a pocketflow.toml (into the working directory unless ``folder`` is given)."""
    ((folder or Path.cwd()) / "pocketflow.toml").write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def clean_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every test runs with a clean configuration in an empty working directory."""
    return pocketflow_env


def test_reads_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("naïve café ✓\nline two\n", encoding="utf-8")

    assert read(path) == "naïve café ✓\nline two\n"


def test_strips_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")

    assert read(path) == "hello"


def test_turns_windows_newlines_into_newlines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"one\r\ntwo\rthree\n")

    assert read(path) == "one\ntwo\nthree\n"


def test_reads_latin1_when_the_config_names_it(tmp_path: Path) -> None:
    configure('[readers.aiofiles]\nencoding = "latin-1"\n')
    path = tmp_path / "legacy.txt"
    path.write_bytes("café".encode("latin-1"))

    assert read(path) == "café"


def test_reads_latin1_when_the_call_names_it(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("déjà vu".encode("latin-1"))

    assert read(path, encoding="latin-1") == "déjà vu"


def test_the_call_encoding_wins_over_the_config(tmp_path: Path) -> None:
    configure('[readers.aiofiles]\nencoding = "latin-1"\n')
    path = tmp_path / "utf8.txt"
    path.write_text("café", encoding="utf-8")

    assert read(path, encoding="utf-8") == "café"


def test_undecodable_bytes_name_the_offset_and_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(b"abc\xe9def")

    with pytest.raises(FileReadError, match=r"not valid utf-8: byte offset 3 holds e9") as caught:
        read(path)
    assert 'encoding="latin-1"' in str(caught.value)
    assert str(path) in str(caught.value)


def test_undecodable_offset_counts_the_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfab\xff")

    with pytest.raises(FileReadError, match=r"byte offset 5 holds ff"):
        read(path)


def test_reads_an_empty_file_as_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")

    assert read(path) == ""


def test_refuses_a_file_over_the_configured_limit(tmp_path: Path) -> None:
    configure("[readers.aiofiles]\nmax_bytes = 10\n")
    path = tmp_path / "big.txt"
    path.write_text("x" * 11, encoding="utf-8")

    with pytest.raises(
        FileReadError, match=r"the file is 11 bytes, over the size limit of 10 bytes.*max_bytes"
    ):
        read(path)


def test_reads_a_file_exactly_at_the_limit(tmp_path: Path) -> None:
    configure("[readers.aiofiles]\nmax_bytes = 10\n")
    path = tmp_path / "fits.txt"
    path.write_text("x" * 10, encoding="utf-8")

    assert read(path) == "x" * 10


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"

    with pytest.raises(FileReadError, match=r"absent\.txt: no such file"):
        read(path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="it is a directory, not a file"):
        read(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    with pytest.raises(FileReadError, match="not a regular file"):
        read(pipe)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may read any file"
)
def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(FileReadError, match=r"secret\.txt: permission denied"):
            read(path)
    finally:
        path.chmod(0o600)


def test_an_unknown_encoding_argument_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("text", encoding="utf-8")

    with pytest.raises(FileReadError, match="'klingon' is not an encoding Python knows"):
        read(path, encoding="klingon")


def test_an_unknown_configured_encoding_is_a_config_error(tmp_path: Path) -> None:
    configure('[readers.aiofiles]\nencoding = "klingon"\n')
    path = tmp_path / "notes.txt"
    path.write_text("text", encoding="utf-8")

    with pytest.raises(
        ConfigError, match=r"pocketflow\.toml: \[readers.aiofiles\] 'encoding' = 'klingon'"
    ):
        read(path)


def test_reads_a_file_url_with_percent_escapes(tmp_path: Path) -> None:
    path = tmp_path / "my notes.txt"
    path.write_text("from a URL", encoding="utf-8")

    assert read(path.as_uri()) == "from a URL"
    assert "%20" in path.as_uri()


def test_a_file_url_on_another_host_is_refused() -> None:
    with pytest.raises(FileReadError, match="only local files can be read"):
        read("file://fileserver/share/notes.txt")


def test_reads_relative_paths_against_the_working_directory() -> None:
    Path("here.txt").write_text("relative", encoding="utf-8")

    assert read("here.txt") == "relative"


def _project_with_root(project: Path) -> Path:
    """A project whose config confines reads to ``docs``; returns the docs folder."""
    docs = project / "docs"
    docs.mkdir()
    (docs / "inside.txt").write_text("allowed", encoding="utf-8")
    (project / "outside.txt").write_text("forbidden", encoding="utf-8")
    configure('[readers.aiofiles]\nroot = "docs"\n', project)
    return docs


def test_root_allows_files_inside_it() -> None:
    docs = _project_with_root(Path.cwd())

    assert read(docs / "inside.txt") == "allowed"


def test_a_relative_root_is_resolved_against_the_config_files_folder(
    clean_env: pytest.MonkeyPatch,
) -> None:
    project = Path.cwd()
    _project_with_root(project)
    elsewhere = project / "src"
    elsewhere.mkdir()
    clean_env.chdir(elsewhere)

    assert read("../docs/inside.txt") == "allowed"


def test_root_refuses_dot_dot_traversal() -> None:
    _project_with_root(Path.cwd())

    with pytest.raises(FileReadError, match=r"outside the root folder .*docs") as caught:
        read("docs/../outside.txt")
    assert "docs/../outside.txt" in str(caught.value)


def test_root_refuses_a_symlink_that_leads_out() -> None:
    docs = _project_with_root(Path.cwd())
    link = docs / "sneaky.txt"
    try:
        link.symlink_to(Path.cwd() / "outside.txt")
    except OSError:
        pytest.skip("this system does not allow symlinks")

    with pytest.raises(FileReadError, match=r"resolves to .*outside\.txt, outside the root"):
        read(link)


def test_a_missing_root_folder_is_named() -> None:
    configure('[readers.aiofiles]\nroot = "nowhere"\n')
    Path("notes.txt").write_text("text", encoding="utf-8")

    with pytest.raises(FileReadError, match=r"root folder .*nowhere .*does not exist"):
        read("notes.txt")


def test_a_non_positive_limit_is_a_config_error(tmp_path: Path) -> None:
    configure("[readers.aiofiles]\nmax_bytes = 0\n")

    with pytest.raises(
        ConfigError,
        match=r"pocketflow\.toml: \[readers.aiofiles\] "
        r"'max_bytes' must be a number of bytes greater than 0",
    ):
        read(tmp_path / "any.txt")


def test_many_files_are_read_concurrently_while_the_loop_keeps_running(
    tmp_path: Path,
) -> None:
    paths = []
    for index in range(50):
        path = tmp_path / f"doc{index}.txt"
        path.write_text(f"document {index}\n" + "x" * 200_000, encoding="utf-8")
        paths.append(path)

    async def scenario() -> tuple[list[str], int]:
        ticks = 0
        reading = True

        async def ticker() -> None:
            nonlocal ticks
            while reading:
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        started = ticks
        try:
            texts = await asyncio.gather(*(read_file_async(p) for p in paths))
        finally:
            reading = False
            await ticking
            await pocketflow.aclose()
        return texts, ticks - started

    texts, ticks_during_reads = asyncio.run(scenario())

    assert [text.split("\n")[0] for text in texts] == [f"document {i}" for i in range(50)]
    # Reads that blocked the loop would run in one loop iteration (1 or 2 ticks); each
    # read here is one hop to the thread pool, so the loop turns several times meanwhile.
    assert ticks_during_reads >= 5


def test_pocketflow_plugins_lists_the_reader(capsys: pytest.CaptureFixture[str]) -> None:
    from pocketflow.cli import main

    assert main(["plugins"]) == 0

    readers = capsys.readouterr().out.split("File readers:")[1].split("Feedback providers:")[0]
    assert "\n  aiofiles     [file] " in readers
