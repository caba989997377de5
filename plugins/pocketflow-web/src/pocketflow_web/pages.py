"""The review page's HTML: plain strings, every value escaped with ``html.escape``.

Content an LLM wrote is shown as text in a ``<pre>`` (line breaks kept), never as HTML:
a summary holding ``<script>`` shows those characters and runs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from starlette.responses import HTMLResponse

from pocketflow.runs.store import Question, RunInfo, StepRecord

RECENT_STEPS = 10
PREVIEW_CHARS = 160


def layout(title: str, body: str, *, refresh: int | None = None) -> str:
    """A whole page: the header, ``body`` (HTML), and a meta refresh when asked."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{meta}<title>{escape(title)} · PocketFlow review</title>'
        '<link rel="stylesheet" href="/style.css"></head><body>'
        '<header><a class="brand" href="/">PocketFlow review</a><nav>'
        '<a href="/">Waiting</a><a href="/history">Answered</a></nav></header>'
        f"<main>{body}</main></body></html>"
    )  # fmt: skip


def message_page(title: str, text: str, status: int) -> HTMLResponse:
    """A page that says one thing: a refusal, a missing run."""
    body = f'<h1>{escape(title)}</h1><p class="flash bad">{escape(text)}</p>'
    return HTMLResponse(layout(title, body), status_code=status)


def question_url(run_id: str) -> str:
    """The path of a run's question page."""
    return f"/questions/{quote(run_id, safe='')}"


def age(seconds: float) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``."""
    seconds = max(seconds, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def when(timestamp: float | None) -> str:
    """A local date and time."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp or 0))


def preview(content: str) -> str:
    """The content's first non-empty line, cut to ``PREVIEW_CHARS``."""
    line = next((line.strip() for line in content.splitlines() if line.strip()), "(empty)")
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def _meta(question: Question, now: float) -> str:
    tokens = question.input_tokens + question.output_tokens
    parts = [
        question.flow or "flow?",
        f"for {question.audience}" if question.audience else "anyone",
        f"asked {age(now - question.asked)} ago",
        f"{question.steps} step{'s' if question.steps != 1 else ''}",
        f"{tokens:,} tokens",
    ]
    return " · ".join(escape(part) for part in parts)


@dataclass(frozen=True, slots=True)
class Filters:
    """The waiting list's filters (empty: all) and page number."""

    flow: str = ""
    audience: str = ""
    page: int = 1

    def matches(self, question: Question) -> bool:
        """True when ``question`` passes both filters."""
        return (not self.flow or question.flow == self.flow) and (
            not self.audience or (question.audience or "") == self.audience
        )

    def url(self, page: int) -> str:
        """The list's address for ``page`` with these filters."""
        query = {"flow": self.flow, "audience": self.audience, "page": str(page)}
        return "/?" + urlencode({key: value for key, value in query.items() if value})


