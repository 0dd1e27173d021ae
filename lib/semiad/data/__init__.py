"""Data layer: registry, resolution (data dir -> cache -> download -> demo), loaders, splits."""

from semiad.data.demo import DEMO_BANNER
from semiad.data.registry import DatasetSpec, get_spec, list_datasets
from semiad.data.resolve import ChecksumError, DataNotFoundError, resolve_files
from semiad.data.splits import SemiSupervisedSplit, odds_split, semisupervised_counts
from semiad.data.tabular import ODDS_DATASETS, TabularDataset, load_odds

__all__ = ["DEMO_BANNER", "ODDS_DATASETS", "ChecksumError", "DataNotFoundError", "DatasetSpec",
           "SemiSupervisedSplit", "TabularDataset", "get_spec", "list_datasets", "load_odds",
           "odds_split", "resolve_files", "semisupervised_counts"]
