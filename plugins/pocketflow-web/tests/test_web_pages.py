"""The review page as a person uses it: the list, one question, answering, history."""

from __future__ import annotations

import asyncio

import pytest
from review_helpers import Runner, asking_flow, csrf_of, key_of
from starlette.testclient import TestClient

from pocketflow.runs import answer_sync
from pocketflow.runs.answers import answer_in
from pocketflow.runs.store import RunStore

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


def answer_form(
    client: TestClient, run_id: str, decision: str, comment: str = ""
) -> dict[str, str]:
    page = client.get(f"/questions/{run_id}").text
    return {"csrf": csrf_of(page), "key": key_of(page), "decision": decision, "comment": comment}


def test_the_list_shows_waiting_questions_newest_first_with_their_run(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("older", audience="editors")
    run_flow("newer", flow=asking_flow, draft="A second draft to check")
    page = browser.get("/").text
    assert page.index("/questions/newer") < page.index("/questions/older")
    assert 'class="count">2<' in page
    (older,) = [q for q in asyncio.run(store.questions()) if q.run_id == "older"]
    tokens = older.input_tokens + older.output_tokens
    assert tokens > 0
    assert (
        f"AsyncFlow(start=Draft) · for editors · asked 0s ago · 1 step · {tokens:,} tokens"
    ) in page
    assert "AsyncFlow(start=Ask) · anyone · asked 0s ago · 0 steps · 0 tokens" in page
    assert '<meta http-equiv="refresh" content="15">' in page


def test_the_list_filters_by_flow_and_by_audience(browser: TestClient, run_flow: Runner) -> None:
    run_flow("older", audience="editors")
    run_flow("newer", flow=asking_flow, draft="A second draft to check")
    by_flow = browser.get("/", params={"flow": "AsyncFlow(start=Ask)"}).text
    assert "/questions/newer" in by_flow and "/questions/older" not in by_flow
    by_audience = browser.get("/", params={"audience": "editors"}).text
    assert "/questions/older" in by_audience and "/questions/newer" not in by_audience
    assert '<option value="editors" selected>' in by_audience


def test_a_question_shows_its_content_with_line_breaks_and_the_runs_steps(
    browser: TestClient, run_flow: Runner
) -> None:
    run_flow("owls")
    page = browser.get("/questions/owls").text
    assert '<pre class="content">Owls hunt at night.\nThey sleep by day.</pre>' in page
    assert "<td>1</td><td>0:Draft</td><td>default</td>" in page
    assert 'value="approve">Approve</button>' in page and 'value="deny">Deny</button>' in page


def test_deny_with_a_comment_is_recorded_and_the_run_resumes_with_it(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("owls")
    form = answer_form(browser, "owls", "deny", "Say when they hunt")
    response = browser.post("/questions/owls/answer", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/questions/owls?answered=deny"
    shown = browser.get(response.headers["location"]).text
    assert "Your answer (deny) is recorded." in shown
    assert "Answered: <strong>deny</strong> with the comment “Say when they hunt”" in shown
    assert '<meta http-equiv="refresh" content="3">' in shown  # until a worker resumes it
    resumed = run_flow("owls")
    assert (resumed["verdict"], resumed["comment"]) == ("deny", "Say when they hunt")
    again = browser.get("/questions/owls").text
    assert key_of(again) != form["key"]  # waits on a new question


def test_an_answer_given_meanwhile_elsewhere_is_kept_and_the_page_says_so(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("owls")
    form = answer_form(browser, "owls", "approve")
    answer_sync("owls", "deny", comment="too short")  # as `pocketflow runs answer` does
    response = browser.post("/questions/owls/answer", data=form)
    assert response.status_code == 409
    assert "Someone else answered meanwhile; your answer was not recorded." in response.text
    (question,) = asyncio.run(store.questions("answered"))
    assert (question.decision, question.comment) == ("deny", "too short")


def test_a_question_that_changed_meanwhile_is_not_answered_blind(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("owls")
    stale = answer_form(browser, "owls", "approve")
    browser.post("/questions/owls/answer", data=answer_form(browser, "owls", "deny"))
    run_flow("owls")  # resumed: asks again
    response = browser.post("/questions/owls/answer", data=stale)
    assert response.status_code == 409
    assert "The question changed meanwhile" in response.text
    assert [q.status for q in asyncio.run(store.questions(None))] == ["waiting", "answered"]


def test_history_lists_answers_of_the_last_week(browser: TestClient, run_flow: Runner) -> None:
    run_flow("owls")
    browser.post("/questions/owls/answer", data=answer_form(browser, "owls", "approve", "good"))
    page = browser.get("/history").text
    assert 'Answered in the last 7 days <span class="count">1</span>' in page
    assert '<strong class="approve">approve</strong> · good · answered 0s ago' in page
    assert "Nothing waits" in browser.get("/").text


def test_an_unknown_run_is_a_404_that_names_it(browser: TestClient) -> None:
    response = browser.get("/questions/nobody")
    assert response.status_code == 404
    assert "Run &#x27;nobody&#x27; asked no question." in response.text


def test_a_verdict_other_than_approve_or_deny_is_refused(
    browser: TestClient, run_flow: Runner
) -> None:
    run_flow("owls")
    response = browser.post("/questions/owls/answer", data=answer_form(browser, "owls", "maybe"))
    assert response.status_code == 400
    assert "answer approve or deny" in response.text


def test_history_marks_a_question_whose_default_applied(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("owls")
    asyncio.run(answer_in(store, "owls", "deny", comment="no answer in time", expired=True))
    page = browser.get("/history").text
    assert '<strong class="deny">deny</strong> (expired) · no answer in time' in page


def test_a_long_list_comes_in_pages(
    browser: TestClient, run_flow: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pocketflow_web.app.PAGE_SIZE", 2)
    for name in ("first", "second", "third"):
        run_flow(name, flow=asking_flow, draft=f"About the {name}")
    page_one = browser.get("/").text
    assert "/questions/third" in page_one and "/questions/second" in page_one
    assert "/questions/first" not in page_one
    assert "page 1 of 2" in page_one and 'href="/?page=2">Older</a>' in page_one
    page_two = browser.get("/", params={"page": "2"}).text
    assert "/questions/first" in page_two and "/questions/third" not in page_two
    assert 'class="count">3<' in page_two
