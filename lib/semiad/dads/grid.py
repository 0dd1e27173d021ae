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

``dads_protocol`` (:mod:`semiad.dads.protocol`: ``"paper_text"``, default, or ``"authors_code"``, or
any switched protocol) decides the environment, agent, data protocol, seed list and baseline
configurations; a cell carries only the protocol fields that act on it and differ from the paper text,
so paper-text cells keep their cache keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from semiad.core.detectors import SSAD, DeepSAD, IsolationForestDetector
from semiad.core.detectors.protocol import DEFAULT as DEEP_SAD_PROTOCOL
from semiad.core.grid import cell_task, run_grid, tidy_frame
from semiad.core.profiles import check_profile
from semiad.dads.protocol import LOADER_FIELDS, DADSProtocol, dads_protocol_named

PAPER = "dads"
CONTAMINATIONS: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10)
#: Figure 2's panels. HAR (the paper's third panel) needs a download; ``shuttle_aad`` (original
#: Statlog classes: 1 normal, 5 known, 2/3/6/7 unknown) is our offline substitute.
FIGURE2_DATASETS: tuple[str, ...] = ("annthyroid", "cardiotocography", "shuttle_aad")
PAPER_DATASETS: tuple[str, ...] = ("annthyroid", "cardiotocography", "har")

#: Sizes per profile (the profile changes sizes, never code paths).
PROFILE_SIZES: dict[str, dict] = {
    "smoke": {"datasets": ("annthyroid", "cardiotocography"), "contaminations": (0.0, 0.1),
              "seeds": (0,), "max_train": 400, "dads_episodes": 2, "dads_episode_length": 150,
              "rl_steps": 300, "deep_epochs": 2, "ssad_max_train": 150},
    "quick": {"datasets": FIGURE2_DATASETS, "contaminations": CONTAMINATIONS, "seeds": (0, 1, 2),
              "max_train": None, "dads_episodes": 5, "dads_episode_length": 1500,
              "rl_steps": 5000, "deep_epochs": 30, "ssad_max_train": 1000},
    "paper": {"datasets": FIGURE2_DATASETS, "contaminations": CONTAMINATIONS,
              "seeds": tuple(range(10)), "max_train": None, "dads_episodes": 10,
              "dads_episode_length": 5000, "rl_steps": 20000, "deep_epochs": 100,
              "ssad_max_train": 5000},
}


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


def default_protocol(**overrides) -> dict:
    """Issue #6 protocol; ``labeled_of`` follows the paper text (10% of all anomalies)."""
    protocol = {"labeled_fraction": 0.1, "train_val_test": [0.6, 0.2, 0.2], "scale": "standard"}
    unknown = set(overrides) - set(protocol) - {"labeled_of"}
    if unknown:
        raise ValueError(f"unknown protocol parameters {sorted(unknown)}; known: {sorted(protocol)}")
    protocol.update(overrides)
    if not 0 < protocol["labeled_fraction"] <= 1:
        raise ValueError(f"labeled_fraction must be in (0, 1], got {protocol['labeled_fraction']!r}")
    return protocol


def method_params(name: str, sizes: dict, dads_protocol: str | DADSProtocol | None = None) -> dict:
    """Hyperparameters of one method under a profile and a DADS protocol (paper text: the documented
    defaults of each detector; ``authors_code``: the authors' configurations, training lengths scaled
    by the profile, :meth:`~semiad.dads.protocol.DADSProtocol.baseline_params`)."""
    proto = dads_protocol_named(dads_protocol)
    if name == "dads":
        n, length = sizes["dads_episodes"], sizes["dads_episode_length"]
        return {"n_episodes": n, "episode_length": length, **proto.agent_params(n, length)}
    if name == "dplan":
        scale = sizes["rl_steps"] / PROFILE_SIZES["paper"]["rl_steps"]
    else:
        scale = sizes["deep_epochs"] / PROFILE_SIZES["paper"]["deep_epochs"]
    return proto.baseline_params(name, _semiad_params(name, sizes), scale)


