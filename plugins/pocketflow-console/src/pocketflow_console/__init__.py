"""pocketflow-console: the ``console`` feedback provider, a person answering in the terminal.

Installing the package registers the provider (entry point ``console`` in the
``pocketflow`` group); it is the default for ``gather_user_feedback``. Settings live
under ``[feedback_providers.console]`` in pocketflow.toml: see the README.
"""
