"""The ``console`` feedback provider: shows the content and asks a person to approve or deny.

Everything it shows goes to standard error, so a program's standard output stays its
own (``python app.py > summary.txt`` still shows the question). The answer is read
from standard input without blocking the event loop (see :mod:`.stdin_lines`), and
reviews on one event loop take turns, so concurrent nodes never mix their prompts.
"""

from __future__ import annotations

import asyncio
import re
import sys

from pocketflow.errors import FeedbackError
from pocketflow.providers import ComponentSettings, Feedback, FeedbackProvider, PerLoop
from pocketflow_console.answers import HINT, parse_decision
from pocketflow_console.options import SETTING_TYPES, TABLE, ConsoleOptions
from pocketflow_console.stdin_lines import stdin_lines

RULE = "=" * 72
COMMENT_PROMPT = "Comment (optional, press Enter to skip): "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps \t and \n
_turns: PerLoop[asyncio.Lock] = PerLoop(asyncio.Lock)

NON_INTERACTIVE = (
    "To run without a person at the terminal, choose a non-interactive provider: "
    "POCKETFLOW_FEEDBACK=auto (approves) or POCKETFLOW_FEEDBACK=auto:deny, or "
    'POCKETFLOW_FEEDBACK=llm-judge (a model reviews); or set default = "approve" '
    f'(or "deny") under {TABLE} in pocketflow.toml.'
)


class NoAnswer(Exception):
    """No verdict came: end of input, or the timeout passed (``timed_out``)."""

    def __init__(self, why: str, *, timed_out: bool) -> None:
        super().__init__(why)
        self.why = why
        self.timed_out = timed_out


class ConsoleFeedback(FeedbackProvider):
    """Asks in the terminal; ``default``, ``timeout`` and ``comment`` are configurable."""

    settings_types = SETTING_TYPES

    def __init__(self, settings: ComponentSettings) -> None:
        super().__init__(settings)
        self.options = ConsoleOptions.from_settings(settings)

    async def review(self, content: str) -> Feedback:
        """Show ``content``, wait for approve or deny (and a comment, if configured)."""
        async with _turns.get():
            _say(f"\n{RULE}\nPlease review:\n{RULE}\n{_printable(content)}\n{RULE}\n")
            try:
                decision = await self._ask_decision()
            except NoAnswer as missing:
                return self._use_default(missing)
            comment = await self._ask_comment() if self.options.comment else None
            return Feedback(decision, self.settings.name, comment=comment)

    async def _ask_decision(self) -> str:
        timeout = self.options.timeout
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while True:
            _say(self._prompt())
            line = await _next_line(deadline, timeout)
            decision = parse_decision(line)
            if decision is not None:
                return decision
            _say(f"{HINT}\n")

    async def _ask_comment(self) -> str | None:
        _say(COMMENT_PROMPT)
        timeout = self.options.timeout
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        try:
            line = await _next_line(deadline, timeout)
        except NoAnswer:
            _say("\n")
            return None
        return line.strip() or None

    def _prompt(self) -> str:
        options = self.options
        when = ""
        if options.default is not None:
            after = f"after {options.timeout:g} s or " if options.timeout is not None else ""
            when = f" ({options.default} {after}at end of input)"
        return f"Approve or deny? [a]pprove / [d]eny{when}: "

    def _use_default(self, missing: NoAnswer) -> Feedback:
        default = self.options.default
        if default is None and missing.timed_out:
            raise FeedbackError(
                f"The console feedback provider got {missing.why} (timeout under {TABLE}) "
                f'and has no default answer. Set default = "deny" (or "approve") there '
                f"to go on without an answer, raise the timeout, or: {NON_INTERACTIVE}"
            ) from None
        if default is None:
            raise FeedbackError(
                "The console feedback provider needs an answer, but standard input is at "
                f"end of input (closed, or empty as in CI). {NON_INTERACTIVE}"
            ) from None
        _say(f"\n{missing.why.capitalize()}: using the default answer, {default}.\n")
        return Feedback(default, self.settings.name, comment=f"console default: {missing.why}")


async def _next_line(deadline: float | None, timeout: float | None) -> str:
    """The next line of input; NoAnswer at end of input or when ``deadline`` passes."""
    try:
        async with asyncio.timeout_at(deadline):
            line = await stdin_lines.readline()
    except TimeoutError:
        raise NoAnswer(f"no answer within {timeout:g} s", timed_out=True) from None
    if line is None:
        raise NoAnswer("end of input", timed_out=False)
    return line


def _say(text: str) -> None:
    stream = sys.stderr
    if stream is not None:
        stream.write(text)
        stream.flush()


def _printable(content: str) -> str:
    """``content`` without control characters that could drive the terminal."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", content.replace("\r\n", "\n"))