def _semiad_params(name: str, sizes: dict) -> dict:
    """The paper-text hyperparameters of a baseline under a profile."""
    if name == "dplan":
        return {"total_timesteps": sizes["rl_steps"]}
    if name == "deep_sad":
        e = sizes["deep_epochs"]
        # the Deep SAD protocol's model fields (init, slope, c), semiad.core.detectors.protocol.DEFAULT
        return {"n_epochs": e, "ae_n_epochs": e, "lr": 1e-3, "lr_milestones": [max(1, int(0.8 * e))],
                "hidden_dims": [32, 16], "rep_dim": 8, "batch_size": 128,
                **DEEP_SAD_PROTOCOL.estimator_params()}
    if name in ("devnet", "vime"):
        return {"epochs": sizes["deep_epochs"]}
    if name == "ssad":
        return {"max_train_samples": sizes["ssad_max_train"]}
    return {}


def build_configs(profile: str = "quick", datasets=None, contaminations=None, seeds=None,
                  methods=None, data_sources: dict[str, str] | None = None,
                  dads_protocol: str | DADSProtocol | None = None, **protocol_overrides) -> list[dict]:
    """Every cell of the grid; validates all inputs before anything runs. ``seeds=None``: the first
    profile-many seeds of the protocol's list (paper text 0, 1, ...; authors 1, 20, 42, ...)."""
    from semiad.dads.data import MULTICLASS_DATASETS

    sizes = PROFILE_SIZES[check_profile(profile)]
    proto = dads_protocol_named(dads_protocol)
    datasets = tuple(sizes["datasets"] if datasets is None else datasets)
    contaminations = tuple(sizes["contaminations"] if contaminations is None else contaminations)
    seeds = proto.grid_seeds(len(sizes["seeds"])) if seeds is None else tuple(seeds)
    methods = tuple(m.name for m in METHODS) if methods is None else tuple(methods)
    for ds in datasets:
        if ds not in MULTICLASS_DATASETS:
            raise ValueError(f"unknown dataset {ds!r}; choose from {MULTICLASS_DATASETS}")
    for c in contaminations:
        if not 0 <= c < 1:
            raise ValueError(f"contamination must be in [0, 1), got {c!r}")
    for m in methods:
        if m not in METHOD_LABELS:
            raise ValueError(f"unknown method {m!r}; choose from {sorted(METHOD_LABELS)}")
    if any((not isinstance(s, (int, np.integer))) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative integers, got {seeds}")
    protocol = default_protocol(**protocol_overrides)
    if sizes["max_train"] is not None:
        protocol["max_train"] = sizes["max_train"]
    sources = data_sources or {}

    def data_protocol(ds: str) -> dict:  # explicit overrides win over the DADS protocol's options
        options = {k: v for k, v in proto.data_options(ds).items() if k not in protocol_overrides}
        return {**protocol, **options}

    params = {m: method_params(m, sizes, proto) for m in methods}
    return [{"task": "dads", "dataset": ds, "data_source": sources.get(ds, "real"),
             "protocol": data_protocol(ds), "contamination": float(c), "seed": int(seed), "method": m,
             "params": params[m]}
            for ds in datasets for c in contaminations for seed in seeds for m in methods]


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
                  dads_protocol: str | DADSProtocol | None = None,
                  **protocol_overrides) -> tuple[pd.DataFrame, list[dict]]:
    """Run (or load from cache) the Figure 2 grid under ``dads_protocol``; return tidy results (with a
    ``protocol`` column naming it) and the raw records."""
    sizes = PROFILE_SIZES[check_profile(profile)]
    datasets = tuple(sizes["datasets"] if datasets is None else datasets)
    sources = dataset_sources(datasets, data_dir, on_missing)
    configs = build_configs(profile, datasets, contaminations, seeds, methods, sources,
                            dads_protocol=dads_protocol, **protocol_overrides)
    runtime = {"data_dir": None if data_dir is None else str(data_dir), "device": device,
               "on_missing": on_missing, "cache_root": cache_root}
    cost = {"dads": 0, "dplan": 1, "deep_sad": 2, "vime": 3, "devnet": 4, "ssad": 5}
    records = run_grid(dads_cell, configs, n_jobs=n_jobs, backend=backend, runtime=runtime,
                       cache_root=cache_root,
                       progress=progress, desc="DADS Fig. 2 cells",
                       priority=lambda c: cost.get(c["method"], 9))  # the RL agents first
    return records_to_frame(records).assign(protocol=dads_protocol_named(dads_protocol).name), records


