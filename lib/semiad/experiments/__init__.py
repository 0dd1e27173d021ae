"""Experiments as pure functions of a config: cache, parallel grid and per-paper grids."""

from semiad.experiments.cache import ResultCache, config_hash
from semiad.experiments.grid import cell_task, run_cell, run_grid

__all__ = ["ResultCache", "cell_task", "config_hash", "run_cell", "run_grid"]
