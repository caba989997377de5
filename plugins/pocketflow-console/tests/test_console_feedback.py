"""The console feedback provider, driven as a person would: a real process, its stdin piped.

Each test writes a tiny program into ``tmp_path`` that asks for feedback through the
public API, runs it with ``sys.executable`` and answers on its standard input.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses select() on pipes")

DECISION = """
import asyncio
from pocketflow import gather_user_feedback

print(asyncio.run(gather_user_feedback("Summary text", provider="console")))
"""

WITH_COMMENT = """
import asyncio
from pocketflow import request_feedback

feedback = asyncio.run(request_feedback("Summary text", provider="console"))
print(feedback.decision)
print(repr(feedback.comment))
"""

WITH_TICKER = """
import asyncio
import sys
from pocketflow import gather_user_feedback

async def main():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1
            sys.stderr.write("tick\\n")
            sys.stderr.flush()

    task = asyncio.create_task(ticker())
    decision = await gather_user_feedback("Summary text", provider="console")
    answered_at = ticks
    task.cancel()
    print(decision, answered_at)

asyncio.run(main())
"""

TWO_AT_ONCE = """
import asyncio
from pocketflow import gather_user_feedback

async def main():
    return await asyncio.gather(
        gather_user_feedback("first summary", provider="console"),
        gather_user_feedback("second summary", provider="console"),
    )

print(*asyncio.run(main()))
"""

PROMPT = "Approve or deny?"


def environment() -> dict[str, str]:
    """The test's environment without PocketFlow settings; only this plugin loads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
    env["POCKETFLOW_LOAD_PLUGINS"] = "console"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def program(folder: Path, source: str, config: str | None = None) -> list[str]:
    """Write ``source`` (and a pocketflow.toml) into ``folder``; the command that runs it."""
    (folder / "review.py").write_text(source, encoding="utf-8")
    if config is not None:
        (folder / "pocketflow.toml").write_text(config, encoding="utf-8")
    return [sys.executable, str(folder / "review.py")]


