"""uvicorn's logging for ``pocketflow serve``: the token never reaches a log line.

A browser brings the token once, in ``/?token=...``; uvicorn's access log would print
that address. The filter here rewrites every record's text (and the access line's path)
so the token's value reads ``[redacted]``, whatever logger wrote it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_TOKEN_PARAMETER = re.compile(r"([?&]token=)[^&\s\"']*")
REDACTED = "[redacted]"


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with the value of any ``token=`` parameter (and ``secret``) redacted."""
    text = _TOKEN_PARAMETER.sub(lambda match: match.group(1) + REDACTED, text)
    return text.replace(secret, REDACTED) if secret else text


class RedactToken(logging.Filter):
    """Removes the token from a record before any handler writes it."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        if isinstance(record.args, tuple) and record.args:
            # uvicorn's access formatter unpacks (client, method, path, version, status).
            record.args = tuple(
                redact(arg, self.secret) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, self.secret)
        return True


def log_config(secret: str) -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`RedactToken` on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_token"] = {"()": RedactToken, "secret": secret}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_token")
    return config
