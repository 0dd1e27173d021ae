"""semiad.residual_rl."""
