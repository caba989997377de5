"""pocketflow-console."""