# ---------------------------------------------------------------------------------------------
# notebook-facing summaries
def figure2_table(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Mean and std (over seeds) per dataset x contamination x method (AUC in %)."""
    sub = results[results["metric"] == metric]
    table = sub.groupby(["dataset", "contamination", "method"])["value"].agg(["mean", "std", "count"])
    table[["mean", "std"]] *= 100
    return table.round(2).reset_index()


def contamination_trend(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Per dataset and method: slope of AUC (points per 1% contamination) by least squares over all
    (contamination, seed) runs, with the p-value of a zero-slope test (scipy ``linregress``)."""
    rows = []
    sub = results[(results["metric"] == metric) & results["value"].notna()]
    for (ds, method), g in sub.groupby(["dataset", "method"]):
        if g["contamination"].nunique() < 2:
            continue
        fit = stats.linregress(g["contamination"] * 100, g["value"] * 100)
        drop = (g[g["contamination"] == g["contamination"].min()]["value"].mean()
                - g[g["contamination"] == g["contamination"].max()]["value"].mean()) * 100
        rows.append({"dataset": ds, "method": method, "slope_per_pct": fit.slope,
                     "p_value": fit.pvalue, "auc_drop_0_to_max": drop,
                     "declines": bool(fit.slope < 0 and fit.pvalue < 0.05)})
    return pd.DataFrame(rows).round(4)


def overall_ranking(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Mean AUC (%) per dataset and method over all contaminations and seeds, plus the rank."""
    sub = results[results["metric"] == metric]
    table = (sub.groupby(["dataset", "method"])["value"].mean() * 100).unstack("dataset")
    table["all datasets"] = table.mean(axis=1)
    return table.round(2).sort_values("all datasets", ascending=False)


def check_claims(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """The paper's two claims, evaluated on our results (True/False with the evidence)."""
    ranking = overall_ranking(results, metric)
    trend = contamination_trend(results, metric)
    rows = []
    if "DADS" in ranking.index:
        overall = ranking["all datasets"]
        best = overall.idxmax()
        rows.append({"claim": "DADS has the best overall AUC-ROC (mean over datasets)",
                     "holds": best == "DADS",
                     "evidence": f"best overall: {best} ({overall[best]:.1f}); DADS {overall['DADS']:.1f}"})
        for ds in [c for c in ranking.columns if c != "all datasets"]:
            winner = ranking[ds].idxmax()
            expected = "XGBoost" if ds == "annthyroid" else "DADS"
            source = "paper" if ds in PAPER_DATASETS else "paper's overall claim; substitute panel"
            rows.append({"claim": f"best on {ds}: {expected} ({source})", "holds": winner == expected,
                         "evidence": f"ours: {winner} ({ranking.loc[winner, ds]:.1f}), "
                         f"DADS {ranking.loc['DADS', ds]:.1f}"})
    if not trend.empty:
        others = trend[trend["method"] != "DADS"]
        dads = trend[trend["method"] == "DADS"]
        rows.append({"claim": "all methods except DADS decline as contamination grows",
                     "holds": bool(others["declines"].all()) and not bool(dads["declines"].any()),
                     "evidence": f"significant declines: {int(others['declines'].sum())}/{len(others)} "
                     f"baseline curves, {int(dads['declines'].sum())}/{len(dads)} DADS curves"})
    return pd.DataFrame(rows)


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
