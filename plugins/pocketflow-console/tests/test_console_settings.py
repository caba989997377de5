"""The console provider in-process: its settings and a stdin that has no file descriptor."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from pocketflow import gather_user_feedback, request_feedback
from pocketflow.cli import main
from pocketflow.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every test runs with a clean configuration in an empty working directory."""
    return pocketflow_env


def test_console_is_the_default_feedback_provider(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(sys, "stdin", io.StringIO("yes\n"))

    feedback = asyncio.run(request_feedback("Summary text"))

    assert (feedback.provider, feedback.decision) == ("console", "approve")


def test_reads_a_stdin_replaced_by_a_text_stream(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(sys, "stdin", io.StringIO("hmm\nno\n"))

    assert asyncio.run(gather_user_feedback("Summary text", provider="console")) == "deny"


def test_an_unknown_default_is_a_config_error() -> None:
    Path("pocketflow.toml").write_text(
        '[feedback_providers.console]\ndefault = "maybe"\n', encoding="utf-8"
    )

    with pytest.raises(
        ConfigError,
        match=r"pocketflow\.toml: \[feedback_providers.console\] 'default' must be "
        r'"approve" or "deny", not \'maybe\'',
    ):
        asyncio.run(gather_user_feedback("Summary text", provider="console"))


def test_a_non_positive_timeout_is_a_config_error() -> None:
    Path("pocketflow.toml").write_text(
        "[feedback_providers.console]\ntimeout = 0\n", encoding="utf-8"
    )

    with pytest.raises(
        ConfigError,
        match=r"pocketflow\.toml: \[feedback_providers.console\] "
        r"'timeout' must be seconds greater than 0",
    ):
        asyncio.run(gather_user_feedback("Summary text", provider="console"))


def test_pocketflow_plugins_lists_console(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0

    listing = capsys.readouterr().out
    feedback_section = listing.split("Feedback providers:")[1]
    assert "\n  console " in feedback_section
    assert "registers: feedback console" in listing
