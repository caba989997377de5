"""The CLI as simonw/llm users expect it: --version, "did you mean", and one prompt."""

from __future__ import annotations

import io
from importlib.metadata import version

import pytest

from pocketflow.cli import main


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"pocketflow {version('pocketflow-core')}"


def test_a_misspelled_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["modles"]) == 2

    err = capsys.readouterr().err
    assert "unknown command 'modles'" in err
    assert "Did you mean 'models'?" in err


class Terminal(io.StringIO):
    """Standard output that remembers each write and flush (to see streaming)."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_texts: list[str] = []

    def flush(self) -> None:
        self.flushed_texts.append(self.getvalue())
        super().flush()


def test_prompt_streams_the_answer_to_the_terminal(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    pocketflow_env.setattr("sys.stdout", terminal)

    assert main(["prompt", "three little words", "-m", "offline:echo"]) == 0

    assert terminal.getvalue() == "[offline echo] three little words\n"
    partial = [text for text in terminal.flushed_texts if text and not text.endswith("\n")]
    assert len(partial) >= 3, "the answer was not shown chunk by chunk"


def test_prompt_reads_standard_input_and_uses_the_configured_model(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    pocketflow_env.setattr("sys.stdin", io.StringIO("from a pipe\n"))

    assert main(["prompt", "--system", "be brief"]) == 0

    assert capsys.readouterr().out == "[offline echo] from a pipe\n"


def test_prompt_reports_an_unknown_model_with_status_2(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prompt", "hi", "-m", "nosuch:model"]) == 2

    assert "No LLM provider 'nosuch' is installed" in capsys.readouterr().err
