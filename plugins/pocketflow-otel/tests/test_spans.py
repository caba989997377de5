"""The spans and metrics of a flow run, read back from the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from otel_support import Telemetry

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchNode,
    Flow,
    Node,
    call_llm_async,
    gather_user_feedback,
    read_file_async,
)
from pocketflow.errors import ConfigError
from pocketflow.plugins import get_plugin_manager


class Summarize(AsyncParallelBatchNode):
    async def prep_async(self, shared: dict[str, Any]) -> list[str]:
        return list(shared["docs"])

    async def exec_async(self, doc: str) -> str:
        await asyncio.sleep(0)  # let the items interleave
        return await call_llm_async(f"Summarize: {doc}")

    async def post_async(self, shared: Any, prep_res: Any, exec_res: list[str]) -> str:
        shared["summaries"] = exec_res
        return "check"


class Verify(AsyncNode):
    async def exec_async(self, prep_res: Any) -> str:
        return await call_llm_async("Verify the summaries", system="Be strict.")

    async def post_async(self, shared: Any, prep_res: Any, exec_res: str) -> str:
        return "approve"


class Summaries(AsyncFlow):
    """The nested flow."""


class Pipeline(AsyncFlow):
    """The outer flow."""


def pipeline() -> Pipeline:
    inner = Summaries(start=Summarize())
    inner - "check" >> Verify()
    return Pipeline(start=inner)


def tree(spans: tuple[ReadableSpan, ...]) -> list[Any]:
    """The spans as nested [name, children] lists, children sorted by name."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent else None
        children.setdefault(parent, []).append(span)

    def build(span: ReadableSpan) -> list[Any]:
        assert span.context is not None
        kids = children.get(span.context.span_id, [])
        return [span.name, sorted((build(kid) for kid in kids), key=lambda item: str(item))]

    return [build(root) for root in children[None]]


def by_name(telemetry: Telemetry, name: str) -> list[ReadableSpan]:
    return [s for s in telemetry.spans.get_finished_spans() if s.name == name]


