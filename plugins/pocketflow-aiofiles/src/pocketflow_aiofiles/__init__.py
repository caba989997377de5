"""pocketflow-aiofiles: the ``aiofiles`` file reader for local paths and ``file://`` URLs.

Installing the package registers the reader (entry point ``aiofiles`` in the
``pocketflow`` group); ``read_file_async("notes.txt")`` then reads through it.
Settings live under ``[readers.aiofiles]`` in pocketflow.toml: see the README.
"""
