"""The JSON API beside the pages, for chat bots and scripts (bearer token)."""

from __future__ import annotations

import pytest
from review_helpers import Runner, asking_flow
from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


def test_questions_lists_the_waiting_ones_with_their_run(
    script: TestClient, run_flow: Runner
) -> None:
    run_flow("owls", audience="editors")
    run_flow("bats", flow=asking_flow, draft="Bats")
    questions = script.get("/api/questions").json()["questions"]
    assert [q["run_id"] for q in questions] == ["bats", "owls"]
    owls = questions[1]
    assert owls["content"] == "Owls hunt at night.\nThey sleep by day."
    assert (owls["flow"], owls["audience"], owls["status"], owls["steps"]) == (
        "AsyncFlow(start=Draft)", "editors", "waiting", 1,
    )  # fmt: skip
    only = script.get("/api/questions", params={"audience": "editors"}).json()["questions"]
    assert [q["run_id"] for q in only] == ["owls"]


def test_answer_records_the_verdict_and_a_second_answer_is_a_conflict(
    script: TestClient, run_flow: Runner
) -> None:
    run_flow("owls")
    first = script.post("/api/questions/owls/answer", json={"decision": "deny", "comment": "more"})
    assert first.status_code == 200
    assert (first.json()["question"]["decision"], first.json()["question"]["comment"]) == (
        "deny", "more",
    )  # fmt: skip
    second = script.post("/api/questions/owls/answer", json={"decision": "approve"})
    assert second.status_code == 409
    assert "has no question waiting" in second.json()["error"]
    answered = script.get("/api/questions", params={"status": "answered"}).json()["questions"]
    assert [(q["run_id"], q["decision"]) for q in answered] == [("owls", "deny")]


@pytest.mark.parametrize(
    ("run_id", "body", "status", "says"),
    [
        ("nobody", {"decision": "approve"}, 404, "No run 'nobody'"),
        ("owls", {"decision": "maybe"}, 400, "answer approve or deny"),
        ("owls", ["approve"], 400, "must be a JSON object"),
        ("owls", {"decision": "approve", "key": "old"}, 409, "now waits on another question"),
    ],
)
def test_a_bad_answer_says_what_was_wrong(
    script: TestClient, run_flow: Runner, run_id: str, body: object, status: int, says: str
) -> None:
    run_flow("owls")
    response = script.post(f"/api/questions/{run_id}/answer", json=body)
    assert response.status_code == status
    assert says in response.json()["error"]


def test_a_bad_status_filter_is_refused(script: TestClient) -> None:
    response = script.get("/api/questions", params={"status": "pending"})
    assert response.status_code == 400
    assert "waiting, answered, expired or all" in response.json()["error"]
