"""The ``auto`` feedback provider: scripted verdicts for unattended runs.

``auto`` approves everything; ``auto:deny`` denies everything; ``auto:deny,approve``
denies once, then approves (the last verdict repeats). ``decisions = [...]`` under
``[feedback_providers.auto]`` sets the sequence in pocketflow.toml.
"""

from __future__ import annotations

from pocketflow.errors import ConfigError
from pocketflow.providers import ComponentSettings, Feedback, FeedbackProvider

DECISIONS = ("approve", "deny")


class AutoFeedback(FeedbackProvider):
    """Answers from a fixed sequence of verdicts, never asking anyone."""

    settings_types: dict[str, type | tuple[type, ...]] = {"decisions": list}

    def __init__(self, settings: ComponentSettings) -> None:
        super().__init__(settings)
        if settings.argument:
            sequence = [part.strip() for part in settings.argument.split(",")]
        else:
            sequence = list(settings.options.get("decisions", ["approve"]))
        for decision in sequence:
            if decision not in DECISIONS:
                raise ConfigError(
                    f"auto feedback: {decision!r} is not a verdict; use approve or deny, "
                    f"e.g. POCKETFLOW_FEEDBACK=auto:deny,approve."
                )
        self.sequence = sequence or ["approve"]
        self.turn = 0

    async def review(self, content: str) -> Feedback:
        """The next verdict in the sequence."""
        decision = self.sequence[min(self.turn, len(self.sequence) - 1)]
        self.turn += 1
        return Feedback(decision, self.settings.name, comment=f"auto: scripted {decision}")
