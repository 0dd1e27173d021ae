"""semiad.uainets."""
