"""The engine reports node steps to pocketflow.observers while it is active."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncNode, Flow, Node, observers


class Named(Node):
    def __init__(self, name: str, action: str | None = None) -> None:
        super().__init__()
        self.name, self.action = name, action

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return self.action


class Broken(AsyncNode):
    name = "broken"

    async def exec_async(self, prep_res: Any) -> Any:
        raise ValueError("boom")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Turns the observers on and records what they are told (monkeypatch restores)."""
    recorded: list[tuple[Any, ...]] = []

    def started(node: Any, shared: Any) -> None:
        recorded.append(("started", node.name, shared))

    def finished(node: Any, shared: Any, action: Any, error: BaseException | None) -> None:
        recorded.append(("finished", node.name, action, repr(error)))

    monkeypatch.setattr(observers, "active", True)
    monkeypatch.setattr(observers, "node_started", started)
    monkeypatch.setattr(observers, "node_finished", finished)
    # Flow events are not recorded here (test_observer_hooks covers them); stubbing them
    # keeps the first one from loading the plugins, which would turn observing off.
    monkeypatch.setattr(observers, "flow_started", lambda *args: None)
    monkeypatch.setattr(observers, "flow_finished", lambda *args: None)
    return recorded


def test_each_step_is_reported_before_and_after_with_its_action(
    events: list[tuple[Any, ...]],
) -> None:
    first = Named("a", "next")
    first - "next" >> Named("b")
    shared = {"id": 1}
    Flow(start=first).run(shared)
    assert events == [
        ("started", "a", shared),
        ("finished", "a", "next", "None"),
        ("started", "b", shared),
        ("finished", "b", None, "None"),
    ]


def test_a_failing_step_is_reported_with_its_error_and_the_error_propagates(
    events: list[tuple[Any, ...]],
) -> None:
    first = Named("a")
    first >> Broken()
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(AsyncFlow(start=first).run_async({}))
    assert events[-2:] == [
        ("started", "broken", {}),
        ("finished", "broken", None, "ValueError('boom')"),
    ]


def test_nothing_is_reported_while_inactive(
    events: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observers, "active", False)
    Flow(start=Named("a")).run({})
    assert events == []
