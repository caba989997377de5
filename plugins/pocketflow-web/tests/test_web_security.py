"""The review page's safety: the token, the cookie, CSRF, escaping, and the logs."""

from __future__ import annotations

import logging

import pytest
from review_helpers import TOKEN, Runner, asking_flow, csrf_of, key_of
from starlette.testclient import TestClient

from pocketflow.runs.store import RunStore
from pocketflow_web.logs import RedactToken, log_config


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/history"), ("GET", "/questions/a"), ("POST", "/questions/a/answer")],
)
def test_a_page_without_the_token_is_refused_and_says_how_to_get_in(
    anonymous: TestClient, run_flow: Runner, method: str, path: str
) -> None:
    run_flow("a")
    response = anonymous.request(method, path, data={"decision": "approve"})
    assert response.status_code == 401
    assert "?token=" in response.text
    assert "Owls hunt" not in response.text


def test_the_api_without_the_token_is_refused(anonymous: TestClient, run_flow: Runner) -> None:
    run_flow("a")
    listing = anonymous.get("/api/questions")
    answer = anonymous.post("/api/questions/a/answer", json={"decision": "approve"})
    assert (listing.status_code, answer.status_code) == (401, 401)
    assert "Authorization: Bearer TOKEN" in listing.json()["error"]


def test_a_wrong_token_in_the_address_gets_no_cookie(anonymous: TestClient) -> None:
    response = anonymous.get("/?token=guess", follow_redirects=False)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "wrong" in response.text


def test_a_wrong_bearer_token_is_refused(anonymous: TestClient, run_flow: Runner) -> None:
    run_flow("a")
    headers = {"authorization": "Bearer guess"}
    assert anonymous.get("/api/questions", headers=headers).status_code == 401
    answer = anonymous.post("/api/questions/a/answer", json={"decision": "deny"}, headers=headers)
    assert answer.status_code == 401


def test_the_token_becomes_a_strict_httponly_cookie_and_leaves_the_address(
    anonymous: TestClient,
) -> None:
    response = anonymous.get(f"/?token={TOKEN}&flow=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?flow=x"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("pocketflow_web_8421=")  # its own port: another server keeps its
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert anonymous.get("/").status_code == 200


def test_the_cookie_does_not_open_the_api(browser: TestClient) -> None:
    assert browser.get("/api/questions").status_code == 401


def test_a_post_without_the_csrf_value_is_refused_and_records_nothing(
    browser: TestClient, run_flow: Runner, store: RunStore
) -> None:
    run_flow("a")
    key = key_of(browser.get("/questions/a").text)
    response = browser.post("/questions/a/answer", data={"decision": "approve", "key": key})
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = {"decision": "approve", "key": key, "csrf": "0" * 64}
    assert browser.post("/questions/a/answer", data=wrong).status_code == 403
    assert browser.get("/questions/a").text.count('name="decision"') == 2  # still waiting


def test_a_cross_site_post_is_refused_even_with_the_csrf_value(
    browser: TestClient, run_flow: Runner
) -> None:
    run_flow("a")
    page = browser.get("/questions/a").text
    form = {"decision": "approve", "key": key_of(page), "csrf": csrf_of(page)}
    response = browser.post(
        "/questions/a/answer", data=form, headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 403
    assert "another site" in response.text


def test_a_script_in_the_content_is_shown_as_text(browser: TestClient, run_flow: Runner) -> None:
    draft = 'Fine.\n<script>alert("owned")</script>\n<img src=x onerror=alert(1)>'
    run_flow("a", flow=asking_flow, draft=draft)
    for path in ("/", "/questions/a"):
        response = browser.get(path)
        assert "<script>" not in response.text and "<img src=x" not in response.text
        assert "script-src" not in response.headers["content-security-policy"]  # none allowed
    page = browser.get("/questions/a").text
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;\n&lt;img src=x" in page


def test_the_redaction_filter_takes_the_token_out_of_access_and_other_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.review.access")
    logger.addFilter(RedactToken(TOKEN))
    with caplog.at_level(logging.INFO, logger="test.review.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", f"/?token={TOKEN}", "1.1", 303)
        logger.info("asked for /?a=1&token=other-value by %s", "someone")
        logger.info(f"echo {TOKEN}")
    text = caplog.text
    assert TOKEN not in text and "other-value" not in text
    assert '"GET /?token=[redacted] HTTP/1.1" 303' in text
    assert "/?a=1&token=[redacted] by someone" in text


def test_every_uvicorn_handler_redacts() -> None:
    config = log_config(TOKEN)
    assert all("redact_token" in handler["filters"] for handler in config["handlers"].values())