def run_pipeline(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("POCKETFLOW_LLM", "offline:echo")
    shared: dict[str, Any] = {"docs": ["one", "two"]}
    asyncio.run(pipeline().run_async(shared))
    return shared


def test_a_nested_flow_with_a_parallel_batch_is_one_tree_of_spans(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    run_pipeline(pocketflow_env)
    spans = telemetry.spans.get_finished_spans()
    assert tree(spans) == [
        [
            "invoke_workflow Pipeline",
            [
                [
                    "node Summaries",
                    [
                        [
                            "node Summarize",
                            [
                                ["batch_item Summarize[0]", [["chat echo", []]]],
                                ["batch_item Summarize[1]", [["chat echo", []]]],
                            ],
                        ]
                    ],
                ],
                ["node Verify", [["chat echo", []]]],
            ],
        ]
    ]
    assert len({span.context.trace_id for span in spans if span.context}) == 1


def test_each_batch_item_holds_its_own_call(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    run_pipeline(pocketflow_env)
    calls = by_name(telemetry, "chat echo")
    for index in (0, 1):
        (item,) = by_name(telemetry, f"batch_item Summarize[{index}]")
        assert item.context is not None
        assert (item.attributes or {})["pocketflow.batch.index"] == index
        (call,) = [c for c in calls if c.parent and c.parent.span_id == item.context.span_id]
        assert (call.attributes or {})["gen_ai.usage.input_tokens"] == 2  # "Summarize: doc"


def test_the_flow_and_node_spans_carry_their_attributes(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    run_pipeline(pocketflow_env)
    (root,) = by_name(telemetry, "invoke_workflow Pipeline")
    assert root.attributes == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "Pipeline",
    }
    (verify,) = by_name(telemetry, "node Verify")
    assert verify.attributes == {
        "pocketflow.node.path": "Pipeline/Verify",
        "pocketflow.node.action": "approve",
        "pocketflow.node.retries": 0,
    }


def test_an_llm_call_span_follows_the_genai_conventions(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    run_pipeline(pocketflow_env)
    calls = by_name(telemetry, "chat echo")
    verify = next(
        c for c in calls if c.attributes and c.attributes["gen_ai.usage.input_tokens"] == 5
    )
    assert verify.kind is SpanKind.CLIENT
    attributes = dict(verify.attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "offline",
        "gen_ai.request.model": "echo",
        "pocketflow.llm.model": "offline:echo",
        "pocketflow.llm.stream": False,
        "gen_ai.response.model": "echo",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 5,  # the system prompt counts too
        "gen_ai.usage.output_tokens": attributes["gen_ai.usage.output_tokens"],
        "pocketflow.llm.attempts": 1,
    }
    assert isinstance(attributes["gen_ai.usage.output_tokens"], int)
    assert attributes["gen_ai.usage.output_tokens"] > 0


def test_message_contents_are_recorded_only_when_the_user_opts_in(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    run_pipeline(pocketflow_env)
    assert all(
        "gen_ai.input.messages" not in (s.attributes or {}) for s in by_name(telemetry, "chat echo")
    )
    telemetry.spans.clear()
    (tmp_path / "pocketflow.toml").write_text("[otel]\ncapture_content = true\n")
    pocketflow_env.chdir(tmp_path)
    from pocketflow.runtime import reset_runtime

    reset_runtime()
    run_pipeline(pocketflow_env)
    verify = next(
        s
        for s in by_name(telemetry, "chat echo")
        if "strict" in str((s.attributes or {}).get("gen_ai.system_instructions"))
    )
    attributes = verify.attributes or {}
    assert json.loads(str(attributes["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Verify the summaries"}]}
    ]
    assert json.loads(str(attributes["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be strict."}
    ]
    (output,) = json.loads(str(attributes["gen_ai.output.messages"]))
    assert output["role"] == "assistant"
    assert "Verify the summaries" in output["parts"][0]["content"]


def test_a_bad_otel_setting_is_a_clear_error(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    (tmp_path / "pocketflow.toml").write_text('[otel]\ncapture_content = "yes"\n')
    pocketflow_env.chdir(tmp_path)
    from pocketflow.runtime import reset_runtime

    reset_runtime()
    with pytest.raises(ConfigError, match=r"\[otel\] capture_content must be true or false"):
        run_pipeline(pocketflow_env)


def test_a_failing_node_marks_its_span_and_the_flow_span_with_the_error(
    telemetry: Telemetry,
) -> None:
    class Broken(Node):
        def exec(self, prep_res: Any) -> Any:
            raise KeyError("missing")

    with pytest.raises(KeyError):
        Flow(start=Broken()).run({})
    (node,) = by_name(telemetry, "node Broken")
    (flow,) = by_name(telemetry, "invoke_workflow Flow")
    for span in (node, flow):
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})["error.type"] == "KeyError"


def test_a_durable_run_carries_its_run_id(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    asyncio.run(pipeline().run_async({"docs": ["one", "two"]}, run_id="trace-me"))
    (root,) = by_name(telemetry, "invoke_workflow Pipeline")
    assert (root.attributes or {})["pocketflow.run_id"] == "trace-me"
    assert len(by_name(telemetry, "batch_item Summarize[1]")) == 1
    assert len(by_name(telemetry, "chat echo")) == 3


def test_the_genai_metrics_count_tokens_and_time(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch
) -> None:
    run_pipeline(pocketflow_env)
    data = telemetry.metrics.get_metrics_data()
    assert data is not None
    metrics = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    usage = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    by_type = {
        (point.attributes or {})["gen_ai.token.type"]: point
        for point in usage.data.data_points
        if isinstance(point, HistogramDataPoint)
    }
    assert by_type["input"].count == 3
    assert by_type["input"].sum == 2 + 2 + 5
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    points = [p for p in duration.data.data_points if isinstance(p, HistogramDataPoint)]
    assert sum(point.count for point in points) == 3


def test_without_an_sdk_the_plugin_offers_no_hooks(pocketflow_env: pytest.MonkeyPatch) -> None:
    from pocketflow.plugins import reset_plugins

    reset_plugins()
    manager = get_plugin_manager()
    status = next(s for s in manager.statuses if s.name == "otel")
    assert status.ok
    assert not manager.observes_nodes()
    assert not manager.observes_calls()
    reset_plugins()


class SummarizeThenVerify(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> str:
        return await read_file_async(shared["doc_path"])

    async def exec_async(self, text: str) -> str:
        return await call_llm_async(f"Summarize: {text}")

    async def post_async(self, shared: Any, prep_res: str, exec_res: str) -> str:
        return await gather_user_feedback(exec_res)


def test_file_reads_and_feedback_are_spans_of_their_step(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto:approve")
    document = tmp_path / "doc.txt"
    document.write_text("Otters hold hands while they sleep.", encoding="utf-8")
    asyncio.run(AsyncFlow(start=SummarizeThenVerify()).run_async({"doc_path": str(document)}))
    spans = telemetry.spans.get_finished_spans()
    assert tree(spans) == [
        [
            "invoke_workflow AsyncFlow",
            [
                [
                    "node SummarizeThenVerify",
                    [["chat echo", []], ["feedback auto", []], ["read_file aiofiles", []]],
                ]
            ],
        ]
    ]
    (read,) = by_name(telemetry, "read_file aiofiles")
    assert read.attributes == {
        "pocketflow.file.reader": "aiofiles",
        "pocketflow.file.location": str(document),
        "pocketflow.file.chars": 35,
    }
    (feedback,) = by_name(telemetry, "feedback auto")
    assert feedback.attributes == {
        "pocketflow.feedback.provider": "auto",
        "pocketflow.feedback.decision": "approve",
    }


def test_a_url_is_recorded_without_credentials_or_query() -> None:
    from pocketflow_otel.tracing import _shown_location

    shown = _shown_location("https://user:secret@example.org:8443/a/b.txt?token=abc#part")
    assert shown == "https://example.org:8443/a/b.txt"
    assert _shown_location("docs/a.txt") == "docs/a.txt"
