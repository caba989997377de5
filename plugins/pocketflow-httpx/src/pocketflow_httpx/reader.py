"""The ``http`` reader: text over http and https on one pooled httpx client per event loop.

The body is streamed and the size limit enforced as it arrives; redirects are
followed here (not inside httpx) so that a loop can be named hop by hop. Every
failure is a :class:`~pocketflow.errors.FileReadError` naming the URL and the reason.
The reader never retries: a caller that wants retries wraps the call.
"""

from __future__ import annotations

import asyncio
import codecs
from typing import NoReturn

import httpx

from pocketflow.errors import FileReadError
from pocketflow.providers import ComponentSettings, FileReader, PerLoop
from pocketflow_httpx import addresses
from pocketflow_httpx.content import ALLOWED, decode_body, decode_strict, is_text, media_type
from pocketflow_httpx.options import TABLE, ReaderOptions
from pocketflow_httpx.pinning import checked_transport

_DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpReader(FileReader):
    """Reads ``http://`` and ``https://`` URLs as text (see :mod:`pocketflow_httpx`)."""

    def __init__(self, settings: ComponentSettings) -> None:
        super().__init__(settings)
        self.options = ReaderOptions.from_settings(settings)
        self._clients: PerLoop[httpx.AsyncClient] = PerLoop(self._new_client)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=checked_transport(self.options.allowed_networks),
            timeout=httpx.Timeout(self.options.timeout),
            follow_redirects=False,  # followed in _fetch: to name loops, check each hop
        )

    async def read(self, location: str, *, encoding: str | None = None) -> str:
        """The text at the URL ``location``; ``encoding`` overrides the server's charset."""
        shown = _without_password(location)
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise FileReadError(
                    shown,
                    f"{encoding!r} is not an encoding Python knows. Pass a known one, e.g. "
                    f'encoding="utf-8" or "latin-1", or leave it out to use the server\'s charset.',
                ) from None
        client = self._clients.get()
        timeout = self.options.timeout
        try:
            async with asyncio.timeout(timeout):
                return await self._fetch(client, location, shown, encoding)
        except TimeoutError as error:
            raise FileReadError(
                shown,
                f"no complete answer within {timeout:g} s. Raise timeout under {TABLE} "
                "in pocketflow.toml if the server is slow.",
            ) from error
        except httpx.TimeoutException as error:
            raise FileReadError(
                shown,
                f"timed out after {timeout:g} s ({_timeout_phase(error)}). Raise timeout "
                f"under {TABLE} in pocketflow.toml if the server is slow.",
            ) from error
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise FileReadError(
                shown, f"not a URL that can be fetched: {_reason(error)}."
            ) from error
        except httpx.TransportError as error:
            raise FileReadError(
                shown,
                f"the connection failed: {_reason(error)}. Check the URL, the network "
                "and any proxy settings.",
            ) from error
        except httpx.HTTPError as error:
            raise FileReadError(
                shown, f"the response could not be read: {_reason(error)}."
            ) from error

    async def _fetch(
        self, client: httpx.AsyncClient, url: str, shown: str, encoding: str | None
    ) -> str:
        """GET ``url``, following up to ``max_redirects`` redirects, and read the body."""
        visited = [_without_password(url)]
        request = client.build_request("GET", url, headers=dict(self.options.headers))
        origin = _origin(request.url)
        while True:
            await self._check_address(request.url, shown)
            try:
                response = await client.send(request, stream=True)
            except addresses.ForbiddenAddress as refused:  # the answer changed since the check
                raise _forbidden(refused, request.url, shown) from None
            try:
                follow = response.next_request
                if follow is None:
                    return await self._text(response, shown, encoding)
                target = _without_password(str(follow.url))
                self._check_redirect(shown, visited, target)
                visited.append(target)
                if _origin(follow.url) != origin:  # configured headers stay with their origin
                    for name in self.options.headers:
                        follow.headers.pop(name, None)
                request = follow
            finally:
                await response.aclose()

    async def _check_address(self, url: httpx.URL, shown: str) -> None:
        """Refuse ``url`` if its host is, or resolves to, an internal address."""
        try:
            port = url.port or _DEFAULT_PORTS[url.scheme]
            await addresses.checked_addresses(url.host, port, self.options.allowed_networks)
        except addresses.ForbiddenAddress as refused:
            raise _forbidden(refused, url, shown) from None
        except OSError as error:
            raise FileReadError(
                shown,
                f"the host {url.host} could not be resolved ({error}). Check the URL and "
                "the network.",
            ) from error

    def _check_redirect(self, shown: str, visited: list[str], target: str) -> None:
        limit = self.options.max_redirects
        chain = " -> ".join([*visited, target])
        if target in visited:
            raise FileReadError(
                shown,
                f"redirect loop: {chain}. The server sends the request back to a URL it "
                "already redirected from; the URL (or the server's configuration) is wrong.",
            )
        if len(visited) > limit:
            raise FileReadError(
                shown,
                f"more than {limit} redirects ({chain}). Read the final URL directly, or raise "
                f"max_redirects under {TABLE} in pocketflow.toml.",
            )

    async def _text(self, response: httpx.Response, shown: str, encoding: str | None) -> str:
        """The body of a final response as text, after checking status, type and size."""
        url = _without_password(str(response.url))
        where = "" if url == shown else f" (redirected to {url})"
        if not response.is_success:
            raise FileReadError(
                shown,
                f"the server answered HTTP {response.status_code} {response.reason_phrase}"
                f"{where}. {_status_hint(response.status_code)}",
            )
        content_type = response.headers.get("content-type")
        if not is_text(content_type):
            raise FileReadError(
                shown,
                f"the server sent {media_type(content_type)} content{where}, which is not "
                f"text. This reader reads text only: {ALLOWED}.",
            )
        body = await self._body(response, shown)
        if encoding is None:
            return decode_body(body, response.charset_encoding, response.encoding)
        try:
            return decode_strict(body, encoding)
        except UnicodeDecodeError as error:
            bad = body[error.start : max(error.end, error.start + 1)].hex(" ")
            raise FileReadError(
                shown,
                f"the body is not valid {encoding}: byte offset {error.start} holds {bad} "
                f"({error.reason}). Pass the right encoding= or leave it out to use the "
                "server's charset.",
            ) from error

    async def _body(self, response: httpx.Response, shown: str) -> bytes:
        """The body, streamed, refused as soon as it is known to exceed ``max_bytes``."""
        limit = self.options.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            _too_big(shown, f"the server announced {declared} bytes (Content-Length)", limit)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                _too_big(shown, f"the body ran past {limit} bytes", limit)
        return bytes(body)

    async def aclose(self) -> None:
        """Close this event loop's client and its connection pool."""
        await self._clients.aclose(httpx.AsyncClient.aclose)


