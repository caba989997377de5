"""What a person may type, and what it means."""

from __future__ import annotations

DECISIONS = ("approve", "deny")
APPROVE_WORDS = frozenset({"a", "approve", "y", "yes"})
DENY_WORDS = frozenset({"d", "deny", "n", "no"})
HINT = "Please answer approve (a, y, yes) or deny (d, n, no)."


def parse_decision(answer: str) -> str | None:
    """ "approve" or "deny" for a recognised answer (any case, spaces ignored), else None."""
    word = answer.strip().lower()
    if word in APPROVE_WORDS:
        return "approve"
    if word in DENY_WORDS:
        return "deny"
    return None
