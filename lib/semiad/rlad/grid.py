"""RLAD Tables 2 and 3: precision / recall / F1 per method and label budget (issue #7, paper Sec. 6).

Protocol (Sec. 5.1, 6.2-6.4, with our choices stated):

* **Split** (80:20, :func:`semiad.rlad.data.train_test_split_series`; the paper does not say
  along which axis): A1 and KPI are cut in time (``"time"``: first 80 % of every series trains, last
  20 % tests). A2 is split by **series** (``"series"``: 20 % of the series, drawn with the seed, test):
  every A2 anomaly lies between 44 % and 63 % of its series, so a time split leaves A2's test parts
  without a single anomaly. ``split_mode`` overrides this per-benchmark default
  (:data:`DEFAULT_SPLIT`). Each series is min-max scaled with the range of its *training* part (a
  test series of a series split: its own range; the paper scales whole series).
* **Windows**: omega = 25, a window's label is its last point. Test windows lie entirely in the test
  part (the test part "starts fresh"), so a series contributes ``n_test - 24`` test points; every
  method is scored on exactly these points, pooled over all series of the benchmark (``groups``
  keep point-adjust segments inside one series).
* **RLAD** (:class:`semiad.rlad.agent.RLADDetector`) trains on the training windows of all series of a
  benchmark; budget = queried labels / training windows (the 15 warm-up labels per series are
  reported separately as ``labels_warmup``). The paper runs ``N_al`` in {1, 5, 10} queries for ~1000
  episodes; a profile caps the episodes at ``max_episodes`` and raises ``N_al`` to
  ``ceil(queries / max_episodes)`` so that the *budget* stays exact (then every budget gets about
  the same number of DQN steps, ``max_episodes x steps_per_episode``). Prediction = argmax Q.
* **Score baselines** (SR, SR-CNN, autoencoder, Luminol): each series is scored as a whole and the
  threshold is the exact F1-maximising one (:func:`best_f1_threshold`, not Bayesian optimisation),
  one threshold per benchmark chosen on the pooled **training** points' labels and applied to the
  test points (``precision/recall/f1``: honest), and, as the paper-style upper bound, the one
  maximising the F1 on the test points themselves (``*_test_opt``). SR-CNN and the autoencoder
  train one model per series on its training part (under a series split a test series trains on
  itself, without labels: transductive, as the unsupervised methods allow).
* **SPOT / DSPOT**: calibrated on each series' training part (q = 1e-4), then stream its test part.
  Under a series split a test series has no training part: they calibrate on its first
  :data:`SPOT_CALIBRATION` share (predicted normal there) and stream the rest.
* No point-adjust by default (Eqs. 9-11); point-adjusted F1 (``f1_pa`` etc.) is reported as extra
  metrics with the same predictions.
* Unsupervised baselines do not use labels of the budget: their cells carry ``budget=None`` and are
  shared by all budgets (one cell per benchmark and seed).
* **Window detectors** (Deep SAD, DAGMM): one model per benchmark on the pooled training *windows*
  (the same 25-point windows RLAD sees), scored on the test windows; thresholds as the score
  baselines (training-point labels; ``*_test_opt`` on the test points). Deep SAD is semi-supervised:
  at budget b it gets ``round(b x n_train_windows)`` labeled windows -- the same number of labels
  RLAD queries -- split between anomalies and normals by the training windows' anomaly ratio
  (:func:`budget_semi_labels`, at least one labeled anomaly), drawn with the seed. DAGMM (Zong et
  al. 2018, :class:`semiad.core.detectors.dagmm.DAGMM`) is unsupervised (``budget=None``); RLAD gives no
  architecture for it, so it gets a small compression network for 25-dim windows (25-16-8-2, K = 4
  mixture components, Zong et al.'s lambda_1 = 0.1, lambda_2 = 0.005, Adam 1e-4, batch 1024) and
  ``dagmm_steps`` optimiser steps (profile size).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from semiad.core.detectors.protocol import DEFAULT as DEEP_SAD_PROTOCOL
from semiad.core.grid import cell_task, run_grid, tidy_frame
from semiad.core.profiles import check_profile
from semiad.rlad.protocol import DEFAULT as DEFAULT_PROTOCOL
from semiad.rlad.protocol import PAPER_TEXT, RLADProtocol, protocol_named

PAPER = "rlad"
WINDOW = 25
BENCHMARKS: tuple[str, ...] = ("yahoo_a1", "yahoo_a2", "kpi")
BENCHMARK_LABELS = {"yahoo_a1": "A1", "yahoo_a2": "A2", "kpi": "KPI"}
FAMILY = {"yahoo_a1": "yahoo", "yahoo_a2": "yahoo", "kpi": "kpi"}
DEFAULT_SPLIT = {"yahoo_a1": "time", "yahoo_a2": "series", "kpi": "time"}
SPOT_CALIBRATION = 0.3
#: Sec. 6.3 label budgets per family (fractions of the training windows).
PAPER_BUDGETS = {"yahoo": (0.01, 0.05, 0.10), "kpi": (0.0005, 0.001)}
METHOD_LABELS = {"rlad": "RLAD", "spot": "SPOT", "dspot": "DSPOT", "sr": "SR", "srcnn": "SR-CNN",
                 "autoencoder": "Autoencoder", "luminol": "Luminol", "deep_sad": "Deep SAD", "dagmm": "DAGMM"}
SEMI_SUPERVISED = ("rlad", "deep_sad")
SCORE_BASED = ("sr", "srcnn", "autoencoder", "luminol")
#: Detectors trained on the pooled training windows of a benchmark (not per series).
WINDOW_DETECTORS = ("deep_sad", "dagmm")
UNSUPERVISED = ("spot", "dspot", "dagmm") + SCORE_BASED
#: Metrics every cell reports besides the strict pooled P/R/F1 (``semiad.rlad.metrics``, issue #16).
TS_METRICS = ("precision_authors", "recall_authors", "f1_authors", "vus_pr", "range_f1")
#: Baselines of Sec. 6.4 that semiad does not run (listed as "not run" in comparison tables).
NOT_RUN: dict[str, str] = {}

#: The sizes each profile sets (the profile changes sizes, never code paths). Sizes of RLAD's runs: the
#: paper's 1,000 episodes are Sec. 6.3 (KPI: 300, the protocol's ``episodes_kpi`` caps it); everything else
#: is ours, chosen to fit the profile's time (quick: about 40 CPU-minutes of RLAD per table).
#: ``max_series``: the first N series of each benchmark (natural file order); ``max_points``: the first N
#: points of each series (``None``: all). KPI series are long (up to ~150k points): quick runs all 29 KPIs,
#: first 20,000 points of each (the smaller KPIs entirely; 580k points, ~1.5k anomalous points in the test
#: parts). A2 under the series split: 25 series = 20 train + 5 test (quick).
_PROFILES: dict[str, dict] = {
    "smoke": {"seeds": (0,), "budgets": {"yahoo": (0.05,), "kpi": (0.001,)},
              "methods": ("rlad", "spot", "dspot", "sr", "autoencoder", "deep_sad", "dagmm"),
              "sizes": {"yahoo_a1": (3, 1500), "yahoo_a2": (5, 1500), "kpi": (4, 3000)},
              "max_episodes": 4, "steps_per_episode": 16, "warmup_updates": 20, "lp_max_unlabeled": 100,
              "srcnn_epochs": 1, "ae_epochs": 2, "dsad_epochs": 2, "dagmm_steps": 20},
    "quick": {"seeds": (0, 1, 2), "budgets": PAPER_BUDGETS, "methods": tuple(METHOD_LABELS),
              "sizes": {"yahoo_a1": (20, None), "yahoo_a2": (25, None), "kpi": (None, 20_000)},
              "max_episodes": 100, "steps_per_episode": 64, "warmup_updates": 200, "lp_max_unlabeled": 500,
              "srcnn_epochs": 3, "ae_epochs": 20, "dsad_epochs": 15, "dagmm_steps": 3000},
    "paper": {"seeds": (0, 1, 2, 3, 4), "budgets": PAPER_BUDGETS, "methods": tuple(METHOD_LABELS),
              "sizes": {"yahoo_a1": (None, None), "yahoo_a2": (None, None), "kpi": (None, None)},
              "max_episodes": 1000, "steps_per_episode": 64, "warmup_updates": 200, "lp_max_unlabeled": 500,
              "srcnn_epochs": 5, "ae_epochs": 30, "dsad_epochs": 50, "dagmm_steps": 20000},
}


@dataclass(frozen=True)
class RLADGridConfig:
    """The Tables 2-3 grid as one typed value: :meth:`for_profile` builds it, :meth:`cells` turns it into the
    cell configs (whose hashes are the cache keys). Validated once, when built.

    Attributes
    ----------
    profile : ``smoke | quick | paper`` (:data:`_PROFILES` holds each profile's values).
    benchmarks : of :data:`BENCHMARKS` (Table 2: A1 and A2; Table 3: KPI).
    seeds : one run per seed (the paper publishes none).
    budgets : label budgets per family (fractions of the training windows; Sec. 6.3: Yahoo 1 / 5 / 10 %,
        KPI 0.05 / 0.1 %, :data:`PAPER_BUDGETS`). Unsupervised methods ignore them.
    methods : of :data:`METHOD_LABELS` (Sec. 6.4's baselines plus Deep SAD and DAGMM).
    sizes : per benchmark ``(max_series, max_points)`` (``None``: all).
    max_episodes : cap on RLAD's episodes (Sec. 6.3: 1,000 Yahoo / 300 KPI under ``paper``).
    steps_per_episode, warmup_updates, lp_max_unlabeled : RLAD's sizes (:class:`semiad.rlad.agent.RLADArgs`).
    srcnn_epochs, ae_epochs, dsad_epochs, dagmm_steps : training lengths of SR-CNN, the window autoencoder,
        Deep SAD and DAGMM (ours; the paper gives none).
    protocol : RLAD training protocol (:mod:`semiad.rlad.protocol`; default
        :data:`semiad.rlad.protocol.DEFAULT`). It sets RLAD's discount, replay size, query rule and episodes
        and every cell's split; ``None`` = the cell configs as before protocols existed (equal to
        ``paper_text``'s under smoke and quick).
    split_mode : ``"time" | "series"`` for every benchmark, overriding the protocol's split axis
        (``None``: :data:`DEFAULT_SPLIT` under the protocol's rule).
    test_fraction : held-out share (``None``: the protocol's; 0.2 without a protocol, Sec. 6.3).
    data_sources : ``{benchmark: "real" | "demo"}`` each cell must find (default real).
    """

    profile: str
    seeds: tuple[int, ...]
    budgets: Mapping[str, tuple[float, ...]]
    methods: tuple[str, ...]
    sizes: Mapping[str, tuple[int | None, int | None]]
    max_episodes: int
    steps_per_episode: int
    warmup_updates: int
    lp_max_unlabeled: int
    srcnn_epochs: int
    ae_epochs: int
    dsad_epochs: int
    dagmm_steps: int
    benchmarks: tuple[str, ...] = ("yahoo_a1", "yahoo_a2")
    protocol: RLADProtocol | None = DEFAULT_PROTOCOL
    split_mode: str | None = None
    test_fraction: float | None = None
    data_sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        check_profile(self.profile)
        for b in self.benchmarks:
            if b not in BENCHMARKS:
                raise ValueError(f"unknown benchmark {b!r}; choose from {BENCHMARKS}")
        for m in self.methods:
            if m not in METHOD_LABELS:
                raise ValueError(f"unknown method {m!r}; choose from {sorted(METHOD_LABELS)}")
        for fam_budgets in self.budgets.values():
            for b in fam_budgets:
                if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1:
                    raise ValueError(f"budget must be a fraction in (0, 1], got {b!r}")
        if any((not isinstance(s, (int, np.integer))) or s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be non-negative integers, got {self.seeds}")
        if self.split_mode not in (None, "time", "series"):
            raise ValueError(f"split_mode must be 'time' or 'series', got {self.split_mode!r}")
        if not 0 < self.split_fraction < 1:
            raise ValueError(f"test_fraction must lie in (0, 1), got {self.test_fraction}")
        for name in ("max_episodes", "steps_per_episode", "lp_max_unlabeled", "srcnn_epochs", "ae_epochs",
                     "dsad_epochs", "dagmm_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.warmup_updates < 0:
            raise ValueError(f"warmup_updates must be >= 0, got {self.warmup_updates}")
        if any(n is not None and n < 1 for b in self.benchmarks for n in self.sizes[b]):
            raise ValueError(f"max_series / max_points must be >= 1 or None, got {dict(self.sizes)}")

    @classmethod
    def for_profile(cls, profile: str = "quick", *, budgets=None, seeds=None, methods=None,
                    max_series: int | None = -1, max_points: int | None = -1,
                    protocol: str | RLADProtocol | None = DEFAULT_PROTOCOL, **fields_) -> RLADGridConfig:
        """The profile's grid. ``budgets``: one tuple for every family (default: the profile's per family);
        ``seeds`` / ``methods``: default the profile's; ``max_series`` / ``max_points``: one value for every
        benchmark (-1: the profile's, ``None``: all); ``protocol``: a preset name or value; other keywords
        (``benchmarks``, ``split_mode``, ``test_fraction``, ``data_sources``, the sizes) set those fields."""
        values = dict(_PROFILES[check_profile(profile)])
        if budgets is not None:
            values["budgets"] = {family: tuple(budgets) for family in PAPER_BUDGETS}
        if seeds is not None:
            values["seeds"] = tuple(seeds)
        if methods is not None:
            values["methods"] = tuple(methods)
        values["sizes"] = {b: (s if max_series == -1 else max_series, p if max_points == -1 else max_points)
                           for b, (s, p) in values["sizes"].items()}
        values.update(fields_)
        if "benchmarks" in values:
            values["benchmarks"] = tuple(values["benchmarks"])
        return cls(profile=profile, protocol=protocol_named(protocol), **values)

    @property
    def split_fraction(self) -> float:
        """The held-out share every cell uses."""
        if self.test_fraction is not None:
            return self.test_fraction
        return 0.2 if self.protocol is None else self.protocol.test_fraction

    def split_axis(self, benchmark: str) -> str:
        """``"time"`` or ``"series"`` for ``benchmark`` (see :attr:`split_mode`)."""
        if self.split_mode:
            return self.split_mode
        default = DEFAULT_SPLIT[benchmark]
        return default if self.protocol is None else self.protocol.split_mode(default)

    def benchmark_budgets(self, benchmark: str) -> tuple[float, ...]:
        return tuple(self.budgets[FAMILY[benchmark]])

    def method_params(self, name: str, benchmark: str) -> dict:
        """Hyperparameters of one method (for RLAD under :attr:`protocol`:
        :meth:`semiad.rlad.protocol.RLADProtocol.rlad_params`; ``None`` = the pre-protocol params)."""
        if name == "rlad":
            params = {"gamma": PAPER_TEXT.discount(FAMILY[benchmark]), "max_episodes": self.max_episodes,
                      "steps_per_episode": self.steps_per_episode, "warmup_updates": self.warmup_updates,
                      "lp_max_unlabeled": self.lp_max_unlabeled}
            if self.protocol is not None:
                params.update(self.protocol.rlad_params(FAMILY[benchmark], self.max_episodes))
            return params
        if name == "srcnn":
            return {"epochs": self.srcnn_epochs}
        if name == "autoencoder":
            return {"epochs": self.ae_epochs}
        if name == "deep_sad":
            # Deep SAD's MLP of the ODDS experiments (App. D: 32-16-8 for low-dimensional data), Adam with
            # a larger lr/batch than App. E because the windows are many (~10^4-10^5) and 25-dimensional,
            # and the Deep SAD protocol's model fields (init, slope, c; core.detectors.protocol.DEFAULT)
            return {"hidden_dims": [32, 16], "rep_dim": 8, "lr": 1e-3, "batch_size": 512,
                    "n_epochs": self.dsad_epochs, "ae_n_epochs": self.dsad_epochs, "eta": 1.0,
                    **DEEP_SAD_PROTOCOL.estimator_params()}
        if name == "dagmm":
            return {"hidden": [16, 8], "latent_dim": 2, "n_gmm": 4, "batch_size": 1024,
                    "steps": self.dagmm_steps}
        return {}

    def data_fields(self, benchmark: str) -> dict:
        """What a cell of ``benchmark`` says about its data: source, subset and split."""
        max_series, max_points = self.sizes[benchmark]
        return {"benchmark": benchmark, "data_source": self.data_sources.get(benchmark, "real"),
                "max_series": max_series, "max_points": max_points,
                "split": {"mode": self.split_axis(benchmark), "test_fraction": float(self.split_fraction)}}

    def cells(self) -> list[dict]:
        """Every cell config: per benchmark, seed and method, one cell per budget for the semi-supervised
        methods and one budget-free cell (``budget=None``, shared by all budgets) for the others."""
        configs = []
        for bench in self.benchmarks:
            data = self.data_fields(bench)
            for seed in self.seeds:
                for m in self.methods:
                    params = self.method_params(m, bench)
                    for b in (self.benchmark_budgets(bench) if m in SEMI_SUPERVISED else (None,)):
                        configs.append({"task": "rlad", **data, "method": m, "seed": int(seed),
                                        "budget": None if b is None else float(b), "params": params})
        return configs


def build_configs(profile: str = "quick", benchmarks=("yahoo_a1", "yahoo_a2"), budgets=None, seeds=None,
                  methods=None, data_sources: dict[str, str] | None = None, split_mode: str | None = None,
                  test_fraction: float | None = None, max_series: int | None = -1,
                  max_points: int | None = -1,
                  protocol: str | RLADProtocol | None = DEFAULT_PROTOCOL) -> list[dict]:
    """``RLADGridConfig.for_profile(...).cells()``: every cell of the grid, validated before anything runs
    (arguments: :meth:`RLADGridConfig.for_profile` and the fields of :class:`RLADGridConfig`)."""
    return RLADGridConfig.for_profile(profile, benchmarks=benchmarks, budgets=budgets, seeds=seeds,
                                      methods=methods, data_sources=dict(data_sources or {}),
                                      split_mode=split_mode, test_fraction=test_fraction,
                                      max_series=max_series, max_points=max_points, protocol=protocol).cells()


# ---------------------------------------------------------------------------------------------
# data of a cell
def load_collection(config: dict, runtime: dict):
    """The benchmark's series (subset and truncation of the config), checked real vs demo."""
    from semiad.core.data.resolve import check_data_source
    from semiad.rlad.data import TimeSeriesCollection, _sub_series, load_benchmark

    coll = load_benchmark(config["benchmark"], runtime.get("data_dir"), runtime.get("on_missing", "error"),
                          max_series=config["max_series"])
    check_data_source(config["benchmark"], config["data_source"], coll.source)
    if config.get("max_points"):
        coll = TimeSeriesCollection(coll.name, tuple(_sub_series(s, slice(0, config["max_points"]))
                                                     for s in coll), coll.source,
                                    f"{coll.origin}; first {config['max_points']} points per series")
    return coll


def split_parts(config: dict, runtime: dict) -> list[dict]:
    """Per series: scaled values of train and test part and their labels (train-range min-max)."""
    from semiad.rlad.data import minmax_series, train_test_split_series

    coll = load_collection(config, runtime)
    split = config["split"]
    train, test = train_test_split_series(coll, split["test_fraction"], split["mode"], config["seed"])
    if split["mode"] == "time":
        pairs = list(zip(train, test, strict=True))
    else:  # whole series: a test series is scaled by its own range (it has no training part)
        pairs = [(s, None) for s in train] + [(None, s) for s in test]
    parts = []
    for tr, te in pairs:
        ref = tr.values if tr is not None else te.values
        part = {"name": (tr or te).name}
        for key, s in (("train", tr), ("test", te)):
            if s is None:
                part[key] = (np.empty(0), np.empty(0, np.int64), np.empty(0))
            else:
                part[key] = (minmax_series(s.values, ref), s.labels, s.values)
        parts.append(part)
    return parts


def _windows(parts: list[dict], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from semiad.rlad.data import sliding_windows

    xs, ys, gs = [], [], []
    for k, part in enumerate(parts):
        values, labels, _ = part[key]
        x, y = sliding_windows(values, labels, WINDOW)
        xs.append(x)
        ys.append(y)
        gs.append(np.full(len(y), k, np.int64))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def _pr(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, suffix: str = "") -> dict[str, float]:
    from semiad.rlad.baselines import precision_recall_f1

    out = {}
    for pa, tag in ((False, ""), (True, "_pa")):
        r = precision_recall_f1(y, pred, point_adjust=pa, groups=groups)
        out.update({f"precision{tag}{suffix}": r["precision"], f"recall{tag}{suffix}": r["recall"],
                    f"f1{tag}{suffix}": r["f1"]})
    return out


def _series_metrics(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, scores: np.ndarray | None = None,
                    suffix: str = "") -> dict[str, float]:
    """The metrics of :mod:`semiad.rlad.metrics` on the test points, cut into series by ``groups``.

    ``precision/recall/f1_authors``: the authors' tolerant smoothed per-series evaluation
    (:func:`~semiad.rlad.metrics.authors_f1`, ±5 steps, mean over the series with test points);
    ``range_f1``: range-based F1 pooled over series; ``vus_pr`` (only when ``scores`` are given): mean
    VUS-PR over the series with a test anomaly. Same predictions as the strict pooled ``f1``.
    """
    from semiad.rlad.metrics import authors_f1, range_f1, split_by_group, vus_pr

    ys, ps = split_by_group(y, groups), split_by_group(np.asarray(pred).astype(np.int64), groups)
    tol = authors_f1(ys, ps)
    out = {f"precision_authors{suffix}": tol["precision"], f"recall_authors{suffix}": tol["recall"],
           f"f1_authors{suffix}": tol["f1"], f"range_f1{suffix}": range_f1(ys, ps)}
    if scores is not None:
        out[f"vus_pr{suffix}"] = vus_pr(ys, split_by_group(scores, groups))
    return out


def spot_scores(stream: np.ndarray, result) -> np.ndarray:
    """A continuous SPOT/DSPOT score for VUS-PR: the excess over the threshold in force at each point,
    ``max(x - upper, lower - x)`` in value units (> 0 exactly at the alarms of a point-wise comparison)."""
    stream = np.asarray(stream, np.float64)
    score = stream - np.asarray(result.upper, np.float64)
    if result.lower is not None:
        score = np.maximum(score, np.asarray(result.lower, np.float64) - stream)
    return np.nan_to_num(score, nan=0.0, posinf=1e12, neginf=-1e12)  # an infinite threshold: never an alarm


# ---------------------------------------------------------------------------------------------
# methods
def rlad_n_al(budget: float, n_train_windows: int, benchmark: str, max_episodes: int,
              rule: str = "paper_table") -> tuple[int, int]:
    """(N_al, queries). ``rule="paper_table"``: the paper's N_al for the budget, raised so that
    <= max_episodes episodes spend it; ``"spread"`` (the authors' code, :mod:`semiad.rlad.protocol`):
    ceil(queries / max_episodes), the budget spread evenly over a fixed number of episodes."""
    from semiad.rlad.agent import BUDGETS, RLADDetector

    if rule not in ("paper_table", "spread"):
        raise ValueError(f"rule must be 'paper_table' or 'spread', got {rule!r}")
    paper = BUDGETS[FAMILY[benchmark]].get(round(budget, 6)) if rule == "paper_table" else None
    n_queries, _ = RLADDetector.episodes_for_budget(budget, n_train_windows, paper or 1)
    n_al = max(paper or 1, math.ceil(n_queries / max_episodes))
    return n_al, n_queries


def fit_rlad(parts: list[dict], benchmark: str, budget: float, params: dict, seed: int, device: str = "cpu"):
    """Fit RLAD on the training windows of all series; returns (detector, info)."""
    from semiad.rlad.agent import RLADDetector
    from semiad.rlad.protocol import LEGACY_QUERY_RULE, LEGACY_REPLAY_SIZE

    X, y, g = _windows(parts, "train")
    n_al, n_queries = rlad_n_al(budget, len(X), benchmark, params["max_episodes"],
                                params.get("queries_per_episode", LEGACY_QUERY_RULE))
    det = RLADDetector(n_al=n_al, gamma=params["gamma"], steps_per_episode=params["steps_per_episode"],
                       warmup_updates=params["warmup_updates"], lp_max_unlabeled=params["lp_max_unlabeled"],
                       replay_size=params.get("replay_size", LEGACY_REPLAY_SIZE), device=device,
                       random_state=seed)
    det.fit(X, y, budget=budget, groups=g)
    counts = det.ledger_.counts()
    info = {"n_al": n_al, "n_episodes": len(det.history_), "n_train_windows": len(X),
            "labels_queried": counts.get("queried", 0), "labels_warmup": counts.get("warmup", 0),
            "labels_pseudo": counts.get("pseudo", 0)}
    return det, info


def budget_semi_labels(y: np.ndarray, budget: float, seed: int) -> np.ndarray:
    """Deep SAD's labels at budget b: ``round(b * n)`` windows, split by the anomaly ratio of ``y``.

    Returns semi-labels (+1 known normal, -1 known anomaly, 0 unlabeled). The number of labeled
    anomalies is ``round(n_labels * ratio)``, at least 1 when ``y`` has an anomaly (otherwise a
    0.05 %-budget on KPI would label none), and never more than exist; both groups are drawn
    uniformly with ``seed``.
    """
    from semiad.core.detectors.base import KNOWN_ANOMALY, KNOWN_NORMAL

    y = np.asarray(y)
    if not 0 < budget <= 1:
        raise ValueError(f"budget must be a fraction in (0, 1], got {budget}")
    n_labels = max(1, int(round(budget * len(y))))
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_anom = int(round(n_labels * len(anomalies) / max(len(y), 1)))
    n_anom = min(len(anomalies), max(n_anom, 1 if len(anomalies) else 0), n_labels)
    n_norm = min(len(normals), n_labels - n_anom)
    rng = np.random.default_rng([seed, 7])
    y_semi = np.zeros(len(y), np.int64)
    y_semi[rng.choice(anomalies, n_anom, replace=False)] = KNOWN_ANOMALY
    y_semi[rng.choice(normals, n_norm, replace=False)] = KNOWN_NORMAL
    return y_semi


def _window_detector(name: str, params: dict, seed: int, device: str, n_train: int):
    p = dict(params)
    if name == "deep_sad":
        from semiad.core.detectors.deep_sad import DeepSAD

        return DeepSAD(hidden_dims=tuple(p.pop("hidden_dims")), lr_milestones=(), device=device,
                       random_state=seed, **p)
    if name == "dagmm":
        from semiad.core.detectors.dagmm import DAGMM

        epochs = max(1, math.ceil(p.pop("steps") / math.ceil(n_train / p["batch_size"])))
        return DAGMM(hidden=tuple(p.pop("hidden")), epochs=epochs, device=device, random_state=seed, **p)
    raise ValueError(name)


def _series_scores(name: str, parts: list[dict], params: dict, seed: int) -> list[np.ndarray]:
    """Per series: one score per point of the concatenated (train + test) scaled series."""
    from semiad.rlad import baselines as tb

    out = []
    for part in parts:
        train_v, test_v = part["train"][0], part["test"][0]
        full = np.concatenate((train_v, test_v))
        if name == "sr":
            s = tb.spectral_residual(full)
        elif name == "luminol":
            s = tb.luminol_scores(full)
        elif name == "srcnn":
            fit_on = train_v if len(train_v) else full  # series split: a test series fits on itself
            s = tb.SRCNN(epochs=params["epochs"], seed=seed).fit(fit_on).score(full)
        elif name == "autoencoder":
            s = tb.WindowAutoencoder(epochs=params["epochs"], seed=seed).fit(
                train_v if len(train_v) > WINDOW else full).score(full)
        else:
            raise ValueError(name)
        out.append(np.nan_to_num(np.asarray(s, np.float64), nan=0.0, posinf=1e12, neginf=-1e12))
    return out


def _evaluation_points(parts: list[dict], per_series: list[np.ndarray], key: str):
    """Values of ``per_series`` (aligned with train + test) at the windowed points of ``key``."""
    vals, ys, gs = [], [], []
    for k, (part, arr) in enumerate(zip(parts, per_series, strict=True)):
        n_train = len(part["train"][1])
        start, stop = (WINDOW - 1, n_train) if key == "train" else (n_train + WINDOW - 1, len(arr))
        labels = part[key][1][WINDOW - 1:]
        vals.append(arr[start:stop])
        ys.append(labels)
        gs.append(np.full(len(labels), k, np.int64))
    return np.concatenate(vals), np.concatenate(ys), np.concatenate(gs)


@cell_task("rlad")
def rlad_cell(config: dict, runtime: dict) -> dict:
    """One (benchmark, method, budget, seed) cell: fit on the training part, P/R/F1 on the test pool."""
    from semiad.rlad.baselines import DSPOT, SPOT, best_f1_threshold

    parts = split_parts(config, runtime)
    name, seed, params = config["method"], config["seed"], config["params"]
    info: dict = {"n_series": len(parts)}
    if name == "rlad":
        det, fit_info = fit_rlad(parts, config["benchmark"], config["budget"], params, seed,
                                 runtime.get("device", "cpu"))
        info.update(fit_info)
        Xt, yt, gt = _windows(parts, "test")
        s_te = det.decision_function(Xt)  # q1 - q0
        pred = (s_te > 0).astype(np.int64)  # = det.predict(Xt)
        metrics = {**_pr(yt, pred, gt), **_series_metrics(yt, pred, gt, s_te)}
        metrics["label_fraction"] = fit_info["labels_queried"] / max(fit_info["n_train_windows"], 1)
    elif name in ("spot", "dspot"):
        alarms, excess = [], []
        for part in parts:
            raw_train, raw_test = part["train"][2], part["test"][2]
            det = SPOT() if name == "spot" else DSPOT()
            if len(raw_train) == 0:  # series split: calibrate on the head of the test series
                cal = int(round(SPOT_CALIBRATION * len(raw_test)))
                head, stream = raw_test[:cal], raw_test[cal:]
            else:
                head, stream = raw_train, raw_test
            result = det.fit(head).predict(stream)
            a = np.concatenate((np.zeros(len(head), bool), result.alarms))
            alarms.append(a.astype(np.int64))
            e = spot_scores(stream, result)
            floor = float(e.min()) if len(e) else 0.0  # the head is predicted normal: never above the stream
            excess.append(np.concatenate((np.full(len(head), floor), e)))
        pred, yt, gt = _evaluation_points(parts, alarms, "test")
        s_te, _, _ = _evaluation_points(parts, excess, "test")
        metrics = {**_pr(yt, pred, gt), **_series_metrics(yt, pred, gt, s_te)}
    elif name in SCORE_BASED or name in WINDOW_DETECTORS:
        if name in WINDOW_DETECTORS:
            X_tr, y_tr, _ = _windows(parts, "train")
            Xt, yt, gt = _windows(parts, "test")
            det = _window_detector(name, params, seed, runtime.get("device", "cpu"), len(X_tr))
            if name in SEMI_SUPERVISED:
                y_semi = budget_semi_labels(y_tr, config["budget"], seed)
                info.update(labels_anomaly=int(np.sum(y_semi == -1)), labels_normal=int(np.sum(y_semi == 1)),
                            n_train_windows=int(len(y_tr)))
                det.fit(X_tr, y_semi)
            else:
                det.fit(X_tr)
            s_tr, s_te = det.decision_function(X_tr), det.decision_function(Xt)
        else:
            scores = _series_scores(name, parts, params, seed)
            s_tr, y_tr, _ = _evaluation_points(parts, scores, "train")
            s_te, yt, gt = _evaluation_points(parts, scores, "test")
        thr_train = best_f1_threshold(y_tr, s_tr)["threshold"]
        thr_test = best_f1_threshold(yt, s_te)["threshold"]
        pred, pred_opt = (s_te >= thr_train).astype(np.int64), (s_te >= thr_test).astype(np.int64)
        metrics = {**_pr(yt, pred, gt), **_pr(yt, pred_opt, gt, "_test_opt"),
                   **_series_metrics(yt, pred, gt, s_te),
                   **_series_metrics(yt, pred_opt, gt, None, "_test_opt")}
        info.update(threshold_train=thr_train, threshold_test_opt=thr_test)
    else:
        raise ValueError(f"unknown method {name!r}")
    info.update(n_test_points=int(len(yt)), n_test_anomalies=int(np.sum(yt)))
    return {"metrics": {k: float(v) for k, v in metrics.items()}, "info": info}


# ---------------------------------------------------------------------------------------------
# grid and results
def dataset_sources(benchmarks, data_dir=None, on_missing: str = "error") -> dict[str, str]:
    """Load each benchmark once up front (first series only): clear errors before any computation."""
    from semiad.rlad.data import load_benchmark

    return {b: load_benchmark(b, None if data_dir is None else str(data_dir), on_missing, max_series=1).source
            for b in benchmarks}


def budget_label(budget: float | None) -> str:
    return "unsupervised" if budget is None else f"{budget * 100:g}%"


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy results: one row per (method, dataset, setting, seed, metric); failures kept as NaN."""
    return tidy_frame(records, lambda cfg: {
        "method": METHOD_LABELS[cfg["method"]], "dataset": cfg["benchmark"],
        "setting": f"budget={budget_label(cfg['budget'])}", "budget": cfg["budget"]}, "f1")


def run_rlad_grid(profile: str = "quick", *, benchmarks=("yahoo_a1", "yahoo_a2"), budgets=None, seeds=None,
                  methods=None, n_jobs: int = 1, backend: str = "loky", device: str = "cpu",
                  data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                  cache_root: str | None = None, progress: bool = True, refresh_metrics: bool = False,
                  protocol: str | RLADProtocol | None = DEFAULT_PROTOCOL,
                  **split) -> tuple[pd.DataFrame, list[dict]]:
    """Run (or load from cache) the Table 2/3 grid; return tidy results and the raw records.

    ``protocol``: see :func:`build_configs`; every result row carries its name in a ``protocol`` column
    (:func:`protocol_label`).

    Cells cached before the metrics of :data:`TS_METRICS` existed (issue #16) lack them (their rows are
    simply absent; :func:`stale_records` lists them). ``refresh_metrics=True`` recomputes exactly those
    cells (same configs and hashes; the new record replaces the old file).
    """
    sources = dataset_sources(benchmarks, data_dir, on_missing)
    configs = build_configs(profile, benchmarks, budgets, seeds, methods, sources, protocol=protocol, **split)
    runtime = {"data_dir": None if data_dir is None else str(data_dir), "device": device,
               "on_missing": on_missing, "cache_root": cache_root}
    cost = {"rlad": 0, "luminol": 1, "deep_sad": 2, "dagmm": 3, "srcnn": 4, "autoencoder": 5}

    def grid(cfgs: list[dict]) -> list[dict]:
        return run_grid(rlad_cell, cfgs, n_jobs=n_jobs, backend=backend, runtime=runtime,
                        cache_root=cache_root,
                        progress=progress, desc="RLAD Table 2/3 cells",
                        priority=lambda c: (cost.get(c["method"], 9), -(c["budget"] or 0)))

    records = grid(configs)
    stale = stale_records(records)
    if refresh_metrics and stale:
        from semiad.core.cache import ResultCache

        cache = ResultCache(cache_root)
        for i in stale:
            cache.cell_path(configs[i]).unlink(missing_ok=True)
        for i, rec in zip(stale, grid([configs[i] for i in stale]), strict=True):
            records[i] = rec
    return records_to_frame(records).assign(protocol=protocol_label(protocol)), records


def protocol_label(protocol: str | RLADProtocol | None) -> str:
    """The ``protocol`` column of a grid's results: the preset's name (``"pre_protocol"`` for ``None``)."""
    chosen = protocol_named(protocol)
    return "pre_protocol" if chosen is None else chosen.name


def stale_records(records: list[dict]) -> list[int]:
    """Indices of successful records without every metric of :data:`TS_METRICS` (cached before #16)."""
    return [i for i, r in enumerate(records)
            if r.get("status") == "ok" and not set(TS_METRICS) <= set(r.get("metrics", {}))]


# ---------------------------------------------------------------------------------------------
# notebook-facing summaries
def expand_budgets(results: pd.DataFrame) -> pd.DataFrame:
    """Repeat the (budget-free) unsupervised rows at every budget run on their benchmark."""
    results = results.assign(budget=results["budget"].astype(float))
    sup = results[results["budget"].notna()]
    uns = results[results["budget"].isna()]
    pieces = [sup]
    for bench, g in uns.groupby("dataset"):
        for b in sorted(sup.loc[sup["dataset"] == bench, "budget"].unique()):
            pieces.append(g.assign(budget=b))
    return pd.concat(pieces, ignore_index=True)


def teaching_example(benchmark: str, budget: float, profile: str = "smoke", series_index: int | None = None,
                     seed: int = 0, data_dir=None, on_missing: str = "error") -> dict:
    """RLAD trained as in a grid cell (time split, training windows of the profile's series subset),
    shown on one series for the teaching figure: per point of that series, the true label, the label
    source of the window ending there (warm-up / queried / pseudo) and RLAD's prediction on its test
    part (``info`` counts labels over all series). ``series_index=None``: the first series of the
    profile's subset with at least 2 anomalies in its training windows and 1 in its test windows
    (else the first series)."""
    from semiad.rlad.agent import SRC_PSEUDO, SRC_QUERIED, SRC_WARMUP

    grid_config = RLADGridConfig.for_profile(profile, protocol=None)  # the pre-protocol RLAD params
    max_series, max_points = grid_config.sizes[benchmark]
    source = dataset_sources([benchmark], data_dir, on_missing)[benchmark]
    cfg = {"benchmark": benchmark, "data_source": source,
           "max_series": max_series if series_index is None else series_index + 1,
           "max_points": max_points, "seed": seed, "split": {"mode": "time", "test_fraction": 0.2}}
    parts = split_parts(cfg, {"data_dir": data_dir, "on_missing": on_missing})
    if series_index is None:
        good = [k for k, p in enumerate(parts)
                if p["train"][1][WINDOW - 1:].sum() >= 2 and p["test"][1][WINDOW - 1:].sum() >= 1]
        series_index = good[0] if good else 0
    params = grid_config.method_params("rlad", benchmark)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small LSTM batches: one thread is fastest (as in the grid's workers)
    try:
        det, info = fit_rlad(parts, benchmark, budget, params, seed)
    finally:
        torch.set_num_threads(threads)
    part = parts[series_index]
    _, _, g_train = _windows(parts, "train")
    values = np.concatenate((part["train"][0], part["test"][0]))
    labels = np.concatenate((part["train"][1], part["test"][1]))
    n_train = len(part["train"][1])
    source = np.zeros(len(values), np.int64)
    source[WINDOW - 1:n_train] = det.ledger_.source[g_train == series_index]
    Xt, _, _ = _windows([part], "test")
    pred = np.zeros(len(values), np.int64)
    pred[n_train + WINDOW - 1:] = det.predict(Xt)
    return {"name": part["name"], "values": values, "labels": labels, "n_train": n_train,
            "queried": np.flatnonzero(source == SRC_QUERIED), "warmup": np.flatnonzero(source == SRC_WARMUP),
            "pseudo": np.flatnonzero(source == SRC_PSEUDO), "pred": pred, "info": info,
            "source": cfg["data_source"], "budget": budget}
