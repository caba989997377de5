"""pocketflow-openai: the ``openai`` and ``azure`` LLM providers for PocketFlow Pluggable.

``openai`` speaks the Chat Completions API of OpenAI and of every OpenAI-compatible
server (DeepSeek, Groq, Together, vLLM, Ollama, LM Studio, ...): name one in
``pocketflow.toml`` as ``[providers.<name>]`` with ``kind = "openai"`` and a
``base_url``. ``azure`` speaks Azure OpenAI deployments. Both run on the official
``openai`` SDK, which is imported only when a provider makes its first call.
"""
