"""The feedback facade: ``gather_user_feedback(content)`` and the richer
``request_feedback(content)``.

The provider is chosen by argument, else ``POCKETFLOW_FEEDBACK``, else ``feedback``
in the config file, else ``console``. A choice may carry an argument after a colon:
``auto:deny``, ``auto:deny,approve``.
"""

from __future__ import annotations

from pocketflow.durability import journaled
from pocketflow.providers import Feedback
from pocketflow.runtime import current_runtime
from pocketflow.sync import run_sync


@journaled("feedback")
async def request_feedback(content: str, *, provider: str | None = None) -> Feedback:
    """Ask the feedback provider to judge ``content``; the verdict with its comment."""
    return await current_runtime().feedback(provider).review(content)


async def gather_user_feedback(content: str, *, provider: str | None = None) -> str:
    """Ask for a verdict on ``content``: "approve" or "deny".

    A provider may document more verdicts; :func:`request_feedback` also gives its comment.
    """
    feedback = await request_feedback(content, provider=provider)
    return feedback.decision


def gather_user_feedback_sync(content: str, *, provider: str | None = None) -> str:
    """Sync twin of :func:`gather_user_feedback`."""
    return run_sync(gather_user_feedback(content, provider=provider))
