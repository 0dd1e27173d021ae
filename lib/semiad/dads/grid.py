"""DADS Figure 2: AUC-ROC vs contamination of the unlabeled data, DADS and seven baselines.

Protocol (DADS paper, "Experiments", filled in by issue #6): three datasets with several anomaly
classes, one anomaly class *known* (a few labeled examples) and the others *unknown*; stratified
60/20/20 train/validation/test split, scaling fit on train; labeled anomalies = 10% of the
anomalies; the unlabeled training data is contaminated with anomalies of all classes at a ratio in
{0, 2, 4, 6, 8, 10}%; AUC-ROC (and AUC-PR) on the test set, mean over seeds.

The validation split has labels. DADS (and DPLAN) use it to keep their best policy (one per
episode), as the issue asks; SSAD uses it to pick its RBF width, DevNet/VIME/XGBoost/IF/Deep SAD
run with fixed hyperparameters. Test metrics: AUC-ROC, AUC-PR (average precision), and AUC-ROC of
normals against the known-class / the unknown-class anomalies of the test set.

The grid is one typed value, :class:`Fig2Config` (``Fig2Config.for_profile("quick")``); its
``protocol`` (:mod:`semiad.dads.protocol`: ``"paper_text"``, default, or ``"authors_code"``, or any
switched protocol) decides the environment, agent, data protocol, seed list and baseline
configurations; a cell carries only the protocol fields that act on it and differ from the paper text,
so paper-text cells keep their cache keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from semiad.core.detectors import SSAD, DeepSAD, IsolationForestDetector
from semiad.core.detectors.protocol import DEFAULT as DEEP_SAD_PROTOCOL
from semiad.core.grid import cell_task, run_grid, tidy_frame
from semiad.core.profiles import check_profile
from semiad.dads.protocol import LOADER_FIELDS, PAPER_TEXT, DADSProtocol, dads_protocol_named

PAPER = "dads"
CONTAMINATIONS: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10)
#: Figure 2's panels. HAR (the paper's third panel) needs a download; ``shuttle_aad`` (original
#: Statlog classes: 1 normal, 5 known, 2/3/6/7 unknown) is our offline substitute.
FIGURE2_DATASETS: tuple[str, ...] = ("annthyroid", "cardiotocography", "shuttle_aad")
PAPER_DATASETS: tuple[str, ...] = ("annthyroid", "cardiotocography", "har")


@dataclass(frozen=True)
class Method:
    label: str  # as in the paper's legend
    name: str  # detector name in semiad


METHODS: tuple[Method, ...] = (
    Method("DADS", "dads"), Method("XGBoost", "xgboost"), Method("IForest", "iforest"),
    Method("DeepSAD", "deep_sad"), Method("SSAD", "ssad"), Method("DevNet", "devnet"),
    Method("VIME", "vime"), Method("DPLAN", "dplan"),
)
METHOD_LABELS = {m.name: m.label for m in METHODS}
USES_VALIDATION = ("dads", "dplan")
SSAD_GAMMAS_DADS = (2.0 ** -7, 2.0 ** -5, 2.0 ** -3, 2.0 ** -1, 2.0)
#: Scalers the grid accepts (``None`` = the protocol's: standardise, or the authors' standardise + min-max).
SCALES: tuple[str, ...] = ("standard", "minmax", "standard_minmax")
LABELED_OF: tuple[str, ...] = ("all_anomalies", "known_class")


@dataclass(frozen=True)
class Fig2Config:
    """The Figure 2 grid: panels x contamination levels x seeds x methods under one DADS protocol.

    The defaults are the paper's full run (``for_profile("paper")``); ``smoke`` and ``quick`` change
    sizes only (:data:`PROFILE_SIZES`), never a code path. Everything that differs between the
    abstract and the authors' code (agent, environment, split, seeds, baseline configurations) is the
    ``protocol``'s job (:class:`~semiad.dads.protocol.DADSProtocol`), not a field here. Validated once,
    where it is built; :meth:`cells` turns it into the grid's cell dicts (the cache keys).
    """

    # ---- the grid (paper, Sec. "Experiments")
    datasets: tuple[str, ...] = FIGURE2_DATASETS
    """Panels. Paper: "3 datasets with multiple anomaly classes" (annthyroid, cardiotocography, HAR);
    ours: ``shuttle_aad`` stands in for HAR, which needs a download (``"har"`` runs it)."""
    contaminations: tuple[float, ...] = CONTAMINATIONS
    """Contamination of the unlabeled data. Paper: "from 0% to 10%"; the 2 % steps are the authors' code."""
    n_seeds: int = 10
    """Paper: "average AUC-ROC over 10 random seeds". Which seeds is the protocol's list
    (:attr:`DADSProtocol.seeds`: ours 0, 1, ...; the authors' 1, 20, 42, ...)."""
    seeds: tuple[int, ...] | None = None
    """Explicit seeds instead of the protocol's first ``n_seeds`` (``None``)."""
    methods: tuple[str, ...] = tuple(m.name for m in METHODS)
    """Paper: DADS and "7 different AD methods" (XGBoost, Isolation Forest, five semi-supervised)."""
    protocol: DADSProtocol = PAPER_TEXT
    """Paper text vs the authors' code, one field per difference (a preset's name is accepted)."""
    # ---- data protocol (paper, Sec. "Experiments", as issue #6 reads it)
    labeled_fraction: float = 0.1
    """Paper: "the number of known anomalies is set to be 10% of total anomalies"."""
    train_val_test: tuple[float, float, float] = (0.6, 0.2, 0.2)
    """Not in the paper. Issue #6 and the authors' code: a stratified 60/20/20 split."""
    scale: str | None = None
    """Explicit scaler (:data:`SCALES`); ``None``: the protocol's (issue #6 standardises; the authors'
    code standardises, then min-max scales)."""
    labeled_of: str | None = None
    """Explicit reading of "10% of total anomalies" (:data:`LABELED_OF`); ``None``: the protocol's."""
    max_train: int | None = None
    """Ours (smoke profile only): cap on the unlabeled training rows, contamination kept."""
    # ---- training lengths (the profiles shrink these)
    dads_episodes: int = PAPER_TEXT.n_episodes
    """DADS episodes. Paper: unstated; the authors' code 10 (:attr:`DADSProtocol.n_episodes`)."""
    dads_episode_length: int = PAPER_TEXT.episode_length
    """SAC steps per DADS episode. Paper: unstated; the authors' code 5,000."""
    rl_steps: int = 20_000
    """DPLAN environment steps. Authors' configuration: 2,000 steps x 10 iterations (DPLAN paper, Sec. 4)."""
    deep_epochs: int = 100
    """Ours: epochs of Deep SAD, DevNet and VIME under the paper text (the authors' configurations
    are scaled by ``deep_epochs / 100``, :meth:`DADSProtocol.baseline_params`)."""
    ssad_max_train: int = 5000
    """Ours: SSAD training rows (its dual QP grows cubically)."""

    def __post_init__(self) -> None:
        from semiad.dads.data import MULTICLASS_DATASETS

        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "protocol", dads_protocol_named(self.protocol))
        for name in ("datasets", "contaminations", "methods", "train_val_test"):
            set_(self, name, tuple(getattr(self, name)))
        set_(self, "contaminations", tuple(float(c) for c in self.contaminations))
        if self.seeds is not None:
            set_(self, "seeds", tuple(self.seeds))
        for ds in self.datasets:
            if ds not in MULTICLASS_DATASETS:
                raise ValueError(f"unknown dataset {ds!r}; choose from {MULTICLASS_DATASETS}")
        for c in self.contaminations:
            if not 0 <= c < 1:
                raise ValueError(f"contamination must be in [0, 1), got {c!r}")
        for m in self.methods:
            if m not in METHOD_LABELS:
                raise ValueError(f"unknown method {m!r}; choose from {sorted(METHOD_LABELS)}")
        if self.seeds is not None and any(not isinstance(s, (int, np.integer)) or s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be non-negative integers, got {self.seeds}")
        if not 0 < self.labeled_fraction <= 1:
            raise ValueError(f"labeled_fraction must be in (0, 1], got {self.labeled_fraction!r}")
        if self.scale is not None and self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES} or None, got {self.scale!r}")
        if self.labeled_of is not None and self.labeled_of not in LABELED_OF:
            raise ValueError(f"labeled_of must be one of {LABELED_OF} or None, got {self.labeled_of!r}")
        for name in ("n_seeds", "dads_episodes", "dads_episode_length", "rl_steps", "deep_epochs",
                     "ssad_max_train"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.max_train is not None and self.max_train < 1:
            raise ValueError(f"max_train must be >= 1 or None, got {self.max_train!r}")
        self.grid_seeds()  # the protocol lists enough seeds

    @classmethod
    def for_profile(cls, profile: str = "quick", **overrides) -> Fig2Config:
        """The profile's sizes (:data:`PROFILE_SIZES`) on the paper's defaults, then ``overrides``;
        an override of ``None`` keeps the profile's value (notebook parameters default to ``None``)."""
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown Figure 2 grid fields {sorted(unknown)}; known: {sorted(known)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(**{**PROFILE_SIZES[check_profile(profile)], **given})

    def grid_seeds(self) -> tuple[int, ...]:
        """The explicit ``seeds``, else the protocol's first ``n_seeds``."""
        return self.protocol.grid_seeds(self.n_seeds) if self.seeds is None else tuple(self.seeds)

    def data_protocol(self, dataset: str) -> dict:
        """The split options of a ``dataset`` cell: the grid's, then the protocol's where it differs from
        the paper text (an explicit ``scale`` / ``labeled_of`` wins over the protocol's)."""
        out: dict = {"labeled_fraction": self.labeled_fraction, "train_val_test": list(self.train_val_test),
                     "scale": self.scale or "standard"}
        if self.labeled_of is not None:
            out["labeled_of"] = self.labeled_of
        if self.max_train is not None:
            out["max_train"] = self.max_train
        explicit = {k for k in ("scale", "labeled_of") if getattr(self, k) is not None}
        out.update({k: v for k, v in self.protocol.data_options(dataset).items() if k not in explicit})
        return out

    def cells(self, data_sources: dict[str, str] | None = None) -> list[dict]:
        """Every cell of the grid (a dict of literals: the cache key), in dataset, contamination, seed,
        method order. ``data_sources``: ``"real"`` / ``"demo"`` per dataset (default real)."""
        sources = data_sources or {}
        params = {m: method_params(m, self) for m in self.methods}
        return [{"task": "dads", "dataset": ds, "data_source": sources.get(ds, "real"),
                 "protocol": self.data_protocol(ds), "contamination": c, "seed": int(seed), "method": m,
                 "params": params[m]}
                for ds in self.datasets for c in self.contaminations for seed in self.grid_seeds()
                for m in self.methods]


#: Per profile, the sizes that differ from the paper's run (the :class:`Fig2Config` defaults); a profile
#: changes sizes, never code paths. Quick: 3 seeds, 5 x 1,500 SAC steps (the notebook's README says why).
PROFILE_SIZES: dict[str, dict] = {
    "smoke": {"datasets": ("annthyroid", "cardiotocography"), "contaminations": (0.0, 0.1), "n_seeds": 1,
              "max_train": 400, "dads_episodes": 2, "dads_episode_length": 150, "rl_steps": 300,
              "deep_epochs": 2, "ssad_max_train": 150},
    "quick": {"n_seeds": 3, "dads_episodes": 5, "dads_episode_length": 1500, "rl_steps": 5000,
              "deep_epochs": 30, "ssad_max_train": 1000},
    "paper": {},
}


def method_params(name: str, config: Fig2Config) -> dict:
    """Hyperparameters of one method in a grid (paper text: the documented defaults of each detector;
    ``authors_code``: the authors' configurations, training lengths scaled by the profile,
    :meth:`~semiad.dads.protocol.DADSProtocol.baseline_params`)."""
    proto = config.protocol
    if name == "dads":
        n, length = config.dads_episodes, config.dads_episode_length
        return {"n_episodes": n, "episode_length": length, **proto.agent_params(n, length)}
    if name == "dplan":
        scale = config.rl_steps / Fig2Config.rl_steps
    else:
        scale = config.deep_epochs / Fig2Config.deep_epochs
    return proto.baseline_params(name, _semiad_params(name, config), scale)


def _semiad_params(name: str, config: Fig2Config) -> dict:
    """The paper-text hyperparameters of a baseline in a grid."""
    if name == "dplan":
        return {"total_timesteps": config.rl_steps}
    if name == "deep_sad":
        e = config.deep_epochs
        # the Deep SAD protocol's model fields (init, slope, c), semiad.core.detectors.protocol.DEFAULT
        return {"n_epochs": e, "ae_n_epochs": e, "lr": 1e-3, "lr_milestones": [max(1, int(0.8 * e))],
                "hidden_dims": [32, 16], "rep_dim": 8, "batch_size": 128,
                **DEEP_SAD_PROTOCOL.estimator_params()}
    if name in ("devnet", "vime"):
        return {"epochs": config.deep_epochs}
    if name == "ssad":
        return {"max_train_samples": config.ssad_max_train}
    return {}


def build_configs(profile: str = "quick", datasets=None, contaminations=None, seeds=None,
                  methods=None, data_sources: dict[str, str] | None = None,
                  dads_protocol: str | DADSProtocol | None = None, **protocol_overrides) -> list[dict]:
    """The cells of ``Fig2Config.for_profile(profile, ...)`` (``None`` = the profile's value;
    ``protocol_overrides``: ``labeled_fraction``, ``train_val_test``, ``scale``, ``labeled_of``)."""
    return Fig2Config.for_profile(profile, datasets=datasets, contaminations=contaminations, seeds=seeds,
                                  methods=methods, protocol=dads_protocol,
                                  **protocol_overrides).cells(data_sources)


# ---------------------------------------------------------------------------------------------
# one cell
def make_split(config: dict, runtime: dict):
    """The contamination split of a cell (dataset loaded through the data layer)."""
    from semiad.core.data.resolve import check_data_source
    from semiad.dads.contamination import make_contamination_split
    from semiad.dads.data import load_multiclass

    protocol = dict(config["protocol"])
    loader = {kw: protocol.pop(field) for field, (_, kw) in LOADER_FIELDS.items() if field in protocol}
    ds = load_multiclass(config["dataset"], runtime.get("data_dir"), runtime.get("on_missing", "error"),
                         **loader)
    check_data_source(config["dataset"], config["data_source"], ds.source)
    protocol["train_val_test"] = tuple(protocol["train_val_test"])
    return make_contamination_split(ds, config["contamination"], config["seed"], **protocol)


def make_method(name: str, params: dict, seed: int, device: str):
    """Instantiate a method of Figure 2 (imports lazily: RL methods pull stable-baselines3)."""
    if name == "dads":
        from semiad.dads.agent import DADS
        return DADS(random_state=seed, device=device if device != "auto" else "cpu", **params)
    if name == "dplan":
        from semiad.dads.dplan import DPLANDetector
        return DPLANDetector(random_state=seed, **params)
    if name == "deep_sad":
        p = dict(params)
        for key in ("lr_milestones", "ae_lr_milestones", "hidden_dims"):
            if key in p:
                p[key] = tuple(p[key])
        return DeepSAD(random_state=seed, device=device, **p)
    if name == "xgboost":
        from semiad.dads.xgb import XGBoostDetector
        return XGBoostDetector(random_state=seed, **params)
    if name == "devnet":
        from semiad.dads.devnet import DevNetDetector
        return DevNetDetector(random_state=seed, **params)
    if name == "vime":
        from semiad.dads.vime import VIMEDetector
        return VIMEDetector(random_state=seed, **params)
    if name == "iforest":
        return IsolationForestDetector(random_state=seed, **params)
    if name == "ssad":
        return SSAD(random_state=seed, **params)
    raise ValueError(f"unknown Figure 2 method {name!r}; choose one of {[m.name for m in METHODS]}")


def _ssad_by_validation(params: dict, split, seed: int):
    """SSAD with its RBF width chosen on the labeled validation split (kappa = eta = 1, App. E)."""
    params = dict(params)
    gammas = params.pop("gamma_grid", SSAD_GAMMAS_DADS)  # the authors' grid 2^-7 ... 2^2 when given
    best = (-np.inf, None, None)
    for gamma in gammas:
        det = SSAD(gamma=gamma, random_state=seed, **params)
        det.fit(split.X_train, split.y_semi)
        val_auc = roc_auc_score(split.y_val, det.decision_function(split.X_val))
        if val_auc > best[0]:
            best = (val_auc, gamma, det)
    return best[2], {"gamma": best[1], "val_auc": best[0]}


def score_test_set(split, scores: np.ndarray) -> dict[str, float]:
    """AUC-ROC, AUC-PR and AUC-ROC against the known / the unknown anomaly classes."""
    y, cls = split.y_test, split.cls_test
    out = {"auc_roc": float(roc_auc_score(y, scores)), "auc_pr": float(average_precision_score(y, scores))}
    normal = y == 0
    known = cls == split.info["known_class"]
    for name, mask in (("auc_roc_known", known), ("auc_roc_unknown", (y == 1) & ~known)):
        keep = normal | mask
        if mask.any():
            out[name] = float(roc_auc_score(y[keep], scores[keep]))
    return out


@cell_task("dads")
def dads_cell(config: dict, runtime: dict) -> dict:
    """Fit one method on one contamination split; score the test set."""
    split = make_split(config, runtime)
    name, seed = config["method"], config["seed"]
    info = {k: v for k, v in split.info.items() if isinstance(v, (int, float, str, bool))}
    if name == "ssad":
        det, chosen = _ssad_by_validation(config["params"], split, seed)
        info.update(chosen)
    else:
        det = make_method(name, config["params"], seed, runtime.get("device", "cpu"))
        if name == "dads":
            det.fit(split.X_train, split.y_semi, X_val=split.X_val, y_val=split.y_val,
                    y_true=split.y_train)
            info.update(history=det.history_.as_dict(), best_episode=det.best_episode_,
                        best_val_auc=det.best_val_auc_)
        elif name in USES_VALIDATION:
            det.fit(split.X_train, split.y_semi, X_val=split.X_val, y_val=split.y_val)
        else:
            det.fit(split.X_train, split.y_semi)
    scores = det.decision_function(split.X_test)
    if np.ptp(scores) == 0:
        raise FloatingPointError(f"{name} returned constant scores on the test set")
    return {"metrics": score_test_set(split, scores), "info": info}


# ---------------------------------------------------------------------------------------------
# grid and results
def dataset_sources(datasets, data_dir=None, on_missing: str = "error") -> dict[str, str]:
    """Load every dataset once up front: clear errors (with the fix) before any long computation."""
    from semiad.dads.data import load_multiclass

    return {ds: load_multiclass(ds, None if data_dir is None else str(data_dir), on_missing).source
            for ds in datasets}


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy results: one row per (method, dataset, setting, seed, metric); failures kept as NaN."""
    return tidy_frame(records, lambda cfg: {
        "method": METHOD_LABELS[cfg["method"]], "dataset": cfg["dataset"],
        "setting": f"contamination={cfg['contamination']:g}", "contamination": cfg["contamination"]},
        "auc_roc")


def run_dads_grid(profile: str = "quick", *, datasets=None, contaminations=None, seeds=None,
                  methods=None, n_jobs: int = 1, backend: str = "loky", device: str = "cpu",
                  data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                  cache_root: str | None = None, progress: bool = True,
                  dads_protocol: str | DADSProtocol | None = None, config: Fig2Config | None = None,
                  **protocol_overrides) -> tuple[pd.DataFrame, list[dict]]:
    """Run (or load from cache) the Figure 2 grid; return tidy results (with a ``protocol`` column
    naming it) and the raw records. The grid is ``config``, or ``Fig2Config.for_profile(profile, ...)``
    built from the other arguments (``dads_protocol`` and ``protocol_overrides`` included)."""
    if config is None:
        config = Fig2Config.for_profile(profile, datasets=datasets, contaminations=contaminations,
                                        seeds=seeds, methods=methods, protocol=dads_protocol,
                                        **protocol_overrides)
    sources = dataset_sources(config.datasets, data_dir, on_missing)
    runtime = {"data_dir": None if data_dir is None else str(data_dir), "device": device,
               "on_missing": on_missing, "cache_root": cache_root}
    cost = {"dads": 0, "dplan": 1, "deep_sad": 2, "vime": 3, "devnet": 4, "ssad": 5}
    records = run_grid(dads_cell, config.cells(sources), n_jobs=n_jobs, backend=backend, runtime=runtime,
                       cache_root=cache_root, progress=progress, desc="DADS Fig. 2 cells",
                       priority=lambda c: cost.get(c["method"], 9))  # the RL agents first
    return records_to_frame(records).assign(protocol=config.protocol.name), records


# ---------------------------------------------------------------------------------------------
# per-episode logs
def learning_curves(records: list[dict]) -> pd.DataFrame:
    """DADS per-episode logs (return, validation AUC, |A|, |T|, promotions and their precision)."""
    rows = []
    for rec in records:
        cfg = rec["config"]
        if cfg["method"] != "dads" or rec["status"] != "ok":
            continue
        hist = rec["info"]["history"]
        for ep in range(len(hist["episode_return"])):
            rows.append({"dataset": cfg["dataset"], "contamination": cfg["contamination"],
                         "seed": cfg["seed"], "episode": ep + 1,
                         **{k: v[ep] for k, v in hist.items()}})
    return pd.DataFrame(rows)
