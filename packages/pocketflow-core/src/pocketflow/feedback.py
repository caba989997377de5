"""The feedback facade: ``gather_user_feedback(content)`` and the richer
``request_feedback(content)``.

The provider is chosen by argument, else ``POCKETFLOW_FEEDBACK``, else ``feedback``
in the config file, else ``console``. A choice may carry an argument after a colon:
``auto:deny``, ``auto:deny,approve``.
"""

from __future__ import annotations

from datetime import timedelta

from pocketflow.durability import journaled
from pocketflow.providers import Feedback, FeedbackRequest
from pocketflow.runtime import DEFAULT_FEEDBACK, current_runtime
from pocketflow.sync import run_sync


@journaled("feedback")
async def request_feedback(
    content: str,
    *,
    provider: str | None = None,
    audience: str | None = None,
    expires_in: float | timedelta | None = None,
    default: str | None = None,
) -> Feedback:
    """Ask the feedback provider to judge ``content``; the verdict with its comment.

    ``audience`` (who may answer), ``expires_in`` and ``default`` (what counts as the
    answer when nobody answers in time) are for providers that wait for a person, such
    as ``inbox``; providers that answer at once ignore them.
    """
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    if seconds is not None and (seconds <= 0 or default is None):
        raise ValueError(
            "expires_in needs a positive duration and a default= verdict to apply when it "
            f'passes, e.g. expires_in=timedelta(hours=24), default="deny"; got {expires_in!r} '
            f"and default={default!r}."
        )
    request = FeedbackRequest(content, audience, seconds, default)
    runtime = current_runtime()
    chosen = runtime.feedback(provider)
    if not runtime.observes_calls:
        return await chosen.ask(request)
    name = (provider or runtime.config.feedback or DEFAULT_FEEDBACK).partition(":")[0]
    hook = runtime.plugins.hooks.hook
    hook.feedback_started(request=request, provider=name)
    try:
        feedback = await chosen.ask(request)
    except BaseException as error:
        hook.feedback_finished(request=request, provider=name, feedback=None, error=error)
        raise
    hook.feedback_finished(request=request, provider=name, feedback=feedback, error=None)
    return feedback


async def gather_user_feedback(
    content: str,
    *,
    provider: str | None = None,
    audience: str | None = None,
    expires_in: float | timedelta | None = None,
    default: str | None = None,
) -> str:
    """Ask for a verdict on ``content``: "approve" or "deny".

    A provider may document more verdicts; :func:`request_feedback` also gives its
    comment, and explains ``audience``, ``expires_in`` and ``default``.
    """
    feedback = await request_feedback(
        content, provider=provider, audience=audience, expires_in=expires_in, default=default
    )
    return feedback.decision


def gather_user_feedback_sync(
    content: str,
    *,
    provider: str | None = None,
    audience: str | None = None,
    expires_in: float | timedelta | None = None,
    default: str | None = None,
) -> str:
    """Sync twin of :func:`gather_user_feedback`."""
    return run_sync(
        gather_user_feedback(
            content, provider=provider, audience=audience, expires_in=expires_in, default=default
        )
    )
