"""pocketflow-anthropic."""
