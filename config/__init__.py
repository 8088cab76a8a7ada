"""Process configuration: one settings object, and the Temporal connection built from it."""
