"""pocketflow-aiofiles."""
