"""Who may use the review page: the token, the cookie it is exchanged for, and CSRF.

Every request needs the token. A browser brings it once, in the URL that ``pocketflow
serve`` prints (``/?token=...``, as Jupyter does): the gate answers with a redirect to
the same page without it and an HttpOnly, SameSite=Strict cookie, so the token leaves
the address bar and the history. Scripts send it as ``Authorization: Bearer TOKEN``.
The cookie holds a value derived from the token, never the token itself. A form that
changes state carries a CSRF value derived from the token too; a browser's cross-site
POST is refused before it reaches a handler.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "pocketflow_web"
"""The session cookie's name, before the port: two servers on one host keep their own."""
ENV_TOKEN = "POCKETFLOW_WEB_TOKEN"
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]  # fmt: skip
Via = Literal["cookie", "bearer"]


class Keys:
    """The values derived from the token: the session cookie's and the forms' CSRF value."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError(f"The review page's token is empty: set {ENV_TOKEN} or unset it.")
        self._token = token.encode()
        self.session = self._derive("session")
        self.csrf = self._derive("csrf")

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._token, purpose.encode(), hashlib.sha256).hexdigest()

    def is_token(self, candidate: str) -> bool:
        """True when ``candidate`` is the token (compared in constant time)."""
        return hmac.compare_digest(candidate.encode(), self._token)

    def is_session(self, candidate: str) -> bool:
        """True when ``candidate`` is the session cookie's value."""
        return hmac.compare_digest(candidate.encode(), self.session.encode())

    def is_csrf(self, candidate: str) -> bool:
        """True when ``candidate`` is the forms' CSRF value."""
        return hmac.compare_digest(candidate.encode(), self.csrf.encode())


def cookie_name(request: Request) -> str:
    """``pocketflow_web_PORT``: cookies are shared by every port of a host."""
    return f"{COOKIE}_{request.url.port or 80}"


def via(request: Request) -> Via:
    """How the gate let ``request`` in."""
    how: Via = request.scope["pocketflow_web_via"]
    return how


class TokenGate:
    """ASGI middleware: lets in requests with the token, the cookie or the bearer header."""

    def __init__(self, app: ASGIApp, keys: Keys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        request = Request(scope)
        response = self._check(request, scope)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, request: Request, scope: Scope) -> Response | None:
        is_api = request.url.path.startswith("/api/")
        query = parse_qsl(request.url.query, keep_blank_values=True)
        given = [value for name, value in query if name == "token"]
        if given:
            if request.method != "GET" or not self.keys.is_token(given[-1]):
                return _refused(is_api, "The token in the address is wrong.")
            rest = urlencode([(name, value) for name, value in query if name != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(
                cookie_name(request), self.keys.session, httponly=True, samesite="strict", path="/"
            )
            return response
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if not self.keys.is_token(credentials.strip()):
                return _refused(is_api, "The bearer token is wrong.")
            scope["pocketflow_web_via"] = "bearer"
            return None
        if not is_api and self.keys.is_session(request.cookies.get(cookie_name(request), "")):
            if request.method != "GET" and request.headers.get("sec-fetch-site") == "cross-site":
                return _forbidden("A page of another site may not change anything here.")
            scope["pocketflow_web_via"] = "cookie"
            return None
        if is_api:
            return _refused(True, "Send the token as a header: Authorization: Bearer TOKEN.")
        return _refused(False, "")


def _refused(is_api: bool, reason: str) -> Response:
    how = (
        "Open the address that `pocketflow serve` printed (it ends in ?token=...), or add "
        f"?token=TOKEN to this address with the token from {ENV_TOKEN}."
    )
    if is_api:
        return JSONResponse({"error": f"{reason} {how}".strip()}, status_code=401)
    from pocketflow_web.pages import message_page

    return message_page("Token needed", f"{reason} {how}".strip(), 401)


def _forbidden(reason: str) -> Response:
    from pocketflow_web.pages import message_page

    return message_page("Refused", reason, 403)


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return sending
