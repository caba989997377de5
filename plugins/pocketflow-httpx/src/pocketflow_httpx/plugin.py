"""Plugin entry point (hook implementations)."""
