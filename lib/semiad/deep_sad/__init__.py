"""semiad.deep_sad."""
