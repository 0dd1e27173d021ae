"""Experiments as pure functions of a config: cache, parallel grid and per-paper grids."""

from semiad.experiments.cache import ResultCache, config_hash
from semiad.experiments.grid import TASKS, register_task, run_cell, run_grid

__all__ = ["TASKS", "ResultCache", "config_hash", "register_task", "run_cell", "run_grid"]