def _too_big(shown: str, what: str, limit: int) -> NoReturn:
    raise FileReadError(
        shown,
        f"{what}, over the size limit of {limit} bytes. Raise the limit with max_bytes under "
        f"{TABLE} in pocketflow.toml (e.g. max_bytes = {limit * 2}).",
    )


def _status_hint(status: int) -> str:
    if status in (401, 403, 407):
        return f"The server wants credentials: send them with headers under {TABLE}."
    if status in (404, 410):
        return "Check the URL."
    if status == 429:
        return "The server is rate limiting; try again later."
    if status >= 500:
        return "The server failed; try again later."
    return "The server refused the request."


def _timeout_phase(error: httpx.TimeoutException) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return "while connecting"
    if isinstance(error, httpx.ReadTimeout):
        return "waiting for the server's answer"
    if isinstance(error, httpx.WriteTimeout):
        return "sending the request"
    return "waiting for a free connection"


def _forbidden(refused: addresses.ForbiddenAddress, url: httpx.URL, shown: str) -> FileReadError:
    target = _without_password(str(url))
    where = "it" if target == shown else f"the redirect to {target}"
    via = "" if refused.literal else f" ({refused.host} resolves to {refused.address})"
    article = "an" if refused.kind[0] in "aeiou" else "a"
    return FileReadError(
        shown,
        f"{where} leads to {article} {refused.kind} address{via}, which is not fetched by "
        "default: it could reach this machine, the local network or the cloud metadata "
        f"service. To read from it on purpose, list it under {TABLE} in pocketflow.toml: "
        f'allowed_networks = ["{refused.address}"].',
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port filled in): what a header may not leave."""
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme))


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _without_password(url: str) -> str:
    """``url`` with any password in it hidden, for messages."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return url
    if not parsed.password:
        return url
    return str(parsed.copy_with(password="***"))
