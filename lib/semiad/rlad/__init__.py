"""semiad.rlad."""
