"""The review page's Starlette app: the pages, the JSON API, the stylesheet.

Every answer goes through :func:`pocketflow.runs.answers.answer_in`, as
``pocketflow runs answer`` does: it journals the verdict and queues the run for a worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pocketflow.errors import DurableRunError, QuestionNotWaiting, RunNotFoundError
from pocketflow.runs.answers import InvalidAnswer, answer_in
from pocketflow.runs.store import Question, QuestionStatus, RunStore
from pocketflow_web import lookups
from pocketflow_web.auth import Keys, TokenGate, via
from pocketflow_web.pages import (
    Filters,
    history_page,
    message_page,
    question_page,
    question_url,
    waiting_page,
)

PAGE_SIZE = 50
LIST_REFRESH_SECONDS = 15
MAX_FORM_BYTES = 64 * 1024
STYLESHEET = files("pocketflow_web").joinpath("style.css").read_bytes()


def create_app(store: RunStore, token: str, *, clock: Callable[[], float] = time.time) -> Starlette:
    """The review page for the open ``store``, answering requests that carry ``token``."""
    keys = Keys(token)

    async def waiting_list(request: Request) -> Response:
        params = request.query_params
        page = int(params["page"]) if params.get("page", "").isdigit() else 1
        filters = Filters(params.get("flow", ""), params.get("audience", ""), max(page, 1))
        questions = await lookups.waiting(store)
        matching = [q for q in questions if filters.matches(q)]
        pages = max(math.ceil(len(matching) / PAGE_SIZE), 1)
        start = (min(filters.page, pages) - 1) * PAGE_SIZE
        html = waiting_page(
            matching[start : start + PAGE_SIZE],
            matching=len(matching),
            flows=lookups.distinct([q.flow for q in questions]),
            audiences=lookups.distinct([q.audience for q in questions]),
            filters=filters,
            pages=pages,
            now=clock(),
            refresh=LIST_REFRESH_SECONDS,
        )
        return HTMLResponse(html)

    async def history(request: Request) -> Response:
        now = clock()
        questions = await lookups.recent_answers(store, now=now)
        return HTMLResponse(history_page(questions[:500], days=lookups.HISTORY_DAYS, now=now))

    async def show_question(
        run_id: str, *, flash: str = "", flash_kind: str = "ok", status: int = 200
    ) -> Response:
        question = await lookups.question_of(store, run_id)
        if question is None:
            return message_page("No such question", f"Run {run_id!r} asked no question.", 404)
        info = await store.get(run_id)
        steps = await store.steps(run_id)
        html = question_page(
            question, info, steps, csrf=keys.csrf, now=clock(), flash=flash, flash_kind=flash_kind
        )
        return HTMLResponse(html, status_code=status)

    async def question(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        done = request.query_params.get("answered", "")
        flash = f"Your answer ({done}) is recorded." if done in ("approve", "deny") else ""
        return await show_question(run_id, flash=flash)

    async def answer(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        form = await _form(request)
        if form is None:
            return message_page("Refused", "The form is too large.", 413)
        if via(request) == "cookie" and not keys.is_csrf(form.get("csrf", "")):
            return message_page(
                "Refused",
                "The form's CSRF value is missing or wrong: reload the question and answer again.",
                403,
            )
        current = await lookups.question_of(store, run_id, waiting_only=True)
        if current is not None and current.key != form.get("key", current.key):
            return await show_question(
                run_id,
                flash="The question changed meanwhile: someone answered it and the run asks "
                "again. Read the new content below; nothing was recorded.",
                flash_kind="bad",
                status=409,
            )
        try:
            await answer_in(
                store, run_id, form.get("decision", ""), comment=form.get("comment") or None
            )
        except QuestionNotWaiting as error:
            return await show_question(
                run_id,
                flash=f"Someone else answered meanwhile; your answer was not recorded. {error}",
                flash_kind="bad",
                status=409,
            )
        except RunNotFoundError as error:
            return message_page("No such run", str(error), 404)
        except InvalidAnswer as error:
            return message_page("Not a verdict", str(error), 400)
        decision = form["decision"]
        return RedirectResponse(f"{question_url(run_id)}?answered={decision}", 303)

    async def api_questions(request: Request) -> Response:
        status_text = request.query_params.get("status", "waiting")
        statuses: dict[str, QuestionStatus | None] = {
            "waiting": "waiting", "answered": "answered", "expired": "expired", "all": None,
        }  # fmt: skip
        if status_text not in statuses:
            return _json_error("status must be waiting, answered, expired or all.", 400)
        limit_text = request.query_params.get("limit", "100")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 10_000:
            return _json_error("limit must be a whole number from 1 to 10000.", 400)
        filters = Filters(
            request.query_params.get("flow", ""), request.query_params.get("audience", "")
        )
        found = await store.questions(statuses[status_text], lookups.FETCH_LIMIT)
        chosen = [q for q in found if filters.matches(q)][: int(limit_text)]
        return JSONResponse({"questions": [question_json(q) for q in chosen]})

    async def api_answer(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            body = await request.json()
        except ValueError:
            return _json_error(
                'The body must be JSON: {"decision": "approve", "comment": "..."}.', 400
            )
        if not isinstance(body, dict):
            return _json_error('The body must be a JSON object: {"decision": "approve"}.', 400)
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            return _json_error("comment must be a string.", 400)
        key = body.get("key")
        if key is not None:
            current = await lookups.question_of(store, run_id, waiting_only=True)
            if current is not None and current.key != key:
                return _json_error(
                    f"Run {run_id!r} now waits on another question ({current.key!r}): "
                    "nothing was recorded.",
                    409,
                )
        try:
            answered = await answer_in(
                store, run_id, str(body.get("decision", "")), comment=comment
            )
        except QuestionNotWaiting as error:
            return _json_error(str(error), 409)
        except RunNotFoundError as error:
            return _json_error(str(error), 404)
        except InvalidAnswer as error:
            return _json_error(str(error), 400)
        except DurableRunError as error:
            return _json_error(str(error), 409)
        return JSONResponse({"question": question_json(answered)})

    async def stylesheet(request: Request) -> Response:
        return Response(STYLESHEET, media_type="text/css")

    routes = [
        Route("/", waiting_list),
        Route("/history", history),
        Route("/style.css", stylesheet),
        Route("/questions/{run_id:path}/answer", answer, methods=["POST"]),
        Route("/questions/{run_id:path}", question),
        Route("/api/questions", api_questions),
        Route("/api/questions/{run_id:path}/answer", api_answer, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TokenGate, keys=keys)])


def question_json(question: Question) -> dict[str, Any]:
    """A question as the JSON API gives it."""
    return {
        "run_id": question.run_id, "key": question.key, "node": question.node,
        "flow": question.flow, "content": question.content, "audience": question.audience,
        "asked": question.asked, "expires": question.expires, "default": question.default,
        "status": question.status, "decision": question.decision, "comment": question.comment,
        "answered": question.answered, "steps": question.steps,
        "input_tokens": question.input_tokens, "output_tokens": question.output_tokens,
    }  # fmt: skip


def _json_error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _form(request: Request) -> dict[str, str] | None:
    """The url-encoded form's fields (the last value of each), None when it is too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}
