"""Run profiles. A profile changes sizes (seeds, epochs, subsets), never code paths.

* ``smoke`` — seconds; tiny data; used by the test-suite to execute every notebook.
* ``quick`` — minutes on 2 CPU cores, real data, reduced where the notebook says so.
* ``paper`` — the paper's full protocol (meant for a GPU machine where it helps).
"""

from __future__ import annotations

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    return profile
