"""PocketFlow Pluggable: a small, fast async node/flow engine for LLM applications.

A drop-in superset of PocketFlow: build nodes with prep/exec/post (or their ``_async``
forms), connect them with ``a >> b`` and ``a - "action" >> b``, and run them in a
``Flow`` or ``AsyncFlow``. Inside nodes, await the facades ``call_llm_async``,
``read_file_async`` and ``gather_user_feedback``: plugins provide the vendors behind
them, chosen by configuration (``POCKETFLOW_LLM``, ``pocketflow.toml``).
"""

from pocketflow.calls import UsageTally, process_usage, track_usage
from pocketflow.embeddings import Embeddings, embed, embed_async
from pocketflow.errors import FlowError, MaxStepsExceeded, PocketFlowError
from pocketflow.feedback import gather_user_feedback, gather_user_feedback_sync, request_feedback
from pocketflow.files import read_file, read_file_async
from pocketflow.flows import (
    AsyncBatchFlow,
    AsyncFlow,
    AsyncParallelBatchFlow,
    BatchFlow,
    Flow,
)
from pocketflow.hookspecs import hookimpl
from pocketflow.llm import (
    LLMStream,
    call_llm,
    call_llm_async,
    complete,
    complete_async,
    stream_llm_async,
)
from pocketflow.nodes import (
    AsyncBatchNode,
    AsyncNode,
    AsyncParallelBatchNode,
    BaseNode,
    BatchNode,
    Node,
)
from pocketflow.providers import Feedback, LLMRequest, LLMResponse, Message, Usage
from pocketflow.runtime import aclose

__all__ = [
    "AsyncBatchFlow",
    "AsyncBatchNode",
    "AsyncFlow",
    "AsyncNode",
    "AsyncParallelBatchFlow",
    "AsyncParallelBatchNode",
    "BaseNode",
    "BatchFlow",
    "BatchNode",
    "Embeddings",
    "Feedback",
    "Flow",
    "FlowError",
    "LLMRequest",
    "LLMResponse",
    "LLMStream",
    "MaxStepsExceeded",
    "Message",
    "Node",
    "PocketFlowError",
    "Usage",
    "UsageTally",
    "aclose",
    "call_llm",
    "call_llm_async",
    "complete",
    "complete_async",
    "embed",
    "embed_async",
    "gather_user_feedback",
    "gather_user_feedback_sync",
    "hookimpl",
    "process_usage",
    "read_file",
    "read_file_async",
    "request_feedback",
    "stream_llm_async",
    "track_usage",
]
