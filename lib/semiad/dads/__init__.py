"""semiad.dads."""
