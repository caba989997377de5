"""Spans and metrics from PocketFlow's observer hooks.

Every started event opens a span as a child of the current OpenTelemetry context and
makes it current; its finished event (always in the same task) ends it and restores
the context. Parallel batch items run in their own tasks, each with a copy of the
context, so the spans inside an item are parented under that item.
"""

from __future__ import annotations

import json
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from pocketflow import hookimpl
from pocketflow.calls import EmbeddingCallRecord, EmbeddingCallStart, LLMCallRecord, LLMCallStart
from pocketflow.cost import all_input_tokens
from pocketflow.errors import ConfigError
from pocketflow.files import FileRead
from pocketflow.providers import Feedback, FeedbackRequest, LLMRequest, LLMResponse
from pocketflow_otel import attributes as attr

SCOPE = "pocketflow_otel"


@dataclass(frozen=True, slots=True)
class _Frame:
    """One open span: what opened it, where it sits, and the context to restore."""

    key: object
    span: Span
    token: object
    path: str
    parent: _Frame | None
    started: float = 0.0


_frames: ContextVar[_Frame | None] = ContextVar("pocketflow_otel_frames", default=None)


class FlowTracer:
    """The plugin object: hook implementations that turn PocketFlow events into spans."""

    def __init__(self, tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
        self.tracer = tracer_provider.get_tracer(SCOPE)
        meter = meter_provider.get_meter(SCOPE)
        self.token_usage = meter.create_histogram(
            attr.TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=attr.TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            attr.OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=attr.DURATION_BUCKETS,
        )
        self._capture: dict[int, bool] = {}

    # --- opening and closing spans ------------------------------------------------------

    def _open(
        self,
        key: object,
        name: str,
        path: str,
        attributes: dict[str, AttributeValue],
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> None:
        span = self.tracer.start_span(name, kind=kind, attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span))
        frame = _Frame(key, span, token, path, _frames.get(), time.perf_counter())
        _frames.set(frame)

    def _close(self, key: object, error: BaseException | None) -> _Frame | None:
        frame = _frames.get()
        if frame is None or frame.key is not key:
            return None  # a finish without its start (e.g. a call that failed to begin)
        _frames.set(frame.parent)
        if error is not None:
            frame.span.set_attribute(attr.ERROR_TYPE, _error_type(error))
            frame.span.set_status(Status(StatusCode.ERROR, str(error) or _error_type(error)))
        frame.span.end()
        otel_context.detach(frame.token)  # type: ignore[arg-type]  # attach's own token
        return frame

    @staticmethod
    def _path(name: str) -> str:
        parent = _frames.get()
        return name if parent is None else f"{parent.path}/{name}"

    # --- flows, nodes and batch items ---------------------------------------------------

    @hookimpl
    def flow_started(self, flow: Any, shared: Any, run_id: str | None) -> None:
        """Open the root span of a flow run."""
        name = type(flow).__name__
        attributes: dict[str, AttributeValue] = {
            attr.OPERATION_NAME: "invoke_workflow",
            attr.WORKFLOW_NAME: name,
        }
        if run_id is not None:
            attributes[attr.RUN_ID] = run_id
        self._open(flow, f"invoke_workflow {name}", self._path(name), attributes)

    @hookimpl
    def flow_finished(
        self, flow: Any, shared: Any, action: Any, error: BaseException | None, run_id: str | None
    ) -> None:
        """End the flow run's span."""
        self._close(flow, error)

    @hookimpl
    def node_started(self, node: Any, shared: Any) -> None:
        """Open a span for one node step."""
        name = type(node).__name__
        path = self._path(name)
        self._open(node, f"node {name}", path, {attr.NODE_PATH: path})

    @hookimpl
    def node_finished(
        self, node: Any, shared: Any, action: Any, error: BaseException | None
    ) -> None:
        """End the node step's span, with its action and retries."""
        frame = _frames.get()
        if frame is not None and frame.key is node:
            if action is not None:
                frame.span.set_attribute(attr.NODE_ACTION, str(action))
            retries = getattr(node, "cur_retry", 0)
            if isinstance(retries, int):
                frame.span.set_attribute(attr.NODE_RETRIES, retries)
        self._close(node, error)

    @hookimpl
    def batch_item_started(self, node: Any, index: int, item: Any) -> None:
        """Open a span for one batch item, in the task that runs it."""
        name = f"{type(node).__name__}[{index}]"
        path = self._path(f"[{index}]")
        self._open((node, index), f"batch_item {name}", path, {attr.BATCH_INDEX: index})

    @hookimpl
    def batch_item_finished(
        self, node: Any, index: int, item: Any, result: Any, error: BaseException | None
    ) -> None:
        """End the batch item's span."""
        frame = _frames.get()
        if frame is not None and frame.key == (node, index):
            self._close(frame.key, error)

    # --- LLM calls ----------------------------------------------------------------------

    @hookimpl
    def llm_call_started(self, call: LLMCallStart) -> None:
        """Open a CLIENT span for an LLM call, named ``chat {model}``."""
        request = call.request
        attributes = _operation("chat", call.provider, request.model)
        attributes[attr.LLM_MODEL_ASKED] = call.model
        attributes[attr.LLM_STREAM] = call.stream
        optional = {
            attr.REQUEST_TEMPERATURE: request.temperature,
            attr.REQUEST_MAX_TOKENS: request.max_tokens,
            attr.REQUEST_SEED: request.seed,
            attr.REQUEST_STOP: list(request.stop) if request.stop else None,
        }
        attributes.update({key: value for key, value in optional.items() if value is not None})
        if self._captures_content():
            attributes.update(_input_content(request))
        path = self._path(f"chat {request.model}")
        self._open(call, f"chat {request.model}", path, attributes, SpanKind.CLIENT)

    @hookimpl
    def llm_call_finished(self, record: LLMCallRecord) -> None:
        """End the call's span with the response's attributes; record the metrics."""
        call = record.call
        frame = _call_frame(call)
        if call is None or frame is None:
            return
        span, response = frame.span, record.response
        span.set_attribute(attr.LLM_ATTEMPTS, record.attempts)
        for retry in range(1, record.attempts):
            span.add_event("gen_ai.retry", {"pocketflow.llm.attempt": retry + 1})
        metric_attributes = _operation("chat", call.provider, call.request.model)
        input_tokens = 0
        if response is not None:
            input_tokens = all_input_tokens(_kind(response.provider), response.usage)
            _set_response(span, response, self._captures_content(), input_tokens)
            metric_attributes[attr.RESPONSE_MODEL] = response.model
        if record.error is not None:
            metric_attributes[attr.ERROR_TYPE] = _error_type(record.error)
        self._close(call, record.error)
        self.duration.record(record.duration, metric_attributes)
        if response is not None:
            for token_type, count in (
                ("input", input_tokens),
                ("output", response.usage.output_tokens),
            ):
                self.token_usage.record(count, {**metric_attributes, attr.TOKEN_TYPE: token_type})

    # --- embedding calls ----------------------------------------------------------------

    @hookimpl
    def embedding_call_started(self, call: EmbeddingCallStart) -> None:
        """Open a CLIENT span for an embedding call, named ``embeddings {model}``.

        One span for the call, however many requests its texts were split into.
        """
        request = call.request
        attributes = _operation("embeddings", call.provider, request.model)
        attributes[attr.LLM_MODEL_ASKED] = call.model
        attributes[attr.EMBEDDING_INPUTS] = len(request.texts)
        if request.dimensions is not None:
            attributes[attr.EMBEDDING_DIMENSIONS] = request.dimensions
        name = f"embeddings {request.model}"
        self._open(call, name, self._path(name), attributes, SpanKind.CLIENT)

    @hookimpl
    def embedding_call_finished(self, record: EmbeddingCallRecord) -> None:
        """End the call's span with the model that answered and the tokens; record the
        metrics."""
        call = record.call
        frame = _call_frame(call)
        if call is None or frame is None:
            return
        span, embeddings = frame.span, record.embeddings
        span.set_attribute(attr.LLM_ATTEMPTS, record.attempts)
        metric_attributes = _operation("embeddings", call.provider, call.request.model)
        # A vendor that does not count an embedding's tokens (the Gemini API) reports 0:
        # unknown, so neither the span nor the token histogram gets it.
        tokens = embeddings.usage.input_tokens if embeddings is not None else 0
        if embeddings is not None:
            span.set_attributes(
                {
                    attr.RESPONSE_MODEL: embeddings.model,
                    attr.EMBEDDING_DIMENSIONS: embeddings.dimensions,
                    attr.EMBEDDING_BATCHES: embeddings.batches,
                }
            )
            if tokens:
                span.set_attribute(attr.INPUT_TOKENS, tokens)
            metric_attributes[attr.RESPONSE_MODEL] = embeddings.model
        if record.error is not None:
            metric_attributes[attr.ERROR_TYPE] = _error_type(record.error)
        self._close(call, record.error)
        self.duration.record(record.duration, metric_attributes)
        if tokens:
            self.token_usage.record(tokens, {**metric_attributes, attr.TOKEN_TYPE: "input"})

    # --- file reads and feedback -------------------------------------------------------

    @hookimpl
    def file_read_started(self, read: FileRead) -> None:
        """Open a span for a file read: ``read_file {reader}``."""
        attributes: dict[str, AttributeValue] = {
            attr.FILE_READER: read.reader,
            attr.FILE_LOCATION: _shown_location(read.location),
        }
        name = f"read_file {read.reader}"
        self._open(read, name, self._path(name), attributes)

    @hookimpl
    def file_read_finished(
        self, read: FileRead, text: str | None, error: BaseException | None
    ) -> None:
        """End the read's span, with the characters read."""
        frame = _frames.get()
        if frame is not None and frame.key is read and text is not None:
            frame.span.set_attribute(attr.FILE_CHARS, len(text))
        self._close(read, error)

    @hookimpl
    def feedback_started(self, request: FeedbackRequest, provider: str) -> None:
        """Open a span for a verdict asked of a feedback provider: ``feedback {provider}``."""
        attributes: dict[str, AttributeValue] = {attr.FEEDBACK_PROVIDER: provider}
        if request.audience:
            attributes[attr.FEEDBACK_AUDIENCE] = request.audience
        if self._captures_content():
            attributes[attr.FEEDBACK_CONTENT] = request.content
        name = f"feedback {provider}"
        self._open(request, name, self._path(name), attributes)

    @hookimpl
    def feedback_finished(
        self,
        request: FeedbackRequest,
        provider: str,
        feedback: Feedback | None,
        error: BaseException | None,
    ) -> None:
        """End the feedback span, with the decision."""
        frame = _frames.get()
        if frame is not None and frame.key is request and feedback is not None:
            frame.span.set_attribute(attr.FEEDBACK_DECISION, feedback.decision)
        self._close(request, error)

    def _captures_content(self) -> bool:
        from pocketflow.runtime import current_runtime

        config = current_runtime().config
        known = self._capture.get(id(config))
        if known is None:
            known = self._capture[id(config)] = capture_content(config.otel, config.where)
        return known


def capture_content(table: Any, where: str) -> bool:
    """The ``[otel] capture_content`` setting (default false), checked."""
    for key in table:
        if key != "capture_content":
            raise ConfigError(f"{where}: [otel] has unknown key '{key}'. Known: capture_content.")
    value = table.get("capture_content", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: [otel] capture_content must be true or false, not {value!r}.")
    return value


def _shown_location(location: str) -> str:
    """``location`` without a URL's user info, query or fragment (they may hold secrets)."""
    if "://" not in location:
        return location
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(location)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _operation(operation: str, provider: str, model: str) -> dict[str, AttributeValue]:
    """What every span and metric point of a GenAI call carries."""
    return {
        attr.OPERATION_NAME: operation,
        attr.PROVIDER_NAME: provider,
        attr.REQUEST_MODEL: model,
    }


def _call_frame(call: object) -> _Frame | None:
    """The open span of ``call`` (a call's start record), if it is the current one."""
    frame = _frames.get()
    if call is None or frame is None or frame.key is not call:
        return None  # no observer saw it start (e.g. it failed to begin)
    return frame


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


def _kind(provider: str) -> str:
    """The implementation of the configured provider ``provider`` (``openai`` for deepseek)."""
    from pocketflow.runtime import current_runtime

    kind = current_runtime().config.providers.get(provider, {}).get("kind", provider)
    return str(kind)


def _set_response(span: Span, response: LLMResponse, content: bool, input_tokens: int) -> None:
    usage = response.usage
    span.set_attribute(attr.RESPONSE_MODEL, response.model)
    if response.response_id:
        span.set_attribute(attr.RESPONSE_ID, response.response_id)
    if response.request_id:  # the vendor's id for this request (x-request-id)
        span.set_attribute(attr.REQUEST_ID, response.request_id)
    if response.finish_reason:
        span.set_attribute(attr.FINISH_REASONS, [response.finish_reason])
    # The conventions count cached tokens within the input tokens, as most vendors do.
    span.set_attribute(attr.INPUT_TOKENS, input_tokens)
    span.set_attribute(attr.OUTPUT_TOKENS, usage.output_tokens)
    if usage.cache_read_tokens:
        span.set_attribute(attr.CACHE_READ_TOKENS, usage.cache_read_tokens)
    if usage.cache_write_tokens:
        span.set_attribute(attr.CACHE_WRITE_TOKENS, usage.cache_write_tokens)
    if content:
        message = {
            "role": "assistant",
            "parts": [{"type": "text", "content": response.text}],
            "finish_reason": response.finish_reason or "stop",
        }
        span.set_attribute(attr.OUTPUT_MESSAGES, json.dumps([message]))


def _input_content(request: LLMRequest) -> dict[str, AttributeValue]:
    messages = [
        {"role": m.role, "parts": [{"type": "text", "content": m.content}]}
        for m in request.messages
    ]
    content: dict[str, AttributeValue] = {attr.INPUT_MESSAGES: json.dumps(messages)}
    if request.system:
        content[attr.SYSTEM_INSTRUCTIONS] = json.dumps(
            [{"type": "text", "content": request.system}]
        )
    return content