def _select(name: str, label: str, values: Sequence[str], chosen: str) -> str:
    options = ['<option value="">all</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        shown = value or "anyone"
        options.append(f'<option value="{escape(value)}"{selected}>{escape(shown)}</option>')
    return f'<label>{label} <select name="{name}">{"".join(options)}</select></label>'


def waiting_page(
    shown: Sequence[Question],
    *,
    matching: int,
    flows: Sequence[str],
    audiences: Sequence[str],
    filters: Filters,
    pages: int,
    now: float,
    refresh: int,
) -> str:
    """The questions that wait, newest first, with the filter form and paging."""
    items = "".join(
        f'<li><a href="{escape(question_url(q.run_id))}">'
        f'<span class="preview">{escape(preview(q.content))}</span>'
        f'<span class="meta">{_meta(q, now)}</span></a></li>'
        for q in shown
    )
    listing = f'<ul class="questions">{items}</ul>' if items else (
        '<p class="empty">Nothing waits for a verdict. This page looks again every '
        f"{refresh} s.</p>"
    )  # fmt: skip
    form = (
        '<form class="filters" method="get" action="/">'
        f"{_select('flow', 'Flow', flows, filters.flow)}"
        f"{_select('audience', 'Audience', audiences, filters.audience)}"
        "<button>Filter</button></form>"
    )
    paging = ""
    if pages > 1:
        newer = (
            f'<a href="{escape(filters.url(filters.page - 1))}">Newer</a>'
            if filters.page > 1 else ""
        )  # fmt: skip
        older = (
            f'<a href="{escape(filters.url(filters.page + 1))}">Older</a>'
            if filters.page < pages else ""
        )  # fmt: skip
        paging = (
            f'<nav class="pages">{newer}<span>page {filters.page} of {pages}</span>{older}</nav>'
        )
    body = (
        f'<h1>Waiting for a verdict <span class="count">{matching}</span></h1>'
        f"{form}{listing}{paging}"
    )
    return layout("Waiting", body, refresh=refresh)


def _facts(question: Question, info: RunInfo | None, now: float) -> str:
    rows = [
        ("Run", question.run_id),
        ("Flow", question.flow or (info.flow if info else "")),
        ("Asked by", question.node),
        ("Asked", f"{when(question.asked)} ({age(now - question.asked)} ago)"),
        ("For", question.audience or "anyone"),
    ]
    if question.expires is not None:
        rows.append(("Deadline", f"{when(question.expires)}, then {question.default or 'none'}"))
    if info is not None:
        tokens = f"{info.input_tokens:,} in / {info.output_tokens:,} out"
        rows += [("Run status", info.status), ("Steps", str(info.steps)), ("Tokens", tokens)]
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="facts">{cells}</dl>'


def _steps_table(steps: Sequence[StepRecord]) -> str:
    if not steps:
        return '<p class="empty">No step committed yet.</p>'
    recent = list(steps)[-RECENT_STEPS:]
    first = len(steps) - len(recent) + 1
    rows = "".join(
        f"<tr><td>{number}</td><td>{escape(step.node)}</td><td>{escape(step.action or '')}</td>"
        f"<td>{step.duration:.2f} s</td><td>{step.input_tokens + step.output_tokens:,}</td>"
        f"<td>{escape(step.error or '')}</td></tr>"
        for number, step in enumerate(recent, start=first)
    )
    return (
        '<div class="scroll"><table class="steps"><thead><tr><th>#</th><th>Node</th>'
        "<th>Action</th><th>Time</th><th>Tokens</th><th>Error</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _answer_form(question: Question, csrf: str) -> str:
    return (
        f'<form class="answer" method="post" '
        f'action="{escape(question_url(question.run_id))}/answer">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="key" value="{escape(question.key)}">'
        '<label for="comment">Comment (optional)</label>'
        '<textarea id="comment" name="comment" rows="3" maxlength="4000"></textarea>'
        '<div class="buttons">'
        '<button class="approve" name="decision" value="approve">Approve</button>'
        '<button class="deny" name="decision" value="deny">Deny</button></div></form>'
    )  # fmt: skip


def _verdict(question: Question) -> str:
    if question.status == "waiting":
        return ""
    how = "Expired: its default applied" if question.status == "expired" else "Answered"
    comment = f" with the comment “{escape(question.comment)}”" if question.comment else ""
    return (
        f'<p class="verdict {escape(question.decision or "")}">{how}: '
        f"<strong>{escape(question.decision or '')}</strong>{comment}, "
        f"{escape(when(question.answered))}.</p>"
    )


def question_page(
    question: Question,
    info: RunInfo | None,
    steps: Sequence[StepRecord],
    *,
    csrf: str,
    now: float,
    flash: str = "",
    flash_kind: str = "ok",
) -> str:
    """One question: its facts, the content as text, the form, the run's recent steps."""
    notice = f'<p class="flash {escape(flash_kind)}">{escape(flash)}</p>' if flash else ""
    waiting = question.status == "waiting"
    form = _answer_form(question, csrf) if waiting else _verdict(question)
    pending = not waiting and info is not None and info.status in ("queued", "running")
    if pending:
        form += (
            '<p class="empty">The run resumes when a worker (<code>pocketflow runs worker</code>) '
            "picks it up; this page looks again every 3 s.</p>"
        )
    body = (
        f"{notice}<h1>Run {escape(question.run_id)}</h1>"
        f"{_facts(question, info, now)}"
        f'<h2>Content</h2><pre class="content">{escape(question.content)}</pre>'
        f"{form}<h2>Recent steps</h2>{_steps_table(steps)}"
    )
    return layout(f"Run {question.run_id}", body, refresh=3 if pending else None)


def history_page(questions: Sequence[Question], *, days: int, now: float) -> str:
    """Questions answered or expired in the last ``days``, most recently answered first."""
    items = "".join(
        f'<li><a href="{escape(question_url(q.run_id))}">'
        f'<span class="preview">{escape(preview(q.content))}</span>'
        f'<span class="meta"><strong class="{escape(q.decision or "")}">'
        f"{escape(q.decision or '')}</strong>"
        f"{' (expired)' if q.status == 'expired' else ''} · "
        f"{escape(q.comment or 'no comment')} · answered {age(now - (q.answered or 0))} ago · "
        f"{_meta(q, now)}</span></a></li>"
        for q in questions
    )
    listing = f'<ul class="questions">{items}</ul>' if items else (
        f'<p class="empty">No question was answered in the last {days} days.</p>'
    )  # fmt: skip
    body = (
        f'<h1>Answered in the last {days} days <span class="count">{len(questions)}</span></h1>'
        f"{listing}"
    )
    return layout("Answered", body)
