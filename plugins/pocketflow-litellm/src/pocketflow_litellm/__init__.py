"""pocketflow-litellm: the ``litellm`` bridge provider for PocketFlow Pluggable.

``litellm:<litellm model>`` hands a request to LiteLLM (``litellm.acompletion``,
``litellm.aembedding``), which reaches about a hundred vendors: Bedrock, Vertex,
Mistral, Cohere, Groq, ... (``litellm:bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0``,
``litellm:mistral/mistral-large-latest``). LiteLLM's own retries are off, so the core's
call policy is the only one. ``import litellm`` takes seconds, so it is imported on a
background thread when the provider is first made, never by ``import pocketflow``.
"""

PROVIDER_NAME = "litellm"
