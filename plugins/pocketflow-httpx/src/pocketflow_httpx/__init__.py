"""pocketflow-httpx: the ``http`` file reader for ``http://`` and ``https://`` URLs.

Installing the package registers the reader (entry point ``httpx`` in the
``pocketflow`` group); ``read_file_async("https://example.org/notes.txt")`` then
fetches through it. Settings live under ``[readers.http]`` in pocketflow.toml.
"""
