"""semiad.core."""
