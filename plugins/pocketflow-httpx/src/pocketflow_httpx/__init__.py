"""pocketflow-httpx."""
