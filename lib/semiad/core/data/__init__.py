"""semiad.core.data."""
