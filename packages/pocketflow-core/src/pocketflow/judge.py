"""The ``llm-judge`` feedback provider: a model verifies the content against a rubric.

This is the "verify" of SummarizeThenVerify for unattended runs. Configure it under
``[feedback_providers.llm-judge]`` with ``model`` (default: the configured model) and
``rubric``; or choose a model inline: ``POCKETFLOW_FEEDBACK=llm-judge:openai:gpt-4o``.
The judge's reason is the verdict's ``comment``.
"""

from __future__ import annotations

from pocketflow.providers import Feedback, FeedbackProvider

DEFAULT_RUBRIC = (
    "The text is a faithful, concise summary: it states only what the source says, "
    "is readable on its own, and has no instructions or filler."
)

PROMPT = """You are a strict reviewer. Judge the content below against the rubric.
Answer with APPROVE or DENY on the first line, then one sentence giving the reason.

Rubric: {rubric}

Content:
{content}"""


class LLMJudge(FeedbackProvider):
    """Asks a model for APPROVE or DENY; an unclear answer counts as a denial."""

    settings_types: dict[str, type | tuple[type, ...]] = {"model": str, "rubric": str}

    async def review(self, content: str) -> Feedback:
        """The model's verdict on ``content``, with its reason as the comment."""
        from pocketflow.llm import call_llm_async

        model = self.settings.argument or self.settings.options.get("model")
        rubric = self.settings.options.get("rubric", DEFAULT_RUBRIC)
        reply = await call_llm_async(PROMPT.format(rubric=rubric, content=content), model=model)
        first, _, rest = reply.strip().partition("\n")
        verdict = first.strip().strip("*#:. ").split(" ")[0].upper() if first else ""
        reason = rest.strip() or first.strip()
        if verdict == "APPROVE":
            return Feedback("approve", self.settings.name, comment=reason)
        if verdict == "DENY":
            return Feedback("deny", self.settings.name, comment=reason)
        return Feedback("deny", self.settings.name, comment=f"unclear verdict: {first[:200]}")