def answer(
    folder: Path, stdin: str, source: str = DECISION, config: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the program with ``stdin`` piped in (then closed); its exit and output."""
    return subprocess.run(
        program(folder, source, config),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment(),
        timeout=60,
    )


def start(folder: Path, source: str, config: str | None = None) -> subprocess.Popen[bytes]:
    """Start the program with pipes for stdin, stdout and stderr."""
    return subprocess.Popen(
        program(folder, source, config),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=folder,
        env=environment(),
    )


def read_until(stream: IO[bytes], done: str, count: int = 1, seen: str = "") -> str:
    """Read ``stream`` until ``done`` appears ``count`` times in all that was read."""
    deadline = time.monotonic() + 30
    while seen.count(done) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"waited in vain for {done!r}; the program wrote {seen!r}"
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"the stream ended before {done!r}; the program wrote {seen!r}"
            seen += chunk.decode("utf-8", errors="replace")
    return seen


def test_approve_is_read_as_approve(tmp_path: Path) -> None:
    result = answer(tmp_path, "approve\n")

    assert (result.returncode, result.stdout) == (0, "approve\n")


def test_deny_is_read_as_deny(tmp_path: Path) -> None:
    result = answer(tmp_path, "deny\n")

    assert (result.returncode, result.stdout) == (0, "deny\n")


@pytest.mark.parametrize(
    ("typed", "decision"),
    [("y\n", "approve"), ("  YES \n", "approve"), ("A\n", "approve"), ("n\n", "deny"),
     ("No\n", "deny"), ("d\n", "deny")],
)  # fmt: skip
def test_short_answers_any_case(tmp_path: Path, typed: str, decision: str) -> None:
    result = answer(tmp_path, typed)

    assert result.stdout == f"{decision}\n"


def test_an_unclear_answer_is_asked_again_with_a_hint(tmp_path: Path) -> None:
    result = answer(tmp_path, "maybe\napprove\n")

    assert result.stdout == "approve\n"
    assert result.stderr.count(PROMPT) == 2
    assert "Please answer approve (a, y, yes) or deny (d, n, no)." in result.stderr


def test_the_content_is_shown_on_stderr_not_stdout(tmp_path: Path) -> None:
    result = answer(tmp_path, "approve\n")

    assert "Summary text" in result.stderr
    assert "Summary text" not in result.stdout


def test_a_last_answer_without_a_newline_counts(tmp_path: Path) -> None:
    result = answer(tmp_path, "deny")

    assert result.stdout == "deny\n"


def test_end_of_input_without_a_default_fails_saying_how_to_run_unattended(
    tmp_path: Path,
) -> None:
    result = answer(tmp_path, "")

    assert result.returncode != 0
    assert "FeedbackError: The console feedback provider needs an answer" in result.stderr
    assert "POCKETFLOW_FEEDBACK=auto" in result.stderr
    assert "auto:deny" in result.stderr
    assert "llm-judge" in result.stderr
    assert 'default = "approve"' in result.stderr
    assert "[feedback_providers.console]" in result.stderr


def test_end_of_input_uses_the_configured_default(tmp_path: Path) -> None:
    result = answer(tmp_path, "", config='[feedback_providers.console]\ndefault = "deny"\n')

    assert (result.returncode, result.stdout) == (0, "deny\n")
    assert "End of input: using the default answer, deny." in result.stderr


def test_a_default_given_after_the_colon(tmp_path: Path) -> None:
    source = DECISION.replace('provider="console"', 'provider="console:approve"')

    result = answer(tmp_path, "", source)

    assert result.stdout == "approve\n"


def test_answers_redirected_from_a_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("what?\nno\n", encoding="utf-8")

    with answers.open("rb") as stdin:
        result = subprocess.run(
            program(tmp_path, DECISION), stdin=stdin, capture_output=True, text=True,
            cwd=tmp_path, env=environment(), timeout=60,
        )  # fmt: skip

    assert result.stdout == "deny\n"
    assert result.stderr.count(PROMPT) == 2


def test_the_event_loop_keeps_running_while_it_waits(tmp_path: Path) -> None:
    process = start(tmp_path, WITH_TICKER)
    try:
        assert process.stdin is not None and process.stderr is not None
        seen = read_until(process.stderr, PROMPT)
        seen = read_until(process.stderr, "tick", count=seen.count("tick") + 5, seen=seen)
        out, _ = process.communicate(b"approve\n", timeout=60)
    finally:
        process.kill()
        process.wait()

    decision, ticks = out.decode().split()
    assert decision == "approve"
    assert int(ticks) >= 5


def test_concurrent_reviews_take_turns(tmp_path: Path) -> None:
    process = start(tmp_path, TWO_AT_ONCE)
    try:
        assert process.stdin is not None and process.stderr is not None
        first = read_until(process.stderr, PROMPT)
        process.stdin.write(b"approve\n")
        process.stdin.flush()
        both = read_until(process.stderr, PROMPT, count=2, seen=first)
        out, _ = process.communicate(b"deny\n", timeout=60)
    finally:
        process.kill()
        process.wait()

    assert "first summary" in first
    assert "second summary" not in first
    assert "second summary" in both[len(first) :]
    assert out.decode() == "approve deny\n"


def test_a_comment_is_asked_for_after_the_verdict(tmp_path: Path) -> None:
    config = "[feedback_providers.console]\ncomment = true\n"

    result = answer(tmp_path, "deny\nThe numbers are wrong.\n", WITH_COMMENT, config)

    assert result.stdout == "deny\n'The numbers are wrong.'\n"
    assert "Comment (optional, press Enter to skip):" in result.stderr


def test_an_empty_comment_is_none(tmp_path: Path) -> None:
    config = "[feedback_providers.console]\ncomment = true\n"

    result = answer(tmp_path, "approve\n\n", WITH_COMMENT, config)

    assert result.stdout == "approve\nNone\n"


def test_no_comment_is_asked_for_unless_configured(tmp_path: Path) -> None:
    result = answer(tmp_path, "approve\nignored\n", WITH_COMMENT)

    assert result.stdout == "approve\nNone\n"
    assert "Comment" not in result.stderr


def test_a_timeout_uses_the_default_while_stdin_stays_open(tmp_path: Path) -> None:
    config = '[feedback_providers.console]\ntimeout = 0.2\ndefault = "approve"\n'
    process = start(tmp_path, WITH_COMMENT, config)
    try:
        assert process.stdout is not None and process.stderr is not None
        process.wait(timeout=60)  # stdin is open and silent all along
        out, err = process.stdout.read().decode(), process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    assert out == "approve\n'console default: no answer within 0.2 s'\n"
    assert "No answer within 0.2 s: using the default answer, approve." in err


def test_a_timeout_without_a_default_fails(tmp_path: Path) -> None:
    config = "[feedback_providers.console]\ntimeout = 0.05\n"
    process = start(tmp_path, DECISION, config)
    try:
        assert process.stderr is not None
        process.wait(timeout=60)
        err = process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    assert process.returncode != 0
    assert "got no answer within 0.05 s" in err
    assert 'Set default = "deny"' in err


CTRL_C_THEN_ASK_AGAIN = """
from pocketflow import gather_user_feedback_sync

try:
    gather_user_feedback_sync("first summary", provider="console")
except KeyboardInterrupt:
    print("interrupted", flush=True)
print(gather_user_feedback_sync("second summary", provider="console"), flush=True)
"""


def test_after_ctrl_c_in_the_sync_twin_the_next_answer_goes_to_the_next_question(
    tmp_path: Path,
) -> None:
    config = '[feedback_providers.console]\ntimeout = 3\ndefault = "approve"\n'
    process = start(tmp_path, CTRL_C_THEN_ASK_AGAIN, config)
    try:
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        read_until(process.stderr, PROMPT)
        process.send_signal(signal.SIGINT)
        read_until(process.stdout, "interrupted")
        out, _ = process.communicate(b"deny\n", timeout=60)
    finally:
        process.kill()
        process.wait()

    assert out.decode().split() == ["deny"]  # not the default: the answer was not lost
    assert process.returncode == 0


MAX_LINE = 1 << 20
"""The longest input line the console reads (1 MiB)."""


def test_a_line_longer_than_the_limit_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    result = answer(tmp_path, "a" * (2 * MAX_LINE) + "\napprove\n")

    assert result.returncode != 0
    assert "FeedbackError: An input line is longer than 1 MiB" in result.stderr
    assert "approve or deny" in result.stderr


def test_a_line_just_under_the_limit_is_read(tmp_path: Path) -> None:
    result = answer(tmp_path, "a" * (MAX_LINE - 1) + "\napprove\n")

    assert (result.returncode, result.stdout) == (0, "approve\n")
