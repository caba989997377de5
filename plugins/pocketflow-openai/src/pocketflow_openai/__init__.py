"""pocketflow-openai."""
