"""The ``inbox`` feedback provider: the question waits in the run store for a person.

Inside a durable run, a question nobody has answered yet stops the run: the runner
stores it (with the content shown, who may answer, when it expires) and the caller
gets :class:`~pocketflow.errors.FlowSuspended` with the command that answers it. The
answer (``pocketflow runs answer``, :func:`pocketflow.runs.answer`, or the review page)
is journaled where this call will find it, so the resumed step replays it.
"""

from __future__ import annotations

from pocketflow.durability import Suspend, current_calls
from pocketflow.errors import FeedbackError
from pocketflow.providers import ComponentSettings, Feedback, FeedbackProvider, FeedbackRequest


class InboxFeedback(FeedbackProvider):
    """Stops a durable run until a person answers; ``[feedback_providers.inbox]``
    ``audience`` sets who may answer when the call does not say."""

    settings_types = {"audience": str}

    def __init__(self, settings: ComponentSettings) -> None:
        super().__init__(settings)
        audience = settings.options.get("audience")
        self.audience = audience if isinstance(audience, str) else settings.argument

    async def review(self, content: str) -> Feedback:
        """Ask about ``content`` with no audience or deadline."""
        return await self.ask(FeedbackRequest(content))

    async def ask(self, request: FeedbackRequest) -> Feedback:
        """Stop the run with the question (an answered one never reaches here)."""
        if current_calls.get() is None:
            raise FeedbackError(
                "The inbox feedback provider keeps its question in a durable run's store, "
                "and this flow is not running durably: run it with a run id "
                '(await flow.run_async(shared, run_id="doc-42")), or choose a provider that '
                "answers at once (POCKETFLOW_FEEDBACK=console or auto)."
            )
        raise Suspend(
            request.content,
            audience=request.audience or self.audience,
            expires_in=request.expires_in,
            default=request.default,
        )
