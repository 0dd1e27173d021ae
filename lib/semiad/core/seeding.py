"""One place that seeds every random number generator the experiments touch."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global RNG and torch; return a fresh Generator.

    Library code never draws from global RNGs: splits and samplers take the returned
    ``np.random.Generator`` (or one derived from it) explicitly. Global seeding is a safety net
    for third-party code (e.g. scikit-learn estimators given ``random_state=None``).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


def torch_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A dedicated torch Generator for mini-batch shuffling (independent of global state)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


@contextmanager
def local_seed(seed: int) -> Iterator[np.random.Generator]:
    """Seed everything for a block, then restore the caller's global RNG states.

    Models seed themselves inside ``fit`` (for reproducibility) without the side effect of
    resetting the global ``random`` / NumPy / torch generators of the code that called them.
    """
    py_state, np_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield seed_everything(seed)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
